#!/bin/bash
# The README's test command: installs what is missing, builds with warnings as
# errors, runs every test suite, and ends with a "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh || exit 1
./scripts/build.sh || exit 1

meson test -C build --print-errorlogs --num-processes 2 "$@"
rc=$?

# The suites' counts, from meson's machine-readable log, read now: the
# stages below take minutes, and another meson test run in build/ would
# rewrite the log meanwhile.
read -r passed failed skipped < <(python3 - build/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif r == "SKIP":
        skipped += 1
    else:
        failed += 1
print(passed, failed, skipped)
PY
)

# Security stages (docs/security-testing.md), after the suites: fuzzing,
# ASan/UBSan, valgrind. Each counts as one test in the summary line. They are
# skipped (and counted so) when arguments select tests, or with
# WSSAC_SKIP_SECURITY=1.
stage_pass=0 stage_fail=0 stage_skip=0
run_stage() {
  local name=$1 t0=$SECONDS
  shift
  if [ "${WSSAC_SKIP_SECURITY:-0}" != 1 ] && [ "$selected" = 0 ]; then
    echo "==> security stage: $name"
    "$@" 2>&1 | tee "build/meson-logs/security-$name.log"
    if [ "${PIPESTATUS[0]}" -eq 0 ]; then
      stage_pass=$((stage_pass + 1))
      echo "==> $name: OK ($((SECONDS - t0)) s)"
    else
      stage_fail=$((stage_fail + 1))
      rc=1
      echo "==> $name: FAIL ($((SECONDS - t0)) s; log build/meson-logs/security-$name.log)"
    fi
  else
    stage_skip=$((stage_skip + 1))
    echo "==> security stage $name: skipped"
  fi
}
selected=0
[ $# -gt 0 ] && selected=1
run_stage fuzz env FUZZ_SECONDS="${FUZZ_SECONDS:-60}" ./scripts/fuzz.sh
run_stage sanitize ./scripts/sanitize.sh
run_stage memcheck ./scripts/memcheck.sh

# One summary line for CI: the suites' tests and the security stages.
echo "$((${passed:-0} + stage_pass)) passed, $((${failed:-1} + stage_fail)) failed, $((${skipped:-0} + stage_skip)) skipped"
exit $rc
