"""What a full garbage collection costs with the grant cache full, old entry shape against the current one.

    .venv/bin/python -m bench.gc_entries [--entries 200000]

Fills an OrderedDict the way GrantStore fills its LRU, once with the first version's values ((kind,
(Grant(...),)) with a frozenset function set) and once with the current flat tuples, then times
gc.collect() and measures the memory the entries take (tracemalloc). No database involved.
"""
from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections import OrderedDict

from . import common


def _fill(n: int, flat: bool) -> OrderedDict:
    from authz.grants import Grant
    fs = frozenset({"biz.query", "biz.invoice_use"})
    d = OrderedDict()
    for i in range(n):
        key = f"p-{i:010d}\x1fent:9136{i:014d}"
        if flat:
            d[key] = ("kind:ordinary", "tax_officer", 0b101, None, 1_900_000_000.0, 1_000_000 + i)
        else:
            d[key] = ("kind:ordinary", (Grant("tax_officer", fs, None, 1_900_000_000.0, f"binding:{1_000_000 + i}"),))
    return d


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=200_000)
    args = ap.parse_args(argv)
    rows = []
    for label, flat in (("Grant objects + frozenset (first version)", False), ("flat tuple (current)", True)):
        gc.collect()
        tracemalloc.start()
        d = _fill(args.entries, flat)
        size = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        gc.collect()  # the first pass untracks what can be untracked
        times = []
        for _ in range(3):
            t = time.perf_counter()
            gc.collect()
            times.append(time.perf_counter() - t)
        rows.append([label, f"{args.entries:,}", f"{size / args.entries:.0f}", f"{size / 2**20:.0f}",
                     f"{len(gc.get_objects()):,}", f"{min(times) * 1e3:.0f}"])
        del d
    print(common.table(["cache value", "entries", "bytes/entry (key + value + LRU)", "MiB",
                        "objects tracked by gc", "full gc.collect() ms"], rows,
                       f"Grant-cache entries and the garbage collector ({common.machine_facts()})"))


if __name__ == "__main__":
    main()
