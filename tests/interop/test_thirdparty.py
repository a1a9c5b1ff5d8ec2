"""Interop 1: our sink streams a spoken sample to a recorder written on someone
else's WebSocket server library (Python `websockets`, or Node `ws`).

Every recorded message must match the browser speaker app's schema exactly (fields and JSON
types), chunk indices must run 0, 1, 2, ... and the base64-decoded audio,
concatenated, must decode with the browser speaker app's Phase 2 tool (ffmpeg) without a word
of error output, to the WAV's duration within 40 ms.

usage: test_thirdparty.py python|node
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402
from interop import Failure, log  # noqa: E402

DURATION_TOLERANCE_S = 0.040


def body(h, which):
    speech = interop.make_speech(h, h.path("speech.wav"))
    speech_s = interop.wav_duration(speech)
    log("speech sample: %.3f s (%s)" % (speech_s, interop.wav_info(speech)))

    port_file = h.path("port")
    records_path = h.path("messages.jsonl")
    if which == "python":
        argv = ["/usr/bin/python3", os.path.join(interop.HERE, "recorder.py")]
        env = None
    else:
        argv = ["node", os.path.join(interop.HERE, "recorder.js")]
        # Debian's node-ws lives in /usr/share/nodejs; a local npm install wins.
        env = {"NODE_PATH": os.pathsep.join(
            [os.path.join(interop.HERE, "node_modules"), "/usr/share/nodejs"])}
    argv += ["--port-file", port_file, "--out", records_path, "--timeout", "120"]
    rec = h.spawn("recorder", argv, env=env)
    port = int(h.wait_for("the recorder's port", lambda: os.path.exists(port_file) and
                          open(port_file).read(), 30, proc=rec))
    log(h.read_log("recorder").strip())

    session = "interop-%s-%d" % (which, os.getpid())
    t_start = time.time() * 1000
    h.run("speaker", ["gst-launch-1.0", "-q", "filesrc", "location=" + speech, "!", "wavparse", "!",
                      "audioconvert", "!", "audioresample", "!", "audio/x-raw,rate=16000,channels=1", "!",
                      "opusenc", "bitrate=16000", "!",
                      "webmmux", "streamable=true", "min-cluster-duration=250000000", "!",
                      "wssaudiochunksink", "location=ws://127.0.0.1:%d/ws" % port,
                      "session-id=" + session, "end-session-on-eos=true", "sync=true"],
          timeout=60)
    try:
        rc = rec.wait(timeout=20)
    except Exception:
        raise Failure("the recorder did not see endSession and a close:\n" + h.tail("recorder"))
    t_end = time.time() * 1000
    if rc != 0:
        raise Failure("the recorder exited with %d:\n%s" % (rc, h.tail("recorder")))

    with open(records_path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    chunks, end = interop.check_messages(records, session, t_start, t_end)
    if end is None:
        raise Failure("no endSession message")
    if end["reason"] != "end of stream":
        raise Failure("endSession reason %r" % end["reason"])
    log("%d messages: %d audioChunk (indices 0..%d) + endSession, all exactly the original protocol's schema"
        % (len(records), len(chunks), len(chunks) - 1))

    webm = h.path("chunks.webm")
    with open(webm, "wb") as f:
        for c in chunks:
            f.write(c["_audio"])
    pcm = h.path("out.pcm")
    rc = h.run("ffmpeg", ["ffmpeg", "-nostdin", "-v", "error", "-i", webm, "-f", "s16le", "-ar", "16000",
                          "-ac", "1", pcm], timeout=60, check=False)
    err = h.read_log("ffmpeg").strip()
    if rc != 0 or err:
        raise Failure("ffmpeg exited with %d and said:\n%s" % (rc, err))
    pcm_s = os.path.getsize(pcm) / 2 / 16000.0
    diff = pcm_s - speech_s
    log("ffmpeg decoded %d bytes of WebM to %.3f s of PCM; WAV %.3f s; difference %+.1f ms"
        % (os.path.getsize(webm), pcm_s, speech_s, diff * 1000))
    if abs(diff) > DURATION_TOLERANCE_S:
        raise Failure("decoded duration %.3f s differs from the WAV's %.3f s by more than %d ms"
                      % (pcm_s, speech_s, DURATION_TOLERANCE_S * 1000))

    # Envelope check too: the decoded audio is the speech, not just its length.
    env_ref = interop.rms_envelope(interop.read_wav_16k_mono(h, speech))
    with open(pcm, "rb") as f:
        env_got = interop.rms_envelope(interop.pcm_s16(f.read()))
    r, lag = interop.best_lag_correlation(env_ref, env_got, -25, 25)
    log("envelope correlation r = %.3f at lag %+d ms" % (r, lag * 20))
    if r < 0.9:
        raise Failure("decoded audio does not follow the speech (r = %.3f)" % r)

    sizes = [c["originalSize"] for c in chunks]
    times = [c["_t"] for c in chunks]
    intervals = [round(b - a) for a, b in zip(times, times[1:])]
    # The first two chunks carry the WebM header; steady state is what follows.
    log("chunk sizes (bytes): all %s" % interop.stats(sizes))
    log("chunk sizes (bytes) from chunk 1: %s" % interop.stats(sizes[1:]))
    log("chunk 0 (with the 328-byte WebM header): %d bytes" % sizes[0])
    log("arrival intervals (ms): %s" % interop.stats(intervals))
    print("RESULT " + json.dumps({
        "test": "thirdparty-" + which, "chunks": len(chunks), "speech_s": round(speech_s, 3),
        "decoded_s": round(pcm_s, 3), "diff_ms": round(diff * 1000, 1), "r": round(r, 3),
        "sizes": sizes, "intervals_ms": intervals}), flush=True)


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "python"
    tools = ["gst-launch-1.0", "espeak-ng", "sox", "ffmpeg"]
    if which == "node":
        tools.append("node")
    interop.require_tools(*tools)
    interop.main("thirdparty-" + which, lambda h: body(h, which), deadline_s=240)
