#!/usr/bin/env python3
"""Pools the paired per-round ratios of several bench/pgbench.sh sittings.

A single sitting's median swings with the machine (on the 2-core VMs of
bench/RESULTS.md, buffered/PgBouncer medians of one binary went from
0.84 to 0.97 within an hour); the median over every round of several
sittings is the figure to compare with a bar. Reads the "Per round:"
lines that bench/pgbench.sh prints to stdout, e.g.

    select simple 8 clients, airlock-buffered/pgbouncer: 0.97 0.87 1.07 (median 0.97)

and prints, for each pair, the rounds pooled: how many, their median and
mean, the smallest and largest, and how many reach BAR (if given).

    python3 bench/pool.py first.out second.out [--bar 0.9]
"""

import argparse
import re
import statistics
import sys
from collections import defaultdict

ROUND_LINE = re.compile(
    r"^\s*(?P<workload>\S+) (?P<mode>\S+) (?P<clients>\d+) clients, "
    r"(?P<pair>\S+): (?P<ratios>[0-9. ]+?)\s*\(median [0-9.]+\)\s*$"
)


def rounds_in(lines):
    """Yields (key, [ratios]) for each per-round line."""
    for line in lines:
        match = ROUND_LINE.match(line)
        if not match:
            continue
        key = (match["workload"], match["mode"], int(match["clients"]), match["pair"])
        yield key, [float(r) for r in match["ratios"].split()]


def pool(paths):
    pooled = defaultdict(list)
    sittings = defaultdict(int)
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for key, ratios in rounds_in(f):
                pooled[key].extend(ratios)
                sittings[key] += 1
    return pooled, sittings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outputs", nargs="+", help="stdout of bench/pgbench.sh runs")
    parser.add_argument("--bar", type=float, help="count the rounds at or above this ratio")
    args = parser.parse_args()

    pooled, sittings = pool(args.outputs)
    if not pooled:
        sys.exit("no per-round lines found (bench/pgbench.sh prints them under 'Per round:')")

    header = "| workload | mode | clients | pair | sittings | rounds | median | mean | min | max |"
    rule = "|---|---|--:|---|--:|--:|--:|--:|--:|--:|"
    if args.bar is not None:
        header += f" rounds ≥ {args.bar:g} |"
        rule += "--:|"
    print(header)
    print(rule)
    for key in sorted(pooled):
        workload, mode, clients, pair = key
        ratios = pooled[key]
        row = (
            f"| {workload} | {mode} | {clients} | {pair} | {sittings[key]} | {len(ratios)} "
            f"| {statistics.median(ratios):.3f} | {statistics.fmean(ratios):.3f} "
            f"| {min(ratios):.2f} | {max(ratios):.2f} |"
        )
        if args.bar is not None:
            # The printed ratios have two decimals; compare them as printed.
            reached = sum(1 for r in ratios if round(r, 2) >= round(args.bar, 2))
            row += f" {reached} of {len(ratios)} |"
        print(row)


if __name__ == "__main__":
    main()
