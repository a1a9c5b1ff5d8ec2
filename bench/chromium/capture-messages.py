#!/usr/bin/python3
"""Writes the audioChunk messages the browser speaker app's own code makes in
Chromium, one file each, for `codecbench --share` (docs/performance.md,
"Decode and encode per message").

The page runs tests/interop/chromium/audio-stream-service.js unchanged: its
handleAudioChunk() (FileReader base64, the app's JSON.stringify) is fed blobs
of MediaRecorder's sizes (500-830 bytes, the first one 4 KB with the
header) and its WebSocket is an object that keeps what send() is given.
Driven over the DevTools protocol; needs Debian's chromium and
python3-websockets.

usage: /usr/bin/python3 bench/chromium/capture-messages.py OUT_DIR [COUNT]
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICE = os.path.join(HERE, "..", "..", "tests", "interop", "chromium", "audio-stream-service.js")

DRIVER = """
(async () => {
  const sent = [];
  const ws = { readyState: WebSocket.OPEN, send: (text) => sent.push(text) };
  const service = new AudioStreamService({ websocket: ws, sessionId: 'session-' + Date.now() + '-' + Math.random().toString(36).slice(2, 8) });
  service.isStreaming = true;
  for (let i = 0; i < %d; i++) {
    const bytes = new Uint8Array(i == 0 ? 4000 : 500 + (i * 37) %% 331);
    crypto.getRandomValues(bytes);
    service.handleAudioChunk(new Blob([bytes], { type: 'audio/webm;codecs=opus' }));
  }
  while (sent.length < %d) await new Promise((r) => setTimeout(r, 20));
  return JSON.stringify(sent);
})()
"""


async def evaluate(ws_url, expression):
    async with websockets.connect(ws_url, max_size=None) as ws:
        await ws.send(json.dumps({"id": 1, "method": "Runtime.evaluate",
                                  "params": {"expression": expression, "awaitPromise": True,
                                             "returnByValue": True}}))
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("id") == 1:
                return reply


def main():
    out_dir = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    profile = tempfile.mkdtemp(prefix="capture-messages-")
    browser = subprocess.Popen(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                                "--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if time.time() > deadline:
                sys.exit("capture-messages: chromium did not start")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%s/json" % port))
        ws_url = [t for t in targets if t["type"] == "page"][0]["webSocketDebuggerUrl"]
        source = open(SERVICE).read() + "\nwindow.AudioStreamService = AudioStreamService;\n"
        reply = asyncio.run(evaluate(ws_url, source + DRIVER % (count, count)))
        if "exceptionDetails" in reply.get("result", {}):
            sys.exit("capture-messages: %s" % reply["result"]["exceptionDetails"])
        messages = json.loads(reply["result"]["result"]["value"])
        os.makedirs(out_dir, exist_ok=True)
        for i, text in enumerate(messages):
            with open(os.path.join(out_dir, "chromium-%03d" % i), "w") as f:
                f.write(text)
        print("capture-messages: %d messages from Chromium in %s" % (len(messages), out_dir))
    finally:
        browser.kill()
        browser.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
