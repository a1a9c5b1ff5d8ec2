#!/bin/bash
# Builds the project with AddressSanitizer + UndefinedBehaviorSanitizer into
# build-asan/ (gcc, warnings as errors) and runs the test suites whose
# programs are all ours, so all instrumented:
#   core      the plain C++ core and the wire format/receiver logic
#   tools     the ingest program's own classes (its journal)
#   net       the sink's TCP evidence on a real loopback socket, the
#             receiver's workers and its own WebSocket data path
#   rfc6455   our wssaudiochunk-ingest program against raw WebSocket frames
#   elements  wssaudiochunksink/src and the ingest server, with our test
#             servers/clients and our wssaudiochunk-ingest program
#   faults    fault injection through our fault proxy (less the cases in
#             suite 'launch', which run the uninstrumented gst-launch-1.0)
#   controls  broadcast controls against our receiver
# Not interop: it drives gst-launch-1.0, python3, node and chromium, which are
# not instrumented (and cannot load an ASan-built plugin without LD_PRELOAD
# tricks), so a sanitizer there would only watch the plugin inside someone
# else's process. docs/security-testing.md.
#
#   scripts/sanitize.sh [extra meson test arguments]
#
# Any ASan report or UBSan "runtime error" aborts the program (halt_on_error)
# and fails its test. Leak detection: on for core (our code only, plus
# gst_check's init), off for the GStreamer-based suites, where GLib and
# GStreamer keep global and per-type allocations for the life of the process
# (type classes, the registry, thread pools) that LeakSanitizer reports as
# leaks at exit; leaks in the core are covered by scripts/memcheck.sh
# (valgrind) and the fuzzers (LeakSanitizer on every input).
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=build-asan
t0=$(date +%s)
if [ ! -f "$BUILD/build.ninja" ]; then
  # -O1: a fifth less build time than debugoptimized's -O2 (2 min 45 s instead of
  # 3 min 30 s from scratch here); the suites are mostly real time anyway.
  meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true -Doptimization=1 \
    -Dexamples=disabled >"$BUILD.setup.log" 2>&1 \
    || { cat "$BUILD.setup.log"; echo "sanitize: meson setup failed" >&2; rm -rf "$BUILD"; exit 1; }
  rm -f "$BUILD.setup.log"
fi
ninja -C "$BUILD" >"$BUILD/ninja.log" 2>&1 || { tail -40 "$BUILD/ninja.log"; echo "sanitize: build failed" >&2; exit 1; }
echo "sanitize: built $BUILD in $(( $(date +%s) - t0 )) s"

# Sanitizer reports abort the program; UBSan's are fatal too (by default it
# prints and continues). detect_stack_use_after_return: ASan's fake stacks.
ASAN_COMMON="halt_on_error=1:abort_on_error=1:print_summary=1:detect_stack_use_after_return=1:strict_string_checks=1"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# GLib's slice allocator would hide its blocks from ASan.
export G_SLICE=always-malloc
# The plugin is ASan-built: GStreamer must scan it in the test process, not
# in gst-plugin-scanner (not instrumented, could not load it).
export GST_REGISTRY_FORK=no

rc=0
failed_suites=()
run_suite() {
  local suite=$1 leaks=$2
  local t=$(date +%s)
  # With the registry scanned in-process, every system plugin is loaded into
  # the test, and some leak at load time (udev, fontconfig, OpenNI2 drivers):
  # the core tests need none, so none are scanned where leaks are detected.
  local plugins=()
  [ "$leaks" = 1 ] && plugins=(GST_PLUGIN_SYSTEM_PATH_1_0=)
  env "${plugins[@]}" ASAN_OPTIONS="$ASAN_COMMON:detect_leaks=$leaks" \
    meson test -C "$BUILD" --suite "$suite" --num-processes 2 --timeout-multiplier 3 \
      --print-errorlogs --logbase "sanitize-$suite" "${@:3}" >"$BUILD/sanitize-$suite.out" 2>&1
  local r=$?
  local summary
  summary=$(grep -E '^(Ok|Fail|Timeout|Skipped|Expected Fail|Unexpected Pass):' "$BUILD/sanitize-$suite.out" \
    | tr -s ' ' | tr '\n' ' ')
  local reports
  reports=$(grep -a -c -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
    "$BUILD/meson-logs/sanitize-$suite.txt" 2>/dev/null)
  if [ $r -ne 0 ] || [ "${reports:-0}" -ne 0 ]; then
    rc=1
    failed_suites+=("$suite")
    echo "sanitize: FAIL $suite (leaks: $leaks) in $(( $(date +%s) - t )) s: $summary"
    grep -a -E -A25 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
      "$BUILD/meson-logs/sanitize-$suite.txt" | head -80 | sed 's/^/  | /'
    grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|TIMEOUT)' "$BUILD/sanitize-$suite.out" | sed 's/^/  /'
    echo "  log: $BUILD/meson-logs/sanitize-$suite.txt"
  else
    echo "sanitize: PASS $suite (leaks: $leaks) in $(( $(date +%s) - t )) s: $summary"
  fi
}

run_suite core 1 "$@"
run_suite tools 1 "$@"
run_suite net 0 "$@"
# The receiver program under ASan against raw frames (our WebSocket data path).
run_suite rfc6455 0 "$@"
# The element tests scan the registry in-process on their first run (see
# GST_REGISTRY_FORK above): scan first, running no case, then test (a cold
# registry once hid a bug of the bin's class_init, docs/security-testing.md).
GST_CHECKS=__scan_registry_only__ meson test -C "$BUILD" --suite elements --num-processes 2 \
  --logbase sanitize-registry >/dev/null 2>&1
run_suite elements 0 "$@"
run_suite faults 0 --no-suite launch "$@"
run_suite controls 0 "$@"

if [ $rc -eq 0 ]; then
  echo "sanitize: all suites clean under ASan+UBSan in $(( $(date +%s) - t0 )) s"
else
  echo "sanitize: failed: ${failed_suites[*]} ($(( $(date +%s) - t0 )) s)"
fi
exit $rc
