#!/usr/bin/env python3
"""wssaudiochunk-join on parts laid out as ingest servers write them, made
from real WebM/Opus: two shards overlapping (one cut off without summary, its
last index line torn), a session id run twice (two streams), and a gap.
Each joined recording must be the sent stream byte for byte and decode to the
same samples."""

import os
import sys

import deploylib
import interop

JOIN = sys.argv[1]
SID_A = "0123456789abcdef0123456789abcdef"
SID_B = "fedcba9876543210fedcba9876543210"


def check_same_audio(h, got_wav, ref_samples, what):
    got = interop.read_wav_16k_mono(h, got_wav)
    if len(got) != len(ref_samples) or got != ref_samples:
        raise interop.Failure("%s: joined WAV has %d samples, the sent stream decodes to %d%s"
                              % (what, len(got), len(ref_samples),
                                 "" if len(got) != len(ref_samples) else " (different samples)"))


def body(h):
    src = h.path("sent.webm")
    data = deploylib.make_webm(h, src, 6.0)
    header, chunks = deploylib.split_webm(data)
    # As the sink sends them: chunk 0 begins with the stream header; a part
    # starting later holds the header the sink re-sent with its first chunk.
    chunks[0] = header + chunks[0]
    n = len(chunks)
    interop.log("sent stream: %d-byte header, %d chunks" % (len(header), n))
    ref = deploylib.decode_to_samples(h, src, "decode-sent")

    # 1. A shard died after chunk k+2 (cut off: no summary, a torn last line);
    #    the speaker replayed k..k+2 to another shard, which wrote the rest.
    k = n // 3
    a, b, out = h.path("shard-a"), h.path("shard-b"), h.path("joined")
    deploylib.write_part(a, "talk", [("C", i, chunks[i], SID_A) for i in range(k + 3)],
                         torn_tail=b"\x1f\x43")
    deploylib.write_part(b, "talk", [("H", header, SID_A)] +
                         [("C", i, chunks[i], SID_A) for i in range(k, n)],
                         summary={"sessionId": "talk", "part": 1, "firstChunkIndex": k,
                                  "lastChunkIndex": n - 1, "streams": [SID_A], "recovered": False})
    # 2. Session "again" run twice: stream A (the 6 s), then stream B (3 s),
    #    the second run's first chunks in a later part of the same shard.
    src2 = h.path("rerun.webm")
    header2, chunks2 = deploylib.split_webm(deploylib.make_webm(h, src2, 3.0, freq=660))
    chunks2[0] = header2 + chunks2[0]
    ref2 = deploylib.decode_to_samples(h, src2, "decode-rerun")
    deploylib.write_part(b, "again", [("C", i, chunks[i], SID_A) for i in range(n)] +
                         [("C", 0, chunks2[0], SID_B)],
                         summary={"sessionId": "again", "part": 1, "streams": [SID_A, SID_B]})
    deploylib.write_part(b, "again.part2", [("H", header2, SID_B)] +
                         [("C", i, chunks2[i], SID_B) for i in range(1, len(chunks2))],
                         summary={"sessionId": "again", "part": 2, "streams": [SID_B]})
    # 3. Chunks 3 and 4 were never recorded anywhere.
    deploylib.write_part(a, "gappy", [("C", i, chunks[i], "-") for i in range(n) if i not in (3, 4)],
                         summary={"sessionId": "gappy", "part": 1, "streams": ["-"]})

    reports = deploylib.run_join(h, JOIN, [a, b], out)
    if sorted(reports) != ["again", "gappy", "talk"]:
        raise interop.Failure("sessions joined: %s" % sorted(reports))

    talk = reports["talk"]
    parts = sorted(talk["parts"], key=lambda p: p["firstChunkIndex"])
    if len(parts) != 2 or talk["overlapping"] != 3 or talk["conflicts"] != 0:
        raise interop.Failure("talk: %s" % talk)
    if (parts[0]["finalized"], parts[0]["firstChunkIndex"], parts[0]["lastChunkIndex"],
            parts[0]["unreadable"]) != (False, 0, k + 2, 1):
        raise interop.Failure("talk: the cut-off part is reported as %s" % parts[0])
    if (parts[1]["finalized"], parts[1]["firstChunkIndex"], parts[1]["lastChunkIndex"]) != (True, k, n - 1):
        raise interop.Failure("talk: the second part is reported as %s" % parts[1])
    if parts[0]["used"] + parts[1]["used"] != n or talk["streams"][0]["gaps"]:
        raise interop.Failure("talk: %s" % talk)
    with open(talk["streams"][0]["file"], "rb") as f:
        if f.read() != data:
            raise interop.Failure("talk: the joined WebM is not the sent stream")
    check_same_audio(h, talk["wav"], ref, "talk")

    again = reports["again"]
    if [s["streamId"] for s in again["streams"]] != [SID_A, SID_B]:
        raise interop.Failure("again: streams %s" % again["streams"])
    if [os.path.basename(s["file"]) for s in again["streams"]] != ["again.s1.webm", "again.s2.webm"]:
        raise interop.Failure("again: stream files %s" % again["streams"])
    with open(again["streams"][1]["file"], "rb") as f:
        if f.read() != b"".join(chunks2):
            raise interop.Failure("again: the second run's WebM is not what was sent")
    check_same_audio(h, again["wav"], ref + ref2, "again")

    gappy = reports["gappy"]
    if gappy["streams"][0]["gaps"] != [[3, 4]]:
        raise interop.Failure("gappy: gaps %s" % gappy["streams"][0]["gaps"])
    if "chunks 3-4 missing in every part" not in h.read_log("join"):
        raise interop.Failure("the gap is not in the tool's output:\n" + h.tail("join"))
    interop.log(h.read_log("join"))

    # A stream with neither chunk 0 nor a recorded header is not joined silently.
    deploylib.write_part(h.path("bad"), "broken", [("C", 1, chunks[1], "-")],
                         summary={"sessionId": "broken", "part": 1})
    r = deploylib.run_join(h, JOIN, [h.path("bad")], h.path("joined-bad"), expect_rc=1, name="join-bad")
    if r["broken"]["ok"] or not r["broken"]["problems"]:
        raise interop.Failure("a stream without header was reported as %s" % r["broken"])


if __name__ == "__main__":
    interop.require_tools("gst-launch-1.0")
    interop.main("join", body, deadline_s=120)
