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

Ports (apps/): the allocation points the hand-made ports moved into the
area (apps/<app>/analyze.truth) must be found with a recall of at least
90 %, counting what a porter acts on: base allocators the needed points
reach through wrappers, and needed points that call one directly.

Prints TAP lines ("ok - ...") and writes the tables to
build/analyze/results.md and build/analyze/ports.md.
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


# The application ports (apps/, built by make check before this runs):
# each compiled source of the server, read with the stock allocators
# (ORBIT_APP_HEAP_NO_REDIRECT); the truth is apps/<app>/analyze.truth.
INC = ["-I" + os.path.join(TOP, p) for p in ("libuorbit", "build/include", "uapi")]
STD_ALLOC = {"malloc", "calloc", "realloc", "strdup", "strndup", "aligned_alloc"}


def port_sources(app, tree):
    if app == "memcached":
        objs = [f for f in os.listdir(tree) if f.endswith(".o")]
        return sorted(f[len("memcached-"):-2] + ".c" for f in objs if f.startswith("memcached-")) + \
            sorted(f[:-2] + ".c" for f in objs if f.startswith("orbit_"))
    mk = open(os.path.join(tree, "Makefile")).read()
    objs = []
    for m in re.finditer(r"^REDIS_SERVER_OBJ\+?=(.*)$", mk, re.M):
        objs += [o for o in m.group(1).split() if o.endswith(".o")]
    return [o[:-2] + ".c" for o in objs]


PORTS = {
    "memcached": ("build/apps/memcached/orbit", [], ["-I.", "-DHAVE_CONFIG_H", "-pthread"]),
    "redis": ("build/apps/redis/orbit/src",
              # the tasks go to orbit_create through the ports' helper, and
              # zmalloc is the allocator, named as the options allow
              ["-t", "bg_task", "-t", "sl_task", "-a", "zmalloc", "-a", "zcalloc", "-a", "zrealloc"],
              ["-I.", "-I../deps/hiredis", "-I../deps/linenoise", "-I../deps/lua/src",
               "-I../deps/hdr_histogram", "-DUSE_ORBIT_HEAP", "-std=c11", "-DREDIS_STATIC="]),
}


def ports():
    rows, needed_all, found_all, reported_all = [], 0, 0, 0
    for app, (tree, opts, flags) in PORTS.items():
        tree = os.path.join(TOP, tree)
        truth = [l.split() for l in open(os.path.join(TOP, "apps", app, "analyze.truth"))
                 if l.strip() and not l.startswith("#")]
        if not os.path.isdir(tree):
            tap(False, "ports: %s is not built (make apps)" % app)
            continue
        r = subprocess.run([A, "--json", *opts, *port_sources(app, tree), "--", *flags, *INC,
                            "-DORBIT_APP_HEAP_NO_REDIRECT"], cwd=tree, capture_output=True, text=True)
        try:
            d = json.loads(r.stdout)
        except ValueError:
            tap(False, "ports: orbit-analyze --json on %s: %s" % (app, r.stderr.strip()[-300:]))
            continue
        # What a porter acts on: base allocators, and needed points that
        # call a base allocator directly (the others reach a base).
        got = [(a["file"], a["function"], a["allocator"]) for a in d["allocations"]
               if a["needed"] and a["allocator"] in STD_ALLOC]
        got += [(b["file"], b["function"], b["call"].split("(")[0]) for b in d["base_allocators"]]
        found = sum(1 for t in truth if tuple(t) in got)
        needed_all += len(truth)
        found_all += found
        reported_all += len(got)
        rows.append((app, len(truth), len(got), found))
        print("# %s: needed %s, reported %s" % (app, truth, got))
    recall = found_all / needed_all if needed_all else 0.0
    precision = found_all / reported_all if reported_all else 0.0
    tap(needed_all > 0 and recall >= 0.9,
        "ports: recall %.0f %% (%d of %d allocation points of the hand-made ports found; target 90 %%)"
        % (100 * recall, found_all, needed_all))
    with open(os.path.join(TOP, "build/analyze/ports.md"), "w") as f:
        f.write("| port | needed | reported | found | recall | precision |\n|---|---:|---:|---:|---:|---:|\n")
        for app, n, g, fo in rows:
            f.write("| %s | %d | %d | %d | %.0f %% | %s |\n" % (app, n, g, fo, 100.0 * fo / n,
                                                          "%.0f %%" % (100.0 * fo / g) if g else "-"))
        f.write("| all | %d | %d | %d | %.0f %% | %.0f %% |\n" % (needed_all, reported_all, found_all,
                                                              100 * recall, 100 * precision))


def main():
    os.makedirs(OUT, exist_ok=True)
    examples()
    sample()
    ports()
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
