#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make check: orbit-analyze on the project's own examples and a sample.

Examples: each example that keeps data in areas is turned back into a
program without them (tests/analyze/unport.sh); the hand-made port's
orbit_alloc calls are the ground truth.  The analyzer must find every one
(recall 100 %) with a precision of at least 80 %, and its --fix patch
must give back a program that builds (the Makefile builds them as fx_*
for the guest, where tests/vm/t_analyze_fixed.sh runs them).

Sample (tests/analyze/sample.c): the lines marked NEEDED must be reported
and the ones marked NOT left out; the patch adds the area, rewrites
malloc/calloc and their frees, lists what it cannot rewrite (strdup, the
wrapper's callers), and the patched file compiles.

Prints TAP lines ("ok - ...") and writes the table to
build/analyze/results.md.
"""
import json
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
A = os.path.join(TOP, "build/bin/orbit-analyze")
OUT = os.path.join(TOP, "build/analyze/measure")
FLAGS = ["-I" + os.path.join(TOP, p) for p in ("libuorbit", "build/include", "uapi")] + ["-D_GNU_SOURCE"]
EXAMPLES = ["quickstart", "lockmgr", "snapshot", "watchdog", "kvserver"]
results = []


def tap(ok, what):
    results.append(ok)
    print(("ok - " if ok else "not ok - ") + what)


def analyze(src, *opts):
    return subprocess.run([A, *opts, os.path.basename(src), "--", *FLAGS],
                          cwd=os.path.dirname(src), capture_output=True, text=True)


def examples():
    rows, needed_all, found_all, reported_all = [], 0, 0, 0
    for e in EXAMPLES:
        orig = os.path.join(TOP, "examples", e + ".c")
        src = os.path.join(OUT, e + ".c")
        for f, d in ((orig, src), (os.path.join(TOP, "examples/example.h"), os.path.join(OUT, "example.h"))):
            subprocess.run([os.path.join(TOP, "tests/analyze/unport.sh"), f, d], check=True)
        truth = {i + 1 for i, l in enumerate(open(orig)) if re.search(r"\borbit_(alloc|calloc|realloc)\(", l)}
        r = analyze(src, "--json")
        try:
            d = json.loads(r.stdout)
        except ValueError:
            tap(False, "orbit-analyze --json %s: %s" % (e, r.stderr.strip()))
            continue
        got = {a["file_line"] for a in d["allocations"] if a["needed"]}
        found = len(truth & got)
        needed_all += len(truth)
        found_all += found
        reported_all += len(got)
        rows.append((e, len(truth), len(got), found))
        print("# %s: needed %s, reported %s" % (e, sorted(truth), sorted(got)))
    recall = found_all / needed_all if needed_all else 1.0
    precision = found_all / reported_all if reported_all else 1.0
    tap(recall == 1.0, "examples: recall %.0f %% (%d of %d allocation points found)" % (100 * recall, found_all, needed_all))
    tap(precision >= 0.8, "examples: precision %.0f %% (%d of %d reported are needed; target 80 %%)" % (100 * precision, found_all, reported_all))
    for e in ("quickstart", "lockmgr", "snapshot", "watchdog"):
        fixed = os.path.join(TOP, "build/vmtests/fx_" + e)
        tap(os.access(fixed, os.X_OK), "examples: the --fix patch of %s applies and builds (build/vmtests/fx_%s)" % (e, e))
    with open(os.path.join(TOP, "build/analyze/results.md"), "w") as f:
        f.write("| example | needed | reported | found | recall | precision |\n|---|---:|---:|---:|---:|---:|\n")
        for e, n, g, fo in rows:
            f.write("| %s | %d | %d | %d | %s | %s |\n" % (e, n, g, fo, "%.0f %%" % (100.0 * fo / n) if n else "-",
                                                          "%.0f %%" % (100.0 * fo / g) if g else "-"))
        f.write("| all | %d | %d | %d | %.0f %% | %.0f %% |\n" % (needed_all, reported_all, found_all, 100 * recall, 100 * precision))


def sample():
    src = os.path.join(OUT, "sample.c")
    text = open(os.path.join(TOP, "tests/analyze/sample.c")).read()
    open(src, "w").write(text)
    lines = text.split("\n")
    need = {i + 1 for i, l in enumerate(lines) if "/* NEEDED" in l}
    never = {i + 1 for i, l in enumerate(lines) if "/* NOT" in l}
    r = analyze(src, "--json", "--all")
    d = json.loads(r.stdout)
    got = {a["file_line"] for a in d["allocations"] if a["needed"]}
    tap(got == need, "sample: reports exactly the NEEDED lines %s (got %s)" % (sorted(need), sorted(got)))
    tap(not (got & never), "sample: leaves out the NOT lines (the task's own memory, main's own types)")
    tap("item_new" in d["wrappers"], "sample: detects item_new as an allocator wrapper")
    tap(any(g["name"] == "spare" for g in d["globals"]) and any(g["name"] == "limit" for g in d["globals"]),
        "sample: names the globals the task reads (spare, limit)")
    tap(any(s["name"] == "q" for s in d["stack"]), "sample: names the stack object passed by address (q)")
    r = analyze(src, "--fix")
    patch = r.stdout
    tap(r.returncode == 1 and "strdup" in r.stderr and "item_new" in r.stderr,
        "sample: --fix lists what it cannot rewrite (strdup, the wrapper's caller) and exits 1")
    tap("orbit_analyze_area(void)" in patch and "name orbit_analyze_area() in this call's areas" in r.stderr,
        "sample: --fix adds one area and names the call that must pass it")
    tap(patch.count("+\ta = orbit_alloc(orbit_analyze_area(), sizeof(*a));") == 1 and
        "orbit_calloc(orbit_analyze_area(), 1, sizeof(*spare))" in patch and
        "orbit_free(orbit_analyze_area(), a);" in patch and "orbit_free(orbit_analyze_area(), b->name);" in patch and
        "free(c);" not in [l[1:].strip() for l in patch.splitlines() if l.startswith("+")],
        "sample: --fix rewrites malloc, calloc and the frees of what they allocated, and nothing else")
    fixed = os.path.join(OUT, "fixed")
    os.makedirs(fixed, exist_ok=True)
    open(os.path.join(fixed, "sample.c"), "w").write(text)
    p = subprocess.run(["patch", "-s", "-p1", "-d", fixed], input=patch, text=True, capture_output=True)
    c = subprocess.run(["cc", "-fsyntax-only", "-Wall", "-Werror", *FLAGS, os.path.join(fixed, "sample.c")],
                       capture_output=True, text=True)
    tap(p.returncode == 0 and c.returncode == 0, "sample: the patch applies and the result compiles %s" % (p.stderr + c.stderr).strip())
    r = subprocess.run([A, "--frobnicate"], capture_output=True, text=True)
    tap(r.returncode == 2 and "usage" in r.stderr, "an unknown option is a usage error (exit 2)")


def main():
    os.makedirs(OUT, exist_ok=True)
    examples()
    sample()
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
