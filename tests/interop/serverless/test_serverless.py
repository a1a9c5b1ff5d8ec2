#!/usr/bin/env python3
"""The original backend as closely as offline allows: serverless-offline 13
(API Gateway's WebSocket API and Lambda, emulated) running the design's
connection_handler (handler.py) behind route selection on
$request.body.action, and wssaudiochunksink speaking to it as the browser
speaker app does (role=speaker in the query, no acks: the backend never
answers).

One real-time speaker: pause and resume, mute and unmute, then the emulator
is killed (SIGKILL, with its handler processes) mid-stream and started again
on the same port. Asserts what must hold whatever the sink's delivery policy:
- every chunkIndex the sink produced reached the handler, or the sink
  reported it lost (stats); here none may be lost;
- duplicates are accounted for: no more than the sink says it replayed;
- the controls reached the handler; a listener's audio is not forwarded;
- the audio that reached the handler, ordered by chunkIndex with duplicates
  dropped, decodes without a decoder error to the length sent minus the
  muted time; so does what the handler forwarded;
- a chunk the handler did not forward is one it ran after its connection's
  $disconnect (the design's per-chunk role lookup; counted, printed).
Prints what arrival order costs (chunks out of order, decoder errors when
the forwarded audio is appended as it arrives, as the design's writer does).
"""

import base64
import json
import os
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "deploy"))

import interop  # noqa: E402

SLS = os.path.join(HERE, "node_modules", ".bin", "serverless")
SECONDS = 34.0
PAUSE = (4.0, 7.0)
MUTE = (10.0, 12.0)
KILL_AT = 14.0
SESSION = "offline-talk"


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            if line.endswith("\n"):
                out.append(json.loads(line))
    return out


def start_emulator(h, name, state, ports):
    env = {
        "WSSAC_BACKEND_DIR": state,
        # Serverless Framework v3 needs no login; keep it quiet and offline.
        "SLS_TELEMETRY_DISABLED": "1", "SLS_NOTIFICATIONS_MODE": "off",
        "SLS_DEPRECATION_DISABLE": "*", "SLS_INTERACTIVE_SETUP_DISABLE": "1",
        # The handler's python3.11 runtime: Debian's python3 first.
        "PATH": "/usr/bin:" + os.environ.get("PATH", ""),
    }
    p = h.spawn(name, [SLS, "offline", "start", "--host", "127.0.0.1", "--websocketPort", str(ports[0]),
                       "--httpPort", str(ports[1]), "--lambdaPort", str(ports[2])], env=env, cwd=HERE)
    h.wait_for(name + " to listen", lambda: "[websocket] listening" in h.read_log(name), 90, proc=p)
    return p


def ffmpeg_errors(h, path, name):
    h.run(name, ["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-"], timeout=60, check=False)
    return [line for line in h.read_log(name).splitlines() if line.strip()]


def listener_intrudes(port):
    """A listener's connection sends audio: the handler must not forward it."""
    import asyncio
    import websockets

    async def go():
        async with websockets.connect("ws://127.0.0.1:%d/?role=listener&sessionId=%s" % (port, SESSION)) as ws:
            await ws.send(json.dumps({"action": "audioChunk", "sessionId": SESSION, "chunkIndex": 99999,
                                      "audioData": "AAAA", "timestamp": 0, "format": "webm-opus",
                                      "originalSize": 3}))
            await asyncio.sleep(1.0)
    asyncio.run(go())


def body(h):
    def handled():
        return {c["chunkIndex"] for c in read_jsonl(os.path.join(state, "invocations.jsonl"))
                if c.get("action") == "audioChunk" and c["chunkIndex"] != 99999}

    state = h.path("backend")
    os.makedirs(state)
    ports = [interop.free_port() for _ in range(3)]
    emu = start_emulator(h, "emulator", state, ports)
    listener_intrudes(ports[0])

    cfg = {"deadline": SECONDS + 150, "speakers": [{
        "name": SESSION, "session": SESSION, "seconds": SECONDS, "freq": 440,
        "location": "ws://127.0.0.1:%d/?role=speaker&sessionId=%s" % (ports[0], SESSION),
        "ref": h.path("sent.webm"),
        # Reconnect within a few seconds of the emulator's return, and wait
        # at EOS for the backlog of a slow restart (seconds) to drain.
        "props": {"max-retry-delay": 4000, "drain-timeout": 90000},
        "actions": [[PAUSE[0], "paused", True], [PAUSE[1], "paused", False],
                    [MUTE[0], "muted", True], [MUTE[1], "muted", False]]}]}
    with open(h.path("speaker.json"), "w") as f:
        json.dump(cfg, f)
    drv = h.spawn("speaker", ["/usr/bin/python3", os.path.join(HERE, "..", "..", "deploy", "speakers.py"),
                              h.path("speaker.json"), h.path("speaker-result.json")],
                  env={"SPEAKERS_LOG_SENT": "1"})
    h.wait_for("the speaker to play", lambda: "speakers: playing" in h.read_log("speaker"), 60, proc=drv)
    t_play = time.time()
    time.sleep(KILL_AT)
    # Kill when the handler has caught up with what the sink sent (all but
    # the newest chunk): a gateway that dies with invocations in progress
    # loses them after the client's bytes were delivered, which no client can
    # see without acks. What is left in flight is the sink's to replay.
    def sent_so_far():
        return [int(line.split()[2]) for line in h.read_log("speaker").splitlines() if line.startswith("sent ")]

    def controls_handled():
        return {c.get("action") for c in read_jsonl(os.path.join(state, "invocations.jsonl"))}

    def caught_up():
        sent = sent_so_far()
        # The four controls were sent before KILL_AT: their invocations too.
        return (sent and handled() >= set(range(max(sent)))
                and controls_handled() >= {"pauseBroadcast", "resumeBroadcast", "muteBroadcast",
                                           "unmuteBroadcast"})
    h.wait_for("the handler to catch up before the kill", caught_up, 90, proc=drv, interval=0.05)
    t_kill = time.time()
    h.stop(emu, sig=signal.SIGKILL)
    emu = start_emulator(h, "emulator-restarted", state, ports)
    t_back = time.time()
    interop.log("emulator killed %.1f s in, back after %.1f s" % (t_kill - t_play, t_back - t_kill))
    h.wait_for("the speaker to end", lambda: drv.poll() is not None, SECONDS + 120)
    # A burst starts one handler process per message (cold starts, seconds
    # each on a busy machine): wait until every chunk sent was handled, or
    # until no invocation has ended for 45 s.
    last = [0, time.time()]

    def settled():
        n = os.path.getsize(os.path.join(state, "invocations.jsonl"))
        if n != last[0]:
            last[:] = [n, time.time()]
        sent = sent_so_far()
        return (sent and handled() >= set(sent)) or time.time() - last[1] > 45.0
    h.wait_for("the emulator's invocations to end", settled, 240, interval=0.5)
    with open(h.path("speaker-result.json")) as f:
        sp = json.load(f)["speakers"][0]
    stats = sp["stats"]
    interop.log("sink stats: %s" % json.dumps(stats, sort_keys=True))
    if not sp["eos"] or sp["errors"]:
        raise interop.Failure("the speaker did not end cleanly: %s" % sp["errors"])

    calls = [c for c in read_jsonl(os.path.join(state, "invocations.jsonl"))
             if c.get("action") == "audioChunk" and c.get("sessionId") == SESSION
             and c["chunkIndex"] != 99999]  # the listener's
    forwarded = [f for f in read_jsonl(os.path.join(state, "forwarded.jsonl")) if f["sessionId"] == SESSION]
    controls = [c["action"] for c in read_jsonl(os.path.join(state, "controls.jsonl"))]
    received = [c["chunkIndex"] for c in calls]
    produced = max(sp["sent"]) + 1 if sp["sent"] else 0
    # Every loss the sink knows of: dropped (backlog bound, pause, oversize),
    # given up after max-attempts, or still unconfirmed at the end.
    lost_reported = (stats.get("chunks-dropped", 0) + stats.get("chunks-given-up", 0)
                     + stats.get("chunks-unconfirmed", 0))
    missing = sorted(set(range(produced)) - set(received))
    dups = len(received) - len(set(received))
    out_of_order = sum(1 for a, b in zip(received, received[1:]) if b < a)
    interop.log("figures: %d chunks produced, %d invocations, %d distinct, %d duplicates, %d arrived "
                "after a later chunk, %d missing, sink reported %d lost and %s replayed, %d reconnects"
                % (produced, len(received), len(set(received)), dups, out_of_order, len(missing),
                   lost_reported, stats.get("chunks-replayed"), stats.get("reconnects", 0)))

    failures = []
    if any(f["chunkIndex"] == 99999 for f in forwarded):
        failures.append("audio from a listener's connection was forwarded")
    if missing and len(missing) > lost_reported:
        failures.append("%d chunks never reached the handler and the sink reported %d lost: %s"
                        % (len(missing), lost_reported, missing[:20]))
    if missing:
        failures.append("chunks lost: %s" % missing[:20])
    if dups > stats.get("chunks-replayed", 0):
        failures.append("%d duplicates, more than the %d chunks the sink says it replayed"
                        % (dups, stats.get("chunks-replayed", 0)))
    for action in ("pauseBroadcast", "resumeBroadcast", "muteBroadcast", "unmuteBroadcast"):
        if action not in controls:
            failures.append("%s did not reach the handler (got %s)" % (action, controls))
    # The design's handler looks the connection up for every chunk; a chunk
    # whose invocation runs after its connection's $disconnect (invocations
    # are concurrent) is dropped as "non-speaker". A backend finding, counted.
    not_forwarded = sorted(set(received) - {f["chunkIndex"] for f in forwarded})
    gone = [e for e in read_jsonl(os.path.join(state, "log.jsonl"))
            if e.get("message") == "Audio chunk from non-speaker connection" and e.get("role") == "unknown"]
    interop.log("figures: the handler dropped %d chunks it ran after their connection's $disconnect: %s"
                % (len(not_forwarded), not_forwarded))
    if len(not_forwarded) > len(gone):
        failures.append("chunks handled but not forwarded, beyond the disconnect race: %s" % not_forwarded)

    # The stream writer's job, done right: order by chunkIndex, drop
    # duplicates; once for what reached the handler, once for what it forwarded.
    def ordered_file(name, records):
        by_index = {}
        for r in records:
            by_index.setdefault(r["chunkIndex"], r["audioData"])
        path = h.path(name)
        with open(path, "wb") as out:
            for i in sorted(by_index):
                out.write(base64.b64decode(by_index[i]))
        return path
    handled_webm = ordered_file("handled-ordered.webm", calls)
    ordered = ordered_file("forwarded-ordered.webm", forwarded)
    arrival = h.path("forwarded-arrival.webm")
    with open(arrival, "wb") as out:
        for f in forwarded:
            out.write(base64.b64decode(f["audioData"]))
    errors = ffmpeg_errors(h, handled_webm, "ffmpeg-handled") + ffmpeg_errors(h, ordered, "ffmpeg-ordered")
    arrival_errors = ffmpeg_errors(h, arrival, "ffmpeg-arrival")
    got = len(deploylib_decode(h, handled_webm)) / 16000.0
    fwd = len(deploylib_decode(h, ordered)) / 16000.0
    sent = len(deploylib_decode(h, h.path("sent.webm"))) / 16000.0
    muted = MUTE[1] - MUTE[0]
    interop.log("figures: ordered by chunkIndex: what reached the handler %.2f s, what it forwarded %.2f s, "
                "%d decoder errors; forwarded as arrived: %d decoder errors; sent %.2f s, %.1f s of it muted"
                % (got, fwd, len(errors), len(arrival_errors), sent, muted))
    if errors:
        failures.append("the ordered audio gives decoder errors: %s" % errors[:3])
    # Muting takes effect at a chunk boundary: within one chunk each way.
    if abs((sent - muted) - got) > 0.6:
        failures.append("the audio that reached the handler decodes to %.2f s; sent %.2f s minus %.1f s muted"
                        % (got, sent, muted))
    if failures:
        raise interop.Failure("\n".join(failures))


def deploylib_decode(h, path):
    import deploylib
    return deploylib.decode_to_samples(h, path, "decode-" + os.path.basename(path))


if __name__ == "__main__":
    interop.require_tools("gst-launch-1.0", "ffmpeg", "node")
    if not os.path.exists(SLS):
        print("SKIP: serverless is not installed in %s (run scripts/install-deps.sh)" % HERE, flush=True)
        sys.exit(interop.SKIP)
    interop.main("serverless-offline", body, deadline_s=SECONDS + 400)
