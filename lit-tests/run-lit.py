#!/usr/bin/env python3
# Runs lit for ctest and makes UNSUPPORTED tests visible: lit counts them as passes, so a missing
# prerequisite (eval/node_modules/onnxruntime-node, protoc, libonnx-testdata) would silently drop
# the numerical proofs. Exit status: lit's own when a test fails; otherwise 77 (ctest's "Skipped",
# SKIP_RETURN_CODE) when any test was UNSUPPORTED, or 1 under CI=true, where every prerequisite
# must be installed (scripts/install-deps.sh, `cd eval && npm ci`).
#   run-lit.py LIT_PY ARGS...
import os
import re
import subprocess
import sys

proc = subprocess.Popen([sys.executable, *sys.argv[1:]], stdout=subprocess.PIPE, text=True)
unsupported = []
total = None
in_list = False
for line in proc.stdout:
    sys.stdout.write(line)
    # --show-unsupported lists them under "Unsupported Tests (N):", one "  suite :: path" a line.
    if line.startswith("Unsupported Tests ("):
        in_list = True
        continue
    m = re.match(r"  \S+ :: (\S+)", line) if in_list else None
    if m:
        unsupported.append(m.group(1))
        continue
    in_list = False
    m = re.match(r"\s*(Passed|Unsupported|Failed|Excluded|Expectedly Failed)\s*:\s*(\d+)", line)
    if m:
        total = (total or 0) + int(m.group(2))
status = proc.wait()
if status != 0:
    sys.exit(status)
if unsupported:
    ci = os.environ.get("CI", "").lower() in ("true", "1")
    print(f"SKIPPED: lit: {len(unsupported)} of {total} tests UNSUPPORTED (missing prerequisite; "
          f"lit's warning above names it): {' '.join(unsupported)}")
    if ci:
        print("run-lit: error: CI=true and tests were UNSUPPORTED: install every prerequisite")
        sys.exit(1)
    sys.exit(77)
