#!/usr/bin/python3
"""speaker_controls.py: wssaudiochunksink embedded in a Python (PyGObject)
application; the same timeline as speaker-controls.cpp.

    GST_PLUGIN_PATH=build/ext/wssaudiochunk examples/speaker_controls.py \\
        ws://127.0.0.1:8080/ws [--session-id ID] [--file PATH] [--seconds N]

Streams a live test tone (or a file, paced in real time) and, counted from
the start of the stream: pauses at 1 s (action signal), resumes at 2 s
(property), mutes at 3 s (property), unmutes at 4 s (signal), and ends the
session at N s (signal "end-session"). Prints the bus messages
(wss-audio-chunk-sent, -transmitting, -connection, -stream-start/-stop) and
the stats property once a second. Exit status 0 when the session ended
cleanly with every control seen on the bus, 1 otherwise, 2 on a wrong
command line or when the plugin cannot be found.

Needs Debian's PyGObject: python3-gi and gir1.2-gstreamer-1.0
(scripts/install-deps.sh), and Debian's own /usr/bin/python3, which the
first line names: a virtualenv, pyenv or conda python3 does not see Debian's
packages.
"""

import argparse
import sys

try:
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import GLib, Gst  # noqa: E402
except (ImportError, ValueError) as e:
    print("speaker_controls.py: PyGObject for GStreamer is missing (%s).\n"
          "Install Debian's python3-gi and gir1.2-gstreamer-1.0, and run the script with Debian's\n"
          "/usr/bin/python3 (./examples/speaker_controls.py does): a virtualenv, pyenv or conda\n"
          "python3 does not see Debian's packages." % e, file=sys.stderr)
    sys.exit(2)


class Example:
    def __init__(self, args):
        self.args = args
        self.loop = GLib.MainLoop()
        self.started = False
        self.eos = False
        self.error = False
        self.chunks = 0
        self.transmitting = []
        self.timers = []

        # 16 kHz mono, Opus at 16 kbit/s in WebM with 250 ms clusters: the
        # browser speaker app's capture format.
        source = ("filesrc name=file ! decodebin ! audioconvert ! audioresample" if args.file
                  else "audiotestsrc is-live=true wave=sine freq=440 volume=0.3")
        self.pipeline = Gst.parse_launch(
            source + " ! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000"
            " ! webmmux streamable=true min-cluster-duration=250000000 ! wssaudiochunksink name=sink post-messages=true")
        if args.file:
            self.pipeline.get_by_name("file").set_property("location", args.file)
        self.sink = self.pipeline.get_by_name("sink")
        self.sink.set_property("location", args.url)
        self.sink.set_property("session-id", args.session_id)
        # A token goes in auth-token (sent as "Authorization: Bearer ...", or as
        # ?token=... with auth-token-mode=query), a private CA in ssl-ca-file:
        #   self.sink.set_property("auth-token", token)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    # --- the controls ----------------------------------------------------

    def start_timeline(self):
        steps = [
            (1000, "pause (signal)", lambda: self.sink.emit("pause")),
            (2000, "resume (property paused=False)", lambda: self.sink.set_property("paused", False)),
            (3000, "mute (property muted=True)", lambda: self.sink.set_property("muted", True)),
            (4000, "unmute (signal)", lambda: self.sink.emit("unmute")),
            (self.args.seconds * 1000, "end-session (signal, reason \"example finished\")",
             lambda: self.sink.emit("end-session", "example finished")),
        ]
        for at_ms, what, action in steps:
            self.timers.append(GLib.timeout_add(at_ms, self.step, what, action))
        self.timers.append(GLib.timeout_add_seconds(1, self.print_stats))

    def step(self, what, action):
        print("->", what, flush=True)
        action()
        return GLib.SOURCE_REMOVE

    def print_stats(self):
        stats = self.sink.get_property("stats")  # a Gst.Structure
        print("stats: state=%s chunks-sent=%d chunks-dropped=%d backlog-chunks=%d reconnects=%d paused=%s "
              "muted=%s" % (stats.get_string("state"), stats.get_uint64("chunks-sent")[1],
                            stats.get_uint64("chunks-dropped")[1], stats.get_uint64("backlog-chunks")[1],
                            stats.get_uint64("reconnects")[1], self.sink.get_property("paused"),
                            self.sink.get_property("muted")), flush=True)
        return GLib.SOURCE_CONTINUE

    # --- the bus ---------------------------------------------------------

    def on_message(self, bus, msg):
        t = msg.type
        if t == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            name = s.get_name()
            if name == "wss-audio-chunk-sent":
                self.chunks += 1
                print("sent: chunk %d, %d bytes of audio, %d bytes of JSON"
                      % (s.get_uint64("chunk-index")[1], s.get_uint("size")[1], s.get_uint("encoded-size")[1]),
                      flush=True)
            elif name == "wss-audio-chunk-transmitting":
                on = s.get_boolean("transmitting")[1]
                self.transmitting.append(on)
                print("transmitting: %s (paused=%s muted=%s)" % ("yes" if on else "no", s.get_boolean("paused")[1],
                                                                 s.get_boolean("muted")[1]), flush=True)
            elif name == "wss-audio-chunk-connection":
                print("connection: %s %s" % (s.get_string("state"), s.get_string("detail")), flush=True)
            elif name == "wss-audio-chunk-stream-start":
                print("stream started: session %s" % s.get_string("session-id"), flush=True)
                if not self.started:
                    self.started = True
                    self.start_timeline()
            elif name == "wss-audio-chunk-stream-stop":
                print("stream stopped: %s" % s.get_string("reason"), flush=True)
        elif t == Gst.MessageType.WARNING:
            err, _ = msg.parse_warning()
            print("warning: %s" % err.message, file=sys.stderr, flush=True)
        elif t == Gst.MessageType.ERROR:
            # An unreachable server is RESOURCE OPEN_WRITE, with the URI and
            # the cause in the message.
            err, debug = msg.parse_error()
            print("error from %s: %s\n(%s)" % (msg.src.get_name(), err.message, debug), file=sys.stderr, flush=True)
            self.error = True
            self.loop.quit()
        elif t == Gst.MessageType.EOS:
            self.eos = True
            self.loop.quit()

    def run(self):
        # The sink connects while going to PAUSED: an unreachable server
        # fails here (its error is on the bus, handled by on_message).
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            msg = self.pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
            if msg:
                self.on_message(None, msg)
            print("could not start streaming", file=sys.stderr)
            self.pipeline.set_state(Gst.State.NULL)
            return 1
        self.loop.run()
        self.print_stats()
        for t in self.timers:
            if GLib.MainContext.default().find_source_by_id(t):
                GLib.source_remove(t)
        self.pipeline.get_bus().remove_signal_watch()
        self.pipeline.set_state(Gst.State.NULL)
        expected = [True, False, True, False, True, False]
        if self.error:
            print("FAILED: the pipeline posted an error", file=sys.stderr)
        elif not self.eos:
            print("FAILED: no end of stream", file=sys.stderr)
        elif self.chunks == 0:
            print("FAILED: no chunk sent", file=sys.stderr)
        elif self.transmitting != expected:
            print("FAILED: transmitting changes %s, expected %s" % (self.transmitting, expected), file=sys.stderr)
        else:
            print("OK: %d chunks sent; pause, resume, mute, unmute and end-session applied" % self.chunks)
            return 0
        return 1


def main():
    p = argparse.ArgumentParser(description="Drive wssaudiochunksink's pause/mute controls.")
    p.add_argument("url", help="ws:// or wss:// URL of the server")
    p.add_argument("--session-id", default="speaker-controls-example")
    p.add_argument("--file", help="stream this audio file instead of a test tone")
    p.add_argument("--seconds", type=int, default=6, help="end the session after N seconds (>= 5)")
    args = p.parse_args()
    if args.seconds < 5:
        p.error("--seconds must be at least 5")
    Gst.init(None)
    if Gst.ElementFactory.find("wssaudiochunksink") is None:
        print("wssaudiochunksink not found: set GST_PLUGIN_PATH to the plugin's directory (build/ext/wssaudiochunk)",
              file=sys.stderr)
        return 2
    return Example(args).run()


if __name__ == "__main__":
    sys.exit(main())
