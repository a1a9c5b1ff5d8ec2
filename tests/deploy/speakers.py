#!/usr/bin/python3
"""Runs many real-time speakers (wssaudiochunksink pipelines) in one process.

    speakers.py CONFIG.json RESULT.json

CONFIG: {"speakers": [{"name", "location", "session", "seconds", "freq",
"ref" (a file receiving the same WebM the sink gets), "props" (more sink
properties), "actions": [[seconds_after_start, property, value], ...]}],
"deadline": seconds}. Each speaker is `audiotestsrc is-live=true` (a sine of
"freq" Hz for "seconds") ! opusenc ! webmmux ! tee ! wssaudiochunksink, the
tee's other branch writing "ref". Prints "speakers: playing" once all play,
then waits for every pipeline's EOS (or error, or the deadline), and writes
RESULT: per speaker whether it reached EOS, its errors and warnings, the
sink's final `stats`, every chunkIndex the sink reported sent, and its
connection state changes with their wall-clock times."""

import json
import os
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

# SPEAKERS_LOG_SENT=1: also print "sent NAME INDEX" as each chunk goes out.
LOG_SENT = os.environ.get("SPEAKERS_LOG_SENT") == "1"
PIPELINE = ("audiotestsrc is-live=true num-buffers={buffers} samplesperbuffer=320 wave=sine freq={freq} "
            "! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000 "
            "! webmmux streamable=true min-cluster-duration=250000000 ! tee name=t "
            "t. ! queue ! wssaudiochunksink name=sink post-messages=true "
            "t. ! queue ! filesink name=ref")


def value(v):
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    return str(v)


def structure_dict(s):
    return {s.nth_field_name(i): value(s.get_value(s.nth_field_name(i))) for i in range(s.n_fields())}


class Speaker:
    def __init__(self, spec, loop, on_done):
        self.spec = spec
        self.result = {"name": spec["name"], "session": spec["session"], "eos": False, "errors": [],
                       "warnings": [], "sent": [], "connections": [], "stats": {}}
        self.done = False
        self.on_done = on_done
        self.pipeline = Gst.parse_launch(PIPELINE.format(buffers=int(spec["seconds"] * 50),
                                                         freq=spec.get("freq", 440)))
        self.sink = self.pipeline.get_by_name("sink")
        self.sink.set_property("location", spec["location"])
        self.sink.set_property("session-id", spec["session"])
        for k, v in spec.get("props", {}).items():
            Gst.util_set_object_arg(self.sink, k, str(v))
        self.pipeline.get_by_name("ref").set_property("location", spec["ref"])
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    def on_message(self, bus, msg):
        t = msg.type
        if t == Gst.MessageType.EOS:
            self.result["eos"] = True
            self.finish()
        elif t == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            self.result["errors"].append(err.message)
            self.finish()
        elif t == Gst.MessageType.WARNING:
            err, dbg = msg.parse_warning()
            self.result["warnings"].append(err.message)
        elif t == Gst.MessageType.ELEMENT and msg.src == self.sink:
            s = msg.get_structure()
            if s.get_name() == "wss-audio-chunk-sent" and s.has_field("chunk-index"):
                self.result["sent"].append(s.get_value("chunk-index"))
                if LOG_SENT:
                    print("sent %s %d" % (self.spec["name"], s.get_value("chunk-index")), flush=True)
            elif s.get_name() == "wss-audio-chunk-connection":
                self.result["connections"].append([time.time(), s.get_value("state")])

    def finish(self):
        if self.done:
            return
        self.done = True
        self.result["stats"] = structure_dict(self.sink.get_property("stats"))
        self.result["t_end"] = time.time()
        self.pipeline.set_state(Gst.State.NULL)
        self.on_done()


def main():
    Gst.init(None)
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    loop = GLib.MainLoop()
    left = [len(cfg["speakers"])]

    def one_done():
        left[0] -= 1
        if left[0] == 0:
            loop.quit()

    speakers = [Speaker(s, loop, one_done) for s in cfg["speakers"]]
    t0 = time.time()
    for sp in speakers:
        if sp.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            sp.result["errors"].append("could not start")
            sp.finish()
        for at, prop, val in sp.spec.get("actions", []):
            GLib.timeout_add(int(at * 1000), lambda s=sp, p=prop, v=val: (
                (not s.done) and s.sink.set_property(p, v)) and False)
    print("speakers: playing", flush=True)

    def deadline():
        for sp in speakers:
            if not sp.done:
                sp.result["errors"].append("no EOS before the deadline")
                sp.finish()
        return False
    GLib.timeout_add_seconds(int(cfg.get("deadline", 120)), deadline)
    if left[0] > 0:
        loop.run()
    out = {"t0": t0, "speakers": [sp.result for sp in speakers]}
    with open(sys.argv[2], "w") as f:
        json.dump(out, f, indent=1)
    print("speakers: done", flush=True)


if __name__ == "__main__":
    main()
