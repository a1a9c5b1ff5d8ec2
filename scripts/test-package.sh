#!/bin/bash
# Builds the Debian packages (dpkg-buildpackage -b -us -uc), installs them,
# checks that GStreamer finds the elements with no environment variables and
# that the tools run, then removes them and checks nothing is left.
# Runs as root or through sudo; installs the build dependencies it needs.
# README, "Install"; run on a fresh machine with
#   ../shared/tools/fresh-debian12.sh './scripts/test-package.sh'
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "test-package: need root or sudo" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive

step() { echo "test-package: $*"; }
fail() { echo "test-package: FAILED: $*" >&2; exit 1; }

step "installing the packaging tools and build dependencies"
$SUDO apt-get update -qq
$SUDO apt-get install -y -q --no-install-recommends dpkg-dev debhelper fakeroot gstreamer1.0-tools >/dev/null
$SUDO apt-get build-dep -y -q --no-install-recommends "$src" >/dev/null

# Build from a copy: dpkg-buildpackage writes into debian/ and the parent dir.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/wssaudiochunk"
tar -C "$src" --exclude='./build*' --exclude='./_build*' --exclude='./obj-*' --exclude=./.git -cf - . \
  | tar -C "$work/wssaudiochunk" -xf -
step "building the packages"
(cd "$work/wssaudiochunk" && dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1) \
  || { tail -40 "$work/build.log"; fail "dpkg-buildpackage"; }
plugin_deb=$(ls "$work"/gstreamer1.0-wssaudiochunk_*.deb)
tools_deb=$(ls "$work"/wssaudiochunk-tools_*.deb)
step "built $(basename "$plugin_deb") $(basename "$tools_deb")"

step "installing them"
$SUDO apt-get install -y -q "$plugin_deb" "$tools_deb" >/dev/null
files=$(dpkg -L gstreamer1.0-wssaudiochunk wssaudiochunk-tools | while read -r f; do [ -f "$f" ] && echo "$f"; done)

# A clean environment: no GST_PLUGIN_PATH, a registry of the user's own.
clean_env=(env -i HOME="$work/home" PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8)
mkdir -p "$work/home"
for element in wssaudiochunksink wssaudiochunkbin wssaudiochunksrc; do
  "${clean_env[@]}" gst-inspect-1.0 "$element" >"$work/inspect.txt" 2>&1 \
    || { cat "$work/inspect.txt"; fail "gst-inspect-1.0 $element does not find the element"; }
  step "gst-inspect-1.0 $element: $(grep -m1 'Long-name' "$work/inspect.txt" | sed 's/^ *//')"
done
"${clean_env[@]}" wssaudiochunk-speaker --help >/dev/null || fail "wssaudiochunk-speaker --help"
"${clean_env[@]}" wssaudiochunk-ingest --help >/dev/null || fail "wssaudiochunk-ingest --help"
"${clean_env[@]}" wssaudiochunk-join --help >/dev/null || fail "wssaudiochunk-join --help"
step "wssaudiochunk-speaker, wssaudiochunk-ingest and wssaudiochunk-join run"

step "removing them"
$SUDO apt-get purge -y -q wssaudiochunk-tools gstreamer1.0-wssaudiochunk >/dev/null
for f in $files; do
  [ ! -e "$f" ] || fail "$f is still there after removal"
done
if "${clean_env[@]}" gst-inspect-1.0 wssaudiochunksink >/dev/null 2>&1; then
  fail "gst-inspect-1.0 still finds wssaudiochunksink after removal"
fi
step "removed cleanly ($(echo "$files" | wc -l) files gone)"
step "OK"
