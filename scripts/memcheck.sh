#!/bin/bash
# Runs the core unit tests (build/tests/check/test-core-*: Chunker, Backlog,
# BroadcastState, Reassembler, RetryPolicy, message codec, IngestCore) and the
# ingest program's own (test-tools-*: its journal) under valgrind memcheck, in the environment meson gives them, and fails on any
# memory error or definite leak. Complements scripts/sanitize.sh, which runs
# the GStreamer-based suites without leak detection. docs/security-testing.md.
#
#   scripts/memcheck.sh [extra meson test arguments]
#
# CK_FORK=no: every check runs in the one process valgrind watches (forked
# children would have their leaks reported, and lost, separately).
# Only "definitely lost" counts: GLib's type system and gst_init keep blocks
# for the life of the process that valgrind calls "possibly lost" or "still
# reachable" (glib.supp covers most of them).
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
  echo "memcheck: valgrind is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
[ -f build/build.ninja ] || { echo "memcheck: no build/ (run scripts/build.sh)" >&2; exit 1; }

SUPP=()
[ -f /usr/share/glib-2.0/valgrind/glib.supp ] && SUPP=(--suppressions=/usr/share/glib-2.0/valgrind/glib.supp)
mkdir -p build/memcheck
rm -f build/memcheck/*.log

export CK_FORK=no
export G_SLICE=always-malloc G_DEBUG=gc-friendly
# The registry (the tests' own, shared with the main suite) is scanned by
# gst-plugin-scanner, natively: valgrind does not follow it.

WRAPPER="valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
WRAPPER+=" --error-exitcode=1 --track-origins=yes --num-callers=30 ${SUPP[*]}"
WRAPPER+=" --log-file=$(pwd)/build/memcheck/%p.log"

t0=$(date +%s)
meson test -C build --suite core --suite tools --wrapper "$WRAPPER" --num-processes 2 --timeout-multiplier 10 \
  --print-errorlogs --logbase memcheck "$@" >build/memcheck/meson.out 2>&1
rc=$?

# What valgrind said, per process (empty logs: nothing to say).
errors=0
for f in build/memcheck/*.log; do
  [ -s "$f" ] || continue
  errors=$((errors + 1))
  echo "memcheck: report in $f:"
  head -60 "$f" | sed 's/^/  | /'
done
grep -E '^ *[0-9]+/[0-9]+ ' build/memcheck/meson.out | sed 's/^ */  /'
if [ $rc -ne 0 ] || [ $errors -ne 0 ]; then
  echo "memcheck: FAIL ($errors valgrind reports; meson log build/meson-logs/memcheck-valgrind.txt) in $(( $(date +%s) - t0 )) s"
  exit 1
fi
echo "memcheck: core and tools tests clean under valgrind (no memory error, no definite leak) in $(( $(date +%s) - t0 )) s"
