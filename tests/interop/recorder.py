"""A WebSocket recorder on the Python `websockets` library (Debian's
python3-websockets): accepts one speaker, appends every message it receives to
a JSON-lines file ({"t": ms since the Unix epoch, "binary": bool, "text": str}),
and exits once the speaker has sent endSession and closed, or at --timeout.

usage: recorder.py --port-file FILE --out FILE [--timeout S]
"""

import argparse
import asyncio
import json
import os
import sys
import time

import websockets


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()

    done = asyncio.get_running_loop().create_future()
    out = open(args.out, "w")

    async def handler(ws, path=None):
        ended = False
        try:
            async for msg in ws:
                binary = isinstance(msg, bytes)
                rec = {"t": time.time() * 1000.0, "binary": binary,
                       "text": msg.decode("latin-1") if binary else msg}
                out.write(json.dumps(rec) + "\n")
                out.flush()
                if not binary and '"endSession"' in msg:
                    ended = True
        except websockets.ConnectionClosed:
            pass
        if ended and not done.done():
            done.set_result(True)

    async with websockets.serve(handler, "127.0.0.1", 0, max_size=4 * 1024 * 1024) as server:
        port = server.sockets[0].getsockname()[1]
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.rename(tmp, args.port_file)
        print("recorder (websockets %s) listening on 127.0.0.1:%d" % (websockets.__version__, port),
              flush=True)
        try:
            await asyncio.wait_for(done, args.timeout)
        except asyncio.TimeoutError:
            print("recorder: timed out without endSession", flush=True)
            sys.exit(2)
    out.close()
    print("recorder: session ended", flush=True)


asyncio.run(main())
