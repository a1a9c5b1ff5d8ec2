"""Interop 3: a real capture path. PulseAudio (a daemon this test starts, on a
socket in its scratch directory) has a null sink; a player writes the speech
WAV into it in real time, and the speaker pipeline captures its monitor with
pulsesrc, exactly as from a microphone:

  pulsesrc device=spk.monitor ! audioconvert ! audioresample
    ! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000
    ! webmmux streamable=true min-cluster-duration=250000000
    ! wssaudiochunksink location=ws://127.0.0.1:PORT/ws end-session-on-eos=true

into our receiver (wssaudiochunksrc ... ! wavenc). Checks: the received WAV
lasts as long as what pulsesrc captured (num-buffers x 10 ms) within 40 ms;
the speech in it spans as long as the played speech within 60 ms; and the
20 ms RMS envelopes, aligned by cross-correlation, give Pearson r >= 0.7.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402
from interop import Failure, log  # noqa: E402

MIN_R = 0.7
DURATION_TOLERANCE_S = 0.040
SPAN_TOLERANCE_S = 0.060
LEAD_S = 1.0            # silence played before the speech
TAIL_S = 0.5            # and after it
EXTRA_CAPTURE_S = 1.0   # capture this much longer than the played file
MAX_LAG_FRAMES = 25     # align within +-500 ms


def active_span(env, ratio=0.05):
    """First and last envelope frame above ratio x the envelope's maximum."""
    top = max(env) if env else 0
    idx = [i for i, v in enumerate(env) if v > ratio * top]
    return (idx[0], idx[-1]) if idx else (0, -1)


def body(h):
    # The played file: speech between silences. An idle null sink renders in
    # large bursts and its monitor only runs in real time once a stream plays
    # into it, so the capture effectively starts with the player: the lead
    # silence keeps the speech inside the capture.
    speech = interop.make_speech(h, h.path("speech.wav"), lead=LEAD_S, tail=TAIL_S)
    speech_s = interop.wav_duration(speech)
    log("played file: %.3f s (%.1f s silence, speech, %.1f s silence)" % (speech_s, LEAD_S, TAIL_S))

    # A private PulseAudio: no default.pa (-n), no D-Bus, no autospawn, its
    # socket and state in the scratch directory. As root it runs in user mode
    # (it warns that it is "not intended to be run as root"); --system is not
    # needed and would want the pulse user and /var/run/pulse.
    home = h.path("home")
    runtime = h.path("run")
    os.mkdir(home)
    os.mkdir(runtime, 0o700)
    socket = h.path("native")
    client_conf = h.path("client.conf")
    with open(client_conf, "w") as f:
        f.write("autospawn = no\n")
    pa_env = {"HOME": home, "XDG_RUNTIME_DIR": runtime, "XDG_CONFIG_HOME": h.path("home", ".config"),
              "PULSE_SERVER": "unix:" + socket, "PULSE_CLIENTCONFIG": client_conf,
              "DBUS_SESSION_BUS_ADDRESS": "disabled:"}
    daemon = h.spawn("pulseaudio", [
        "pulseaudio", "-n", "--daemonize=no", "--system=no", "--exit-idle-time=-1", "--disallow-exit",
        "--use-pid-file=no", "--realtime=no", "--high-priority=no", "--log-target=stderr",
        "--log-level=warning",
        "-L", "module-native-protocol-unix socket=%s auth-anonymous=1" % socket,
        "-L", "module-null-sink sink_name=spk sink_properties=device.description=interop-speaker"],
        env=pa_env)

    def pa_ready():
        r = subprocess.run(["pactl", "list", "short", "sources"], env=dict(os.environ, **pa_env),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10)
        return r.returncode == 0 and b"spk.monitor" in r.stdout and r.stdout.decode()
    sources = h.wait_for("PulseAudio's spk.monitor source", pa_ready, 30, proc=daemon, interval=0.2)
    log("PulseAudio up; source: %s" % sources.strip())

    out_wav = h.path("received.wav")
    receiver, port = interop.start_receiver(h, out_wav)
    log("receiver listening on ws://127.0.0.1:%d/ws" % port)

    # pulsesrc's buffers are latency-time (10 ms) long: num-buffers sets the
    # captured duration exactly.
    capture_buffers = int(round((speech_s + EXTRA_CAPTURE_S) * 100))
    capture_s = capture_buffers / 100.0
    session = "interop-pulse-%d" % os.getpid()
    speaker = h.spawn("speaker", [
        "gst-launch-1.0", "-m", "pulsesrc", "device=spk.monitor", "num-buffers=%d" % capture_buffers,
        "client-name=interop-speaker", "!", "audioconvert", "!", "audioresample", "!",
        "audio/x-raw,rate=16000,channels=1", "!", "opusenc", "bitrate=16000", "!",
        "webmmux", "streamable=true", "min-cluster-duration=250000000", "!",
        "wssaudiochunksink", "location=ws://127.0.0.1:%d/ws" % port, "session-id=" + session,
        "end-session-on-eos=true"], env=pa_env)
    h.wait_for("the speaker pipeline to capture",
               lambda: "Setting pipeline to PLAYING" in h.read_log("speaker"), 30, proc=speaker)

    # The "speaker talks": the WAV goes into the null sink in real time.
    h.run("player", ["gst-launch-1.0", "-q", "filesrc", "location=" + speech, "!", "wavparse", "!",
                     "audioconvert", "!", "audioresample", "!", "pulsesink", "device=spk"],
          timeout=speech_s + 30, env=pa_env)
    try:
        rc = speaker.wait(timeout=EXTRA_CAPTURE_S + 30)
    except subprocess.TimeoutExpired:
        raise Failure("the speaker pipeline did not end:\n" + h.tail("speaker"))
    if rc != 0:
        raise Failure("the speaker pipeline exited with %d:\n%s" % (rc, h.tail("speaker")))
    interop.wait_receiver_eos(h, receiver, timeout=30)

    received_s = interop.wav_duration(out_wav)
    diff = received_s - capture_s
    log("captured %d x 10 ms = %.3f s; received WAV %.3f s; difference %+.1f ms"
        % (capture_buffers, capture_s, received_s, diff * 1000))
    if abs(diff) > DURATION_TOLERANCE_S:
        raise Failure("received %.3f s of the %.3f s captured" % (received_s, capture_s))

    env_ref = interop.rms_envelope(interop.read_wav_16k_mono(h, speech))
    env_got = interop.rms_envelope(interop.read_wav_16k_mono(h, out_wav))
    r, lag = interop.best_lag_correlation(env_ref, env_got, -MAX_LAG_FRAMES, MAX_LAG_FRAMES)
    log("20 ms RMS envelopes: Pearson r = %.3f at lag %+d ms" % (r, lag * 20))
    if r < MIN_R:
        raise Failure("envelope correlation r = %.3f < %.1f" % (r, MIN_R))
    a0, a1 = active_span(env_ref)
    b0, b1 = active_span(env_got)
    span_ref = (a1 - a0 + 1) * 0.02
    span_got = (b1 - b0 + 1) * 0.02
    log("speech span: played %.2f s, received %.2f s (starting %d ms in)" % (span_ref, span_got, b0 * 20))
    if abs(span_got - span_ref) > SPAN_TOLERANCE_S + 1e-9:
        raise Failure("the received speech spans %.2f s, the played %.2f s" % (span_got, span_ref))
    if b1 * 0.02 > received_s - 0.1:
        raise Failure("the speech runs to the end of the capture: some was cut off")
    print("RESULT " + json.dumps({
        "test": "pulseaudio", "speech_s": round(speech_s, 3), "captured_s": capture_s,
        "received_s": round(received_s, 3), "diff_ms": round(diff * 1000, 1), "r": round(r, 3),
        "lag_ms": lag * 20, "span_played_s": round(span_ref, 2), "span_received_s": round(span_got, 2)}),
        flush=True)


if __name__ == "__main__":
    interop.require_tools("gst-launch-1.0", "pulseaudio", "pactl", "espeak-ng", "sox")
    interop.main("pulseaudio", body, deadline_s=240)
