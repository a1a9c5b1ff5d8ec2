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
)
[ $# -gt 0 ] && PACKAGES=("$@")

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
