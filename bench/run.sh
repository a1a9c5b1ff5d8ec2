#!/bin/bash
# wssaudiochunk benchmarks: one command that installs what it needs, builds
# the bench programs, runs every measurement (about 12-14 minutes on the
# project's 2-core machines), writes docs/performance.md with its figures
# (docs/img/perf-*.png) and prints the summary table.
#
#   bench/run.sh                 everything, 2 min latency run
#   bench/run.sh --full          the issue's 10 min latency run (~8 min more)
#   bench/run.sh --only scale    some parts (sink,pipeline,sinkcpu,latency,speaker,scale,wire,
#                                shard,capacity)
#   bench/run.sh --help          every option of bench/bench.py
#
# Outputs: bench/out/results.json (raw numbers), bench/out/* (logs, callgrind
# and perf files), docs/img/perf-*.png, docs/performance.md.
# All traffic stays on 127.0.0.1.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
OUT="$HERE/out"
START=$(date +%s)

# ---- Debian packages the bench needs (only the missing ones are installed)
PACKAGES=(
  meson ninja-build pkg-config g++
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libsoup-3.0-dev libjson-glib-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  glib-networking
  espeak-ng sox                       # the speech fixture
  python3 python3-websockets python3-matplotlib   # orchestration, Python receiver, figures
  valgrind linux-perf util-linux      # callgrind, perf, taskset
  chromium                            # the browser speaker app's client
  nodejs                              # the Node receiver
)
"$ROOT/scripts/install-deps.sh" "${PACKAGES[@]}"

# ---- the `ws` package for the Node receiver, from the npm registry
# (falls back to Debian's node-ws when npm is unavailable)
if [ ! -d "$HERE/node/node_modules/ws" ]; then
  if command -v npm >/dev/null && (cd "$HERE/node" && npm install --no-audit --no-fund --loglevel=error); then
    :
  else
    echo "bench: npm install failed; using Debian's node-ws"
    "$ROOT/scripts/install-deps.sh" node-ws
  fi
fi

# ---- 5000 connections need 5000+ descriptors in the load generator and receivers
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" -lt 12000 ]; then
  echo "bench: warning: ulimit -n is $(ulimit -n); the 5000-speaker runs need more than 5100" >&2
fi

# ---- build: the main project with its bench programs (-Dbenchmarks=true;
# tests and examples off), in its own build dir
mkdir -p "$OUT"
if [ ! -f "$OUT/build/build.ninja" ]; then
  meson setup "$OUT/build" "$ROOT" --buildtype=debugoptimized -Dbenchmarks=true -Dtests=disabled \
    -Dexamples=disabled >"$OUT/setup.log" || { cat "$OUT/setup.log"; exit 1; }
fi
ninja -C "$OUT/build" >"$OUT/build.log" || { tail -30 "$OUT/build.log"; exit 1; }
echo "bench: built in $(( $(date +%s) - START )) s"

# ---- run
/usr/bin/python3 "$HERE/bench.py" "$@"  # Debian's: python3-matplotlib and python3-websockets are its modules
echo "bench: done in $(( $(date +%s) - START )) s"
