"""Shared helpers for the benchmarks: where data lives, opening it, measuring memory, printing tables."""
from __future__ import annotations

import os
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
MODEL = ROOT / "policies" / "model.conf"
RULES = ROOT / "policies" / "rules.csv"


def default_url(n: int) -> str:
    return f"sqlite:///{VAR / f'bench-{n}.db'}"


def requests_path(n: int, seed: int) -> Path:
    """The fixed request file depends only on N and the seed, so SQLite and PostgreSQL runs share it."""
    return VAR / f"requests-n{n}-s{seed}.jsonl"


def open_db(url: str):
    from authz.db import open_database
    db = open_database(url)
    db.connect(reuse_if_open=True)
    return db


def rss_mb() -> float:
    """Resident set size of this process (VmRSS from /proc/self/status), MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def hwm_mb() -> float:
    """Peak resident set size of this process (VmHWM), MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def summary_us(ns: list[int]) -> dict:
    """p50 / p99 / max / mean of nanosecond samples, in microseconds."""
    if not ns:
        return {"n": 0}
    s = sorted(ns)
    return {"n": len(s), "p50": pct(s, 50) / 1e3, "p99": pct(s, 99) / 1e3, "max": s[-1] / 1e3,
            "mean": statistics.fmean(s) / 1e3}


def table(headers: list[str], rows: list[list], title: str = "") -> str:
    """A GitHub-flavoured markdown table (also readable in a terminal)."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    out = []
    if title:
        out.append(title)
        out.append("")
    out.append("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    return "\n".join(out)


def machine_facts() -> str:
    import platform
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem} RAM, Python {platform.python_version()}, {platform.system()}"
