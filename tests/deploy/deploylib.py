"""Helpers of the deploy suite: real WebM made by GStreamer, cut into the
chunks a sink sends (one WebM cluster each), written as the parts an ingest
server records (STEM.webm + STEM.chunks [+ STEM.json]), and decoding for
comparison. The harness (processes, deadline, scratch directory) is the
interop suite's."""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import interop  # noqa: E402

CLUSTER_ID = b"\x1f\x43\xb6\x75"
TIMECODE_ID = 0xE7


def _vint_len(first_byte):
    for n in range(8):
        if first_byte & (0x80 >> n):
            return n + 1
    return 0


def split_webm(data):
    """(header, [cluster bytes...]) of a streamable webmmux file: the header is
    everything before the first Cluster; each cluster runs to the next one."""
    starts = []
    pos = data.find(CLUSTER_ID)
    while pos >= 0:
        after = pos + len(CLUSTER_ID)
        n = _vint_len(data[after]) if after < len(data) else 0
        # A Cluster's first child is its Timecode: tells a real cluster from
        # the same four bytes inside Opus data.
        if n and after + n < len(data) and data[after + n] == TIMECODE_ID:
            starts.append(pos)
        pos = data.find(CLUSTER_ID, pos + 1)
    if not starts:
        raise interop.Failure("no WebM cluster found")
    chunks = [data[a:b] for a, b in zip(starts, starts[1:] + [len(data)])]
    return data[:starts[0]], chunks


def make_webm(h, path, seconds, freq=440):
    """A WebM/Opus file as the sink's pipeline makes it (250 ms clusters)."""
    buffers = int(seconds * 50)
    h.run("make-" + os.path.basename(path),
          ["gst-launch-1.0", "-q", "audiotestsrc", "num-buffers=%d" % buffers, "samplesperbuffer=320",
           "freq=%d" % freq, "wave=sine", "!", "audio/x-raw,rate=16000,channels=1", "!",
           "opusenc", "bitrate=16000", "!", "webmmux", "streamable=true",
           "min-cluster-duration=250000000", "!", "filesink", "location=" + path], timeout=60)
    with open(path, "rb") as f:
        return f.read()


def write_part(directory, stem, pieces, summary=None, torn_tail=None):
    """Writes a part: pieces are ("H", bytes, stream) or ("C", index, bytes,
    stream) in the order the server wrote them."""
    os.makedirs(directory, exist_ok=True)
    media = bytearray()
    lines = []
    for p in pieces:
        if p[0] == "H":
            lines.append("H %d %d %s\n" % (len(media), len(p[1]), p[2]))
            media += p[1]
        else:
            lines.append("C %d %d %d %s\n" % (p[1], len(media), len(p[2]), p[3]))
            media += p[2]
    if torn_tail is not None:
        media += torn_tail
        lines.append("C 9999 %d %d" % (len(media) - len(torn_tail), len(torn_tail)))
    with open(os.path.join(directory, stem + ".webm"), "wb") as f:
        f.write(media)
    with open(os.path.join(directory, stem + ".chunks"), "w") as f:
        f.write("".join(lines))
    if summary is not None:
        with open(os.path.join(directory, stem + ".json"), "w") as f:
            json.dump(summary, f)


def decode_to_samples(h, path, name):
    """16 kHz mono S16 samples of a WebM/Opus file, decoded by GStreamer."""
    wav = path + ".ref.wav"
    h.run(name, ["gst-launch-1.0", "-q", "filesrc", "location=" + path, "!", "matroskademux", "!",
                 "opusdec", "!", "audioconvert", "!", "audioresample", "!",
                 "audio/x-raw,format=S16LE,rate=16000,channels=1", "!", "wavenc", "!",
                 "filesink", "location=" + wav], timeout=60)
    return interop.read_wav_16k_mono(h, wav)


def run_join(h, join_exe, dirs, out, expect_rc=0, name="join"):
    rc = h.run(name, [join_exe, "--output-dir", out] + list(dirs), timeout=120, check=False)
    if rc != expect_rc:
        raise interop.Failure("wssaudiochunk-join exited %d, expected %d:\n%s"
                              % (rc, expect_rc, h.tail(name)))
    reports = {}
    for n in sorted(os.listdir(out)):
        if n.endswith(".join.json"):
            with open(os.path.join(out, n)) as f:
                r = json.load(f)
            reports[r["sessionId"]] = r
    return reports


class Skip(Exception):
    """The test cannot run on this build; the reason is printed."""


def main(name, body, deadline_s):
    """interop.main, plus Skip: exit 77 (meson's skipped) with the reason."""
    def guarded(h):
        try:
            body(h)
        except Skip as e:
            h.close(True)
            print("SKIP: %s" % e, flush=True)
            os._exit(interop.SKIP)
    interop.main(name, guarded, deadline_s)
