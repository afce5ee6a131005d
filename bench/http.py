"""The check API over HTTP under load, beside a bare Flask endpoint on the same server.

    .venv/bin/python -m bench.http --n 10000 [--database-url URL] [--seconds 10] [--workers 2] [--threads 4]

Starts gunicorn (gthread, the way `authz serve` runs it) on loopback twice: once with the service
(api.wsgi:app, a throw-away service key created for the run and deleted after), once with
bench/bare_app.py (same paths and JSON shapes, no work). A bounded Python load generator (--procs
processes x --conns keep-alive connections, for --seconds each phase) posts the 20,000 fixed requests of
bench/generate.py, single (/api/v1/check) and in batches of 50 (/api/v1/check/batch). Reports requests/s,
client-side p50/p99 and server time (gunicorn's %(D)s from the access log), and the ratio to the bare
endpoint. The service is started afresh for its single and for its batch phases, so each "first" phase
sends the 20,000 requests into empty grant caches (one per worker); the "warm" phase then repeats the first
--hot-requests (2,000) after an untimed warm-up on them, so every worker has every pair cached.

The load comes from wrk when it is installed (`apt-get install wrk`; a Lua script cycles through the same
bodies, each thread from its own offset), else from the Python generator (--load python). Either runs on
the same two cores as the server, so absolute throughput is bounded by the machine and the ratio to the
bare endpoint is the comparable figure.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import common


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(app: str, port: int, env: dict, workers: int, threads: int, log: str) -> subprocess.Popen:
    cmd = [str(common.ROOT / ".venv" / "bin" / "gunicorn"), "-w", str(workers), "-k", "gthread",
           "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--access-logfile", log,
           "--access-logformat", "%(U)s %(s)s %(D)s", "--log-level", "warning", app]
    # stderr to a file, not a pipe nobody reads: the workers' log lines (one per request) would fill a pipe
    # and block every worker on its next write
    err = open(log + ".stderr", "wb")
    proc = subprocess.Popen(cmd, cwd=common.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
                            start_new_session=True)
    proc.stderr_path = log + ".stderr"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn {app} exited: {Path(proc.stderr_path).read_text()[-2000:]}")
    raise RuntimeError(f"gunicorn {app} did not answer /healthz within 60 s")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _client(args):
    """One load-generator process: `conns` keep-alive connections served round robin, for `seconds`."""
    port, path, bodies, key, seconds, conns, offset = args
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    cs = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(conns)]
    lat, errors, i = [], 0, offset
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        c = cs[i % conns]
        body = bodies[i % len(bodies)]
        i += 1
        t = time.perf_counter_ns()
        try:
            c.request("POST", path, body=body, headers=headers)
            r = c.getresponse()
            r.read()
            ok = r.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            c.close()
        lat.append(time.perf_counter_ns() - t)
        errors += not ok
    for c in cs:
        c.close()
    return lat, errors


def _phase(port, path, bodies, key, seconds, procs, conns) -> dict:
    with mp.get_context("fork").Pool(procs) as pool:
        t0 = time.perf_counter()
        parts = pool.map(_client, [(port, path, bodies, key, seconds, conns, k * 997) for k in range(procs)])
        wall = time.perf_counter() - t0
    lat = sorted(x for p, _ in parts for x in p)
    return {"requests": len(lat), "errors": sum(e for _, e in parts), "rate": len(lat) / wall,
            "p50": common.pct(lat, 50) / 1e6, "p99": common.pct(lat, 99) / 1e6}


_WRK_LUA = r"""
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
function setup(thread) thread:set("offset", math.random(#bodies)) end
function request()
  i = i + 1
  return wrk.format(nil, nil, nil, bodies[((i + (offset or 0)) % #bodies) + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %.1f %.1f\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))
end
"""


def _phase_wrk(port, path, bodies, key, seconds, procs, conns, tmp) -> dict:
    """The same phase driven by wrk (C, event loop): --procs threads x --conns connections each."""
    data = b"\n".join(bodies) + b"\n"
    bodies_file = os.path.join(tmp, f"bodies-{hashlib.sha1(data).hexdigest()[:12]}.txt")
    script = os.path.join(tmp, "bench.lua")
    if not os.path.exists(bodies_file):
        Path(bodies_file).write_bytes(data)
    Path(script).write_text(_WRK_LUA)
    out = subprocess.run(["wrk", "-t", str(procs), "-c", str(procs * conns), "-d", f"{seconds:g}s", "--timeout", "10s",
                          "-s", script, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         env=dict(os.environ, BENCH_BODIES=bodies_file, BENCH_KEY=key), check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    n, duration_us, io_errors, status_errors, p50, p99 = line.split()[1:]
    return {"requests": int(n), "errors": int(io_errors) + int(status_errors),
            "rate": int(n) / (int(duration_us) / 1e6), "p50": float(p50) / 1e3, "p99": float(p99) / 1e3}


def _server_times(log: str, path: str, since_line: int) -> tuple[dict, int]:
    lines = Path(log).read_text().splitlines()
    us = sorted(int(x.split()[2]) for x in lines[since_line:] if x.startswith(path + " "))
    return {"server_p50": common.pct(us, 50) / 1e3, "server_p99": common.pct(us, 99) / 1e3}, len(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--procs", type=int, default=2, help="load-generator processes")
    ap.add_argument("--conns", type=int, default=4, help="keep-alive connections per load-generator process")
    ap.add_argument("--hot-requests", type=int, default=2000,
                    help="requests repeated by the warm phases (the first N of the fixed 20,000)")
    ap.add_argument("--load", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python",
                    help="load generator (default: wrk when installed, `apt-get install wrk`)")
    args = ap.parse_args(argv)
    url = args.database_url or common.default_url(args.n)
    from .generate import generate, load_requests
    from authz import clients
    from authz.models import ServiceClient
    generate(args.n, url, args.seed)
    reqs = load_requests(common.requests_path(args.n, args.seed))
    single = [json.dumps({"subject": r["s"], "domain": r["d"], "object": r["o"], "action": r["a"]}).encode()
              for r in reqs]
    batch = [json.dumps({"requests": [json.loads(b) for b in single[i:i + 50]]}).encode()
             for i in range(0, len(single), 50)]
    db = common.open_db(url)
    from authz import migrations
    migrations.upgrade(db)  # as `authz serve` does before forking: workers would race each other
    name = f"bench-http-{os.getpid()}"
    _, key = clients.create(name)
    db.close()
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=str(common.ROOT))
    tmp = tempfile.mkdtemp(prefix="bench-http-")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    rows, procs = [], []
    try:
        single_phase = ("single", "/api/v1/check", single)
        batch_phase = ("batch of 50", "/api/v1/check/batch", batch)
        hot = args.hot_requests
        hot_single = ("single", "/api/v1/check", single[:hot])
        hot_batch = ("batch of 50", "/api/v1/check/batch", batch[:max(1, hot // 50)])
        # The service starts afresh for its single and for its batch phases: "first" sends all 20,000
        # requests into empty grant caches (one per worker); "warm" then repeats the first --hot-requests
        # of them after an untimed warm-up on the same, so that every worker has every pair cached (the
        # first phase alone need not reach every request in every worker on a slower database).
        runs = [("bare Flask", "bench.bare_app:app", [("warm-up", single_phase), ("", single_phase), ("", batch_phase)]),
                ("authz check API", "api.wsgi:app", [("first", single_phase), ("warm-up", hot_single),
                                                     ("warm", hot_single)]),
                ("authz check API", "api.wsgi:app", [("first", batch_phase), ("warm-up", hot_batch),
                                                     ("warm", hot_batch)])]
        for label, app, phases in runs:
            port = _free_port()
            log = os.path.join(tmp, f"{port}.log")
            proc = _start(app, port, env, args.workers, args.threads, log)
            procs.append(proc)
            seen = 0
            for state, (what, path, bodies) in phases:
                seconds = min(3.0, args.seconds) if state == "warm-up" else args.seconds
                r = (_phase_wrk(port, path, bodies, key, seconds, args.procs, args.conns, tmp)
                     if args.load == "wrk" else _phase(port, path, bodies, key, seconds, args.procs, args.conns))
                st, seen = _server_times(log, path, seen)
                if state == "warm-up":
                    continue
                rows.append({"server": label, "what": what, "state": state, **r, **st})
                print(f"  {label} {what} {state}: {r['rate']:,.0f}/s", file=sys.stderr, flush=True)
            _stop(proc)
            procs.remove(proc)
    finally:
        for p in procs:
            _stop(p)
        db = common.open_db(url)
        ServiceClient.delete().where(ServiceClient.name == name).execute()
        db.close()
    bare = {r["what"]: r for r in rows if r["server"] == "bare Flask"}
    table = []
    for r in rows:
        ratio = "" if r["server"] == "bare Flask" else f"{r['rate'] / bare[r['what']]['rate']:.0%}"
        table.append([r["server"], r["what"], r["state"], f"{r['requests']:,}", r["errors"], f"{r['rate']:,.0f}",
                      ratio, f"{r['p50']:.2f}", f"{r['p99']:.2f}", f"{r['server_p50']:.2f}",
                      f"{r['server_p99']:.2f}"])
    db_kind = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(common.table(["server", "call", "grant caches", "requests", "errors", "requests/s", "of bare",
                        "p50 ms", "p99 ms", "server p50 ms", "server p99 ms"], table,
                       f"HTTP check on loopback, N = {args.n:,}, {db_kind}: gunicorn gthread {args.workers} workers x "
                       f"{args.threads} threads; load: {args.load}, {args.procs} {'threads' if args.load == 'wrk' else 'processes'} x "
                       f"{args.conns} keep-alive connections, "
                       f"{args.seconds:g} s per phase ({common.machine_facts()}; load average {load})"))


if __name__ == "__main__":
    main()
