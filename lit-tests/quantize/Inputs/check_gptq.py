#!/usr/bin/env python3
"""check_gptq.py REPORT.json WEIGHT...: each named weight was rounded with GPTQ and its output-error
proxy is below plain rounding's on the calibration data; exits 1 with a one-line reason if not."""
import json
import sys

report = json.load(open(sys.argv[1]))
rows = {r["weight"]: r for r in report["weights"]}
for name in sys.argv[2:]:
    row = rows.get(name)
    if row is None:
        sys.exit(f"check_gptq: no report row for {name}")
    if row.get("rounding") != "gptq":
        sys.exit(f"check_gptq: {name} rounded by {row.get('rounding')}: {row.get('rounding_note')}")
    if row.get("format") == "float":
        continue
    gptq, rtn = row["proxy_error"], row["proxy_error_rtn"]
    if not gptq < 0.9 * rtn:
        sys.exit(f"check_gptq: {name}: GPTQ proxy error {gptq} not below 0.9 x plain {rtn}")
    print(f"{name}: proxy error {gptq:.4g} (plain rounding {rtn:.4g})")
