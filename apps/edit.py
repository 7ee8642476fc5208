#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Applies a port's edits to an upstream source tree.

Each edit names an anchor: a line of the upstream file, matched exactly
after stripping blanks at both ends (or, for an anchor that ends in
"...", the lines that start with the rest), that must occur exactly once.  An
edit that does not find its anchor fails the build, so a new upstream
version is noticed, never patched half-way.

usage: edit.py TREE EDITS

EDITS holds blocks separated by lines of "----":
    FILE <path in TREE>
    <mode> <anchor>          mode: after, before, replace
    <the lines to insert; none for a deletion with replace>
Lines starting with "## " are comments.  The tree is a fresh copy of
the upstream source: the edits are applied once.
"""
import sys

def die(msg):
    sys.exit("edit.py: " + msg)


def apply(tree, block, done):
    lines = block.strip("\n").split("\n")
    if len(lines) < 2 or not lines[0].startswith("FILE "):
        die("bad block:\n" + block)
    path = tree + "/" + lines[0][5:].strip()
    mode, _, anchor = lines[1].partition(" ")
    body = lines[2:]
    if mode not in ("after", "before", "replace"):
        die("bad mode %r" % mode)
    with open(path) as f:
        text = f.read().split("\n")
    a = anchor.strip()
    if a.endswith("..."):
        hits = [i for i, l in enumerate(text) if l.strip().startswith(a[:-3])]
    else:
        hits = [i for i, l in enumerate(text) if l.strip() == a]
    if len(hits) != 1:
        die("%s: anchor %r found %d times" % (path, anchor, len(hits)))
    i = hits[0]
    if mode == "after":
        text[i + 1:i + 1] = body
    elif mode == "before":
        text[i:i] = body
    else:
        text[i:i + 1] = body
    with open(path, "w") as f:
        f.write("\n".join(text))
    done.add(path)


def main():
    if len(sys.argv) != 3:
        die("usage: edit.py TREE EDITS")
    tree, edits = sys.argv[1], sys.argv[2]
    done = set()
    for block in open(edits).read().split("\n----\n"):
        block = "\n".join(l for l in block.split("\n") if not l.startswith("## "))
        if block.strip():
            apply(tree, block, done)
    print("edit.py: %d files edited" % len(done))


main()
