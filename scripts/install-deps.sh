#!/bin/bash
# Installs the Debian 12 packages wssaudiochunk needs to build, test and run
# its demo, skipping those already present. Runs as root, or through sudo.
#   scripts/install-deps.sh              every package below
#   scripts/install-deps.sh PACKAGE...   only these (bench/run.sh, scripts/fuzz.sh)
set -euo pipefail

PACKAGES=(
  # build
  meson ninja-build pkg-config g++ git ca-certificates
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libsoup-3.0-dev libjson-glib-dev
  # run: muxers, Opus, TLS for wss://, gst-launch/gst-inspect
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad glib-networking
  # demo and tests: speech, audio tools, third-party peers
  espeak-ng sox python3 python3-websockets ffmpeg
  # interop: tests/interop (docs/interop.md): headless Chromium running the
  # browser speaker app's client, a PulseAudio daemon for pulsesrc (in plugins-good), and
  # Node with Debian's `ws` for a third-party recorder. Not `npm`: Debian's
  # conflicts with a NodeSource nodejs that already ships its own npm.
  chromium pulseaudio pulseaudio-utils nodejs node-ws
  # examples: examples/speaker_controls.py (PyGObject on Debian's python3)
  python3-gi gir1.2-gstreamer-1.0
  # packaging: scripts/test-package.sh (dpkg-buildpackage -b -us -uc)
  dpkg-dev debhelper fakeroot
  # security: libFuzzer targets (scripts/fuzz.sh), valgrind for the core tests
  # (scripts/memcheck.sh); gcc's ASan/UBSan (scripts/sanitize.sh) come with g++.
  # docs/security-testing.md
  clang libfuzzer-14-dev libclang-rt-14-dev valgrind
  # deploy: load balancers in front of ingest shards (deploy/, tests/deploy/)
  nginx haproxy
)
[ $# -gt 0 ] && PACKAGES=("$@")

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# tests/interop/serverless: serverless 3 and serverless-offline 13 (an API
# Gateway WebSocket emulator) from npm, pinned by the committed
# package-lock.json, into that folder only. Debian's npm only when no npm is
# there (NodeSource's nodejs ships its own).
install_serverless() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/interop/serverless"
  [ -x "$dir/node_modules/.bin/serverless" ] && return 0
  if ! command -v npm >/dev/null; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get install -y -q --no-install-recommends npm >/dev/null
  fi
  echo "install-deps: npm ci in $dir"
  (cd "$dir" && SLS_TELEMETRY_DISABLED=1 npm ci --no-audit --no-fund >/dev/null) ||
    echo "install-deps: npm ci failed; the serverless-offline interop test will be skipped" >&2
}

SUDO=""
if [ "$(id -u)" -ne 0 ] && [ ${#missing[@]} -gt 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  install_serverless
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
install_serverless
