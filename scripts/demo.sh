#!/bin/bash
# The README's main command: installs what is missing, builds, starts the
# ingest server on 127.0.0.1, streams a spoken sample through
# opusenc ! webmmux ! wssaudiochunksink in real time, and prints what was sent,
# what was received, and where the WAV is.
#   MIC=1 ./scripts/demo.sh        capture the real microphone (pulsesrc) instead
#   SECONDS_OF_MIC=10              how long to capture from the microphone
#   TEXT="..."                     what espeak-ng says
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh >/dev/null

out=${OUT_DIR:-out/demo}
rm -rf "$out" && mkdir -p "$out/recordings"
export GST_PLUGIN_PATH="$PWD/build/ext/wssaudiochunk${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

ingest="$PWD/build/tools/wssaudiochunk-ingest"
"$ingest" --port 0 --port-file "$out/port" --output-dir "$out/recordings" > "$out/ingest.log" 2>&1 &
ingest_pid=$!
trap 'kill $ingest_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$out/port" ] && break; sleep 0.1; done
[ -s "$out/port" ] || { echo "demo: the ingest server did not start:"; cat "$out/ingest.log"; exit 1; }
port=$(cat "$out/port")
url="ws://127.0.0.1:$port/ws"
session="demo-$(date +%Y%m%d-%H%M%S)"
echo "demo: ingest server listening on $url"

if [ "${MIC:-0}" = 1 ]; then
  echo "demo: streaming ${SECONDS_OF_MIC:-10} s from the microphone (pulsesrc)"
  source="pulsesrc num-buffers=$(( ${SECONDS_OF_MIC:-10} * 100 )) ! audio/x-raw,rate=16000,channels=1"
else
  text=${TEXT:-"Hello from wssaudiochunk. This sentence was spoken by e speak, encoded with Opus at sixteen kilobits per second, cut into two hundred and fifty millisecond WebM chunks, and streamed over a WebSocket in real time."}
  espeak-ng -w "$out/speech.wav" "$text"
  echo "demo: streaming $(soxi -D "$out/speech.wav") s of synthesized speech in real time ($out/speech.wav)"
  source="filesrc location=$out/speech.wav ! wavparse"
fi

# -m prints the sink's bus messages; post-messages=true adds one per chunk
# sent (off by default: a message per chunk costs CPU), which the count below reads.
gst-launch-1.0 -m $source ! audioconvert ! audioresample ! audio/x-raw,rate=16000,channels=1 \
  ! opusenc bitrate=16000 ! webmmux streamable=true min-cluster-duration=250000000 \
  ! wssaudiochunksink location="$url" session-id="$session" end-session-on-eos=true post-messages=true \
  > "$out/speaker.log" 2>&1 || { echo "demo: the speaker pipeline failed:"; tail -20 "$out/speaker.log"; exit 1; }

sent=$(grep -c 'wss-audio-chunk-sent' "$out/speaker.log" || true)
bytes=$( (grep -o ' size=(uint)[0-9]*' "$out/speaker.log" || true) | awk -F')' '{s += $2} END {print s + 0}')
echo "demo: sent $sent chunks ($bytes bytes of WebM/Opus) for session $session"

# The speaker ended the session; give the server a moment, then stop it.
for _ in $(seq 50); do [ -f "$out/recordings/$session.json" ] && break; sleep 0.1; done
kill -TERM $ingest_pid; wait $ingest_pid || true
trap - EXIT

summary="$out/recordings/$session.json"
[ -f "$summary" ] || { echo "demo: no summary was written:"; cat "$out/ingest.log"; exit 1; }
echo "demo: received:"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("\n".join(f"  {k}: {v}" for k,v in d.items() if k!="controlEvents"))' "$summary"
delivered=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("delivered", 0))' "$summary")
[ "$delivered" -gt 0 ] || { echo "demo: the receiver recorded no audio"; exit 1; }
[ "$delivered" -eq "$sent" ] || echo "demo: warning: $sent chunks sent, $delivered delivered"
echo "demo: WAV (16 kHz mono S16LE): $(realpath "$out/recordings/$session.wav")"
