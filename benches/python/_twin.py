"""Shared by the Python twins: time one run of a pattern and print one JSON line.

Every twin prints exactly one line on stdout, e.g.
    {"pattern": "lock-appends", "ops": 1000000, "seconds": 0.71, "ops_per_s": 1408450.7, "ns_per_op": 710.0}
which `vs_rust.py` reads. Only the standard library is used.
"""

import argparse
import json
import os
import sys
import time


def parse(description, default_ops, extra=None):
    """Command line of a twin: `--ops N` (the operations timed) plus any `extra(parser)` flags."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--ops", type=int, default=default_ops, help="operations to time (default %(default)s)")
    if extra:
        extra(parser)
    return parser.parse_args()


def report(pattern, ops, seconds, **fields):
    """Print the one machine-readable line of a twin."""
    line = {
        "pattern": pattern,
        "ops": ops,
        "seconds": seconds,
        "ops_per_s": ops / seconds,
        "ns_per_op": seconds * 1e9 / ops,
        "python": sys.version.split()[0],
        "cpus": sorted(os.sched_getaffinity(0)),
    }
    line.update(fields)
    print(json.dumps(line), flush=True)


def timed(body):
    """Seconds `body()` takes on the wall clock."""
    start = time.perf_counter()
    body()
    return time.perf_counter() - start
