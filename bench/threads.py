"""Is the grant cache's lock a bottleneck? Warm decisions from 1, 4 and 16 threads of one process.

    .venv/bin/python -m bench.threads --n 10000 [--database-url URL]

Compares the cache as it is (reads take no lock; writes and removals do) with reads under the lock, as
the first version had (lock, move_to_end, read). Under the GIL neither runs decisions in parallel; the
question is the tail: a thread preempted while holding the lock stalls every other reader until it runs
again (a lock convoy). The 20,000 fixed requests are decided once first, so every pass is warm.
"""
from __future__ import annotations

import argparse
import gc
import threading
import time

from . import common


def _locked_reads(grants):
    """Replace GrantStore.entry by the earlier lock-around-every-read version (same answers)."""
    from authz.grants import SEP
    cache = grants.cache
    lock, data, fetch = cache._lock, cache._data, grants.fetch

    def entry(subject, domain):
        key = subject + SEP + domain
        with lock:
            try:
                data.move_to_end(key)
                return data[key]
            except KeyError:
                pass
        gen = cache.gen
        found = fetch(subject, domain)
        cache.put(key, found, gen)
        return found
    grants.entry = entry


def run(args) -> list[list]:
    from authz.config import Settings
    from authz.service import Service
    from .generate import generate, load_requests
    generate(args.n, args.database_url, args.seed)
    reqs = [(r["s"], r["d"], r["o"], r["a"]) for r in load_requests(common.requests_path(args.n, args.seed))]
    svc = Service(Settings.from_env({"DATABASE_URL": args.database_url})).start(upgrade=False, follow=False)
    e = svc.enforcer
    rows = []
    for variant in ("lock-free reads (current)", "locked reads (first version)"):
        if variant.startswith("locked"):
            _locked_reads(e.grants)
        for r in reqs:  # warm
            e.can(*r)
        for threads in (1, 4, 16):
            samples: list[int] = []

            def work(k):
                ns = []
                clock = time.perf_counter_ns
                for s, d, o, a in reqs[k::threads]:
                    t = clock()
                    e.can(s, d, o, a)
                    ns.append(clock() - t)
                samples.extend(ns)

            gc.collect()
            t0 = time.perf_counter()
            for _ in range(args.rounds):
                ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
            wall = time.perf_counter() - t0
            samples.sort()
            rows.append([variant, threads, f"{args.rounds * len(reqs) / wall:,.0f}",
                         f"{common.pct(samples, 50) / 1e3:.1f}", f"{common.pct(samples, 99) / 1e3:.1f}",
                         f"{common.pct(samples, 99.9) / 1e3:,.0f}", f"{samples[-1] / 1e3:,.0f}"])
    svc.close()
    return rows


def main(argv=None) -> None:
    import os
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    args.database_url = args.database_url or common.default_url(args.n)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    rows = run(args)
    print(common.table(["cache reads", "threads", "decisions/s (all threads)", "p50 µs", "p99 µs", "p99.9 µs",
                        "max µs"], rows,
                       f"Warm decisions from threads of one process, N = {args.n:,} ({common.machine_facts()}; "
                       f"load average {load})"))


if __name__ == "__main__":
    main()
