#!/bin/bash
# The README's test command: installs what is missing, builds with warnings as
# errors, runs every test suite, and ends with a "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh || exit 1
./scripts/build.sh || exit 1

meson test -C build --print-errorlogs --num-processes 2 "$@"
rc=$?

# One summary line for CI, from meson's machine-readable log.
python3 - build/meson-logs/testlog.json <<'PY'
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
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $rc
