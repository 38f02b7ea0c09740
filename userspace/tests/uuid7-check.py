#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The guest's `flakeid uuid7 -n 1000`, checked on the host by a parser
this project did not write: Python's uuid module.

    uuid7-check.py RESULTS

RESULTS is a guest's TAP stream (userspace/tests/guest.sh writes into it):
one line "# uuid7-check: from_ms=A to_ms=B count=N", or "# uuid7-check:
skip WHY", then lines "# uuid7: UUID UUID ...".  Prints TAP, one line a
property; exits 1 when any fails, or when the stream holds no such run.
"""
import sys
import uuid

results = []


def tap(good, name):
    results.append(bool(good))
    print("%sok %d - uuid7 (host): %s" % ("" if good else "not ", len(results), name))


def main(path):
    head, texts = None, []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith("# uuid7-check: ") and head is None:
                head = line[len("# uuid7-check: "):]
            elif line.startswith("# uuid7: ") and head is not None:
                texts.extend(line[len("# uuid7: "):].split())
    if head is None:
        tap(False, "the guest printed no `flakeid uuid7` run to check")
        return
    if head.startswith("skip"):
        print("ok 1 - uuid7 (host): # SKIP %s" % head[5:])
        return
    try:
        bounds = dict(kv.split("=", 1) for kv in head.split())
        lo, hi, count = (int(bounds[k]) for k in ("from_ms", "to_ms", "count"))
    except (KeyError, ValueError):
        tap(False, "a readable header (%s)" % head)
        return
    tap(len(texts) == count, "%d UUIDs, %d wanted" % (len(texts), count))

    parsed, bad = [], []
    for t in texts:
        try:
            parsed.append(uuid.UUID(t))
        except ValueError:
            bad.append(t)
    tap(not bad and parsed, "uuid.UUID() takes every one (%d not: %s)" % (len(bad), bad[:3]))
    tap(parsed and all(str(u) == t for u, t in zip(parsed, texts)),
        "each is printed in the canonical lowercase form")
    wrong = [str(u) for u in parsed if u.version != 7]
    tap(parsed and not wrong, ".version == 7 for all (%d not: %s)" % (len(wrong), wrong[:3]))
    wrong = [str(u) for u in parsed if u.variant != uuid.RFC_4122]
    tap(parsed and not wrong, ".variant == uuid.RFC_4122 for all (%d not: %s)" % (len(wrong), wrong[:3]))
    ms = [u.int >> 80 for u in parsed]
    out = [m for m in ms if not lo <= m <= hi]
    tap(parsed and not out, "timestamps (int >> 80) in [%d, %d] (%d outside: %s)"
        % (lo, hi, len(out), out[:3]))
    tap(parsed and len(set(parsed)) == len(parsed),
        "all distinct (%d repeats)" % (len(parsed) - len(set(parsed))))
    ints = [u.int for u in parsed]
    tap(parsed and all(a < b for a, b in zip(ints, ints[1:])),
        "in the order printed, strictly increasing")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: uuid7-check.py RESULTS")
    main(sys.argv[1])
    print("1..%d" % max(len(results), 1))
    sys.exit(0 if all(results) else 1)
