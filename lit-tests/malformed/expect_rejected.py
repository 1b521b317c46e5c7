#!/usr/bin/env python3
"""Runs onnx-opt on damaged models and checks that each one is rejected cleanly.

  expect_rejected.py [--print-errors] <onnx-opt> <model-or-dir>... [-- extra onnx-opt args]

A directory stands for its *.onnx files and its */model.onnx files. For every model: exit status
exactly 1 (not a signal, not a sanitizer's exit code), exactly one line on standard error that
starts with "onnx-opt: " and names the file, nothing on standard output, no output file created
(-o points into an empty scratch folder), done within the timeout.
Prints one line per failure and exits 1 if there was any; otherwise prints "checked N models".
With --print-errors, also prints "<model>: <error line>" for every model (sorted), for FileCheck.
"""
import os
import subprocess
import sys
import tempfile

TIMEOUT_SECONDS = 120


def display_name(model):
    base = os.path.basename(model)
    if base == "model.onnx":
        return os.path.join(os.path.basename(os.path.dirname(model)), base)
    return base


def check(tool, model, extra, out_dir):
    """Returns (problem text or "", the error line)."""
    output = os.path.join(out_dir, "out.onnx")
    try:
        run = subprocess.run([tool, model, "-o", output] + extra, capture_output=True,
                             timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return "timed out after %d s" % TIMEOUT_SECONDS, ""
    problems = []
    stderr = run.stderr.decode("utf-8", "replace")
    lines = stderr.splitlines()
    if run.returncode != 1:
        problems.append("exit status %d (want 1)" % run.returncode)
    if len(lines) != 1:
        problems.append("%d lines on stderr (want 1): %r" % (len(lines), stderr[:400]))
    elif not lines[0].startswith("onnx-opt: ") or os.path.basename(model) not in lines[0]:
        problems.append("error line does not name the file: %r" % lines[0])
    if run.stdout:
        problems.append("wrote %d bytes to stdout" % len(run.stdout))
    leftovers = os.listdir(out_dir)
    if leftovers:
        problems.append("left files in the output folder: %s" % ", ".join(sorted(leftovers)))
        for name in leftovers:
            os.remove(os.path.join(out_dir, name))
    return "; ".join(problems), (lines[0] if lines else "")


def collect(paths):
    models = []
    for path in paths:
        if os.path.isdir(path):
            for entry in sorted(os.listdir(path)):
                full = os.path.join(path, entry)
                if entry.endswith(".onnx") and os.path.isfile(full):
                    models.append(full)
                elif os.path.isfile(os.path.join(full, "model.onnx")):
                    models.append(os.path.join(full, "model.onnx"))
        else:
            models.append(path)
    return sorted(models, key=display_name)


def main():
    args = sys.argv[1:]
    print_errors = False
    if args and args[0] == "--print-errors":
        print_errors = True
        args = args[1:]
    extra = []
    if "--" in args:
        extra = args[args.index("--") + 1:]
        args = args[:args.index("--")]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    tool, models = args[0], collect(args[1:])
    if not models:
        print("expect_rejected: no models in %s" % " ".join(args[1:]), file=sys.stderr)
        return 1
    failures = 0
    with tempfile.TemporaryDirectory(prefix="expect-rejected.") as out_dir:
        for model in models:
            problem, line = check(tool, model, extra, out_dir)
            if problem:
                failures += 1
                print("FAIL %s: %s" % (display_name(model), problem))
            elif print_errors:
                print("%s: %s" % (display_name(model), line))
    if failures:
        print("%d of %d models not rejected cleanly" % (failures, len(models)))
        return 1
    print("checked %d models" % len(models))
    return 0


if __name__ == "__main__":
    sys.exit(main())
