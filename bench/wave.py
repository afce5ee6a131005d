"""The check path when it is cold for real: a login wave, and a worker restart under traffic (issue 14).

    .venv/bin/python -m bench.wave --n 10000 [--database-url URL] [--sessions 5000] [--seconds 8]

Side by side in one run, on gunicorn (gthread, the way `authz serve` runs it) with the same request bodies:

* **bare Flask**: bench/bare_app.py, the yardstick;
* **no session**: the service started afresh, its caches empty, checking pairs no session has touched
  (bench/http.py's "first" phase, on this bench's bodies): each first decision of a pair on each worker
  is a database round trip;
* **login wave**: the service started afresh; this process then opens a session for each of --sessions
  (person, enterprise) pairs, as another worker's or instance's logins would (authz.sessions.create, which
  leaves the read-ahead hint in the change log), waits until /metrics says both workers have read them
  (the time is reported), then checks those pairs: the business systems' first checks of new sessions;
* **restart**: steady traffic on the wave's pairs (their sessions live), one worker killed a third of the
  way in (gunicorn starts another); /metrics is sampled every 100 ms for the grant-cache hit ratio
  (1 - misses / decisions, summed over workers), reporting how long after the kill the ratio is back
  above 90 %, with the start-up warm-up (AUTHZ_WARM_START_SESSIONS) on and off.

The sessions are ended afterwards, so a later run's "no session" phase (and bench/http.py's "first") are
not warmed by a start-up read of this run's sessions. Load: wrk when installed, else the Python load
generator of bench/http.py; both share the machine's cores with the server, so the ratio to bare Flask is
the comparable figure.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from . import common
from .http import _free_port, _phase, _phase_wrk, _server_times, _start, _stop


def _scrape(port: int) -> dict[str, float]:
    """The counters this bench reads from /metrics, summed over label sets."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {"decisions": 0.0, "loads": 0.0, "warmed": 0.0}
    names = {"authz_decisions_total": "decisions", "authz_grant_loads_total": "loads",
             "authz_grants_warmed_total": "warmed"}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in names:
            out[names[name]] += float(line.rsplit(" ", 1)[1])
    return out


def _workers(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _wave(svc, reqs: list[dict], k: int) -> tuple[list[tuple], list[bytes]]:
    """Up to k (person, enterprise) pairs of the fixed requests where the person holds a binding, with an
    identity to open a session as; and the requests of those pairs as bodies."""
    from authz.sessions import Identity
    from authz.vocab import Entry
    pairs: dict[tuple[str, str], Identity] = {}
    for r in reqs:
        key = (r["s"], r["d"])
        if key in pairs or not r["d"].startswith("ent:"):
            continue
        for g in svc.enforcer.roles_in(r["s"], r["d"]):
            if g.source.startswith("binding:"):
                pairs[key] = Identity(Entry.ENTERPRISE, r["d"], g.role, binding_id=int(g.source.split(":")[1]))
                break
        if len(pairs) >= k:
            break
    bodies = [json.dumps({"subject": r["s"], "domain": r["d"], "object": r["o"], "action": r["a"]}).encode()
              for r in reqs if (r["s"], r["d"]) in pairs]
    return list(pairs.items()), bodies


def _open_sessions(svc, pairs) -> tuple[list, float]:
    from authz import sessions
    from authz.models import Person
    people = {p.uid: p for p in Person.select().where(Person.uid.in_(list({s for (s, _d), _i in pairs})))}
    rows = []
    t0 = time.perf_counter()
    for i in range(0, len(pairs), 200):  # committed 200 at a time: followers see them as they come
        with svc.db.atomic():
            for (s, _d), ident in pairs[i:i + 200]:
                rows.append(sessions.create(svc, people[s], ident, client="app")[1])
    return rows, time.perf_counter() - t0


def _read_ahead_rate(pairs) -> tuple[int, float]:
    """Pairs per second one thread reads ahead into an empty grant store (GrantStore.warm: in batches of
    100 on PostgreSQL, one by one on SQLite): what a follower spends on each session opened elsewhere."""
    from authz.grants import GrantStore
    store = GrantStore(len(pairs) + 1)
    t0 = time.perf_counter()
    n = store.warm([p for p, _ident in pairs])
    return n, n / (time.perf_counter() - t0)


def _until(pred, timeout: float) -> float | None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if pred():
            return time.perf_counter() - t0
        time.sleep(0.05)
    return None


def _load(args, port, bodies, key, seconds, tmp) -> dict:
    if args.load == "wrk":
        return _phase_wrk(port, "/api/v1/check", bodies, key, seconds, args.procs, args.conns, tmp)
    return _phase(port, "/api/v1/check", bodies, key, seconds, args.procs, args.conns)


def _restart(args, env, bodies, key, tmp, warm_start: int) -> dict:
    """Steady traffic, one worker killed at a third of the run; the hit ratio per 100 ms window."""
    port = _free_port()
    log = os.path.join(tmp, f"restart-{port}.log")
    env = dict(env, AUTHZ_WARM_START_SESSIONS=str(warm_start), PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(dir=tmp))
    proc = _start("api.wsgi:app", port, env, args.workers, args.threads, log)
    try:
        _load(args, port, bodies, key, 3.0, tmp)  # every worker warm on the traffic
        box: dict = {}
        t = threading.Thread(target=lambda: box.update(r=_load(args, port, bodies, key, args.seconds, tmp)))
        t.start()
        samples, killed_at, prev = [], None, _scrape(port)
        t0 = time.perf_counter()
        while t.is_alive():
            time.sleep(0.1)
            now = time.perf_counter() - t0
            if killed_at is None and now >= args.seconds / 3:
                victim = _workers(proc.pid)[0]
                os.kill(victim, signal.SIGKILL)  # as a crash or the OOM killer would: no graceful drain
                killed_at = now
            cur = _scrape(port)
            d = cur["decisions"] - prev["decisions"]
            if d > 0:
                # (a window's misses can be counted in the next one: clamped to 0..1)
                samples.append((now, min(1.0, max(0.0, 1 - (cur["loads"] - prev["loads"]) / d)), d))
            prev = cur
        t.join()
        after = [(at, ratio) for at, ratio, _d in samples if killed_at is not None and at > killed_at]
        dip = min((ratio for _at, ratio in after), default=1.0)
        # back above 90 %: the first window after the last one below it
        below = [at for at, ratio in after if ratio < 0.9]
        recovered = (max(below) - killed_at + 0.1) if below else 0.0
        return {"warm_start": warm_start, "rate": box["r"]["rate"], "dip": dip, "recovered_s": recovered,
                "windows": len(samples)}
    finally:
        _stop(proc)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sessions", type=int, default=5000, help="sessions of the login wave (distinct pairs)")
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--load", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python")
    ap.add_argument("--skip-restart", action="store_true")
    args = ap.parse_args(argv)
    url = args.database_url or common.default_url(args.n)
    from .generate import generate, load_requests
    generate(args.n, url, args.seed)
    reqs = load_requests(common.requests_path(args.n, args.seed))
    os.environ["DATABASE_URL"] = url
    from authz import clients, migrations, sessions
    from authz.config import Settings
    from authz.models import ServiceClient
    from authz.service import Service
    db = common.open_db(url)
    migrations.upgrade(db)
    db.close()
    svc = Service(Settings.from_env().with_(warm_start_sessions=0)).start(upgrade=False, follow=False)
    name = f"bench-wave-{os.getpid()}"
    _, key = clients.create(name)
    pairs, bodies = _wave(svc, reqs, args.sessions)
    ahead_n, ahead_rate = _read_ahead_rate(pairs)
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=str(common.ROOT))
    tmp = tempfile.mkdtemp(prefix="bench-wave-")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    rows, restarts, opened, procs = [], [], [], []
    try:
        for label, app, state in (("bare Flask", "bench.bare_app:app", ""),
                                  ("authz check API", "api.wsgi:app", "no session"),
                                  ("authz check API", "api.wsgi:app", "login wave")):
            port = _free_port()
            log = os.path.join(tmp, f"{port}.log")
            penv = dict(env, PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(dir=tmp))
            proc = _start(app, port, penv, args.workers, args.threads, log)
            procs.append(proc)
            extra, seen = {}, 0
            if label == "bare Flask":
                _load(args, port, bodies, key, 3.0, tmp)  # its warm-up: imports, connections
                _, seen = _server_times(log, "/api/v1/check", 0)
            if state == "login wave":
                opened, took = _open_sessions(svc, pairs)
                want = len(pairs) * args.workers
                waited = _until(lambda: _scrape(port)["warmed"] >= want, 60)
                extra = {"opened_per_s": len(pairs) / took, "ready_s": waited}
            before = _scrape(port) if app == "api.wsgi:app" else None
            r = _load(args, port, bodies, key, args.seconds, tmp)
            st, _ = _server_times(log, "/api/v1/check", seen)
            if before is not None:
                after = _scrape(port)
                d = after["decisions"] - before["decisions"]
                extra["hit"] = 1 - (after["loads"] - before["loads"]) / d if d else float("nan")
            rows.append({"server": label, "state": state, **r, **st, **extra})
            print(f"  {label} {state}: {r['rate']:,.0f}/s {extra}", file=sys.stderr, flush=True)
            _stop(proc)
            procs.remove(proc)
        if not args.skip_restart:
            for warm_start in (Settings().warm_start_sessions, 0):
                restarts.append(_restart(args, env, bodies, key, tmp, warm_start))
                print(f"  restart {restarts[-1]}", file=sys.stderr, flush=True)
    finally:
        for p in procs:
            _stop(p)
        for row in opened:
            sessions.end(svc, row, sessions.EndReason.LOGOUT)
        ServiceClient.delete().where(ServiceClient.name == name).execute()
        svc.close()
    bare = rows[0]["rate"]
    table = []
    for r in rows:
        table.append([r["server"], r["state"], f"{r['requests']:,}", r["errors"], f"{r['rate']:,.0f}",
                      "" if r is rows[0] else f"{r['rate'] / bare:.0%}",
                      f"{r['hit']:.1%}" if "hit" in r else "", f"{r['p50']:.2f}", f"{r['p99']:.2f}",
                      f"{r['server_p50']:.2f}", f"{r['server_p99']:.2f}"])
    db_kind = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(common.table(["server", "sessions", "requests", "errors", "requests/s", "of bare", "cache hits",
                        "p50 ms", "p99 ms", "server p50 ms", "server p99 ms"], table,
                       f"Login wave, N = {args.n:,}, {db_kind}: {len(pairs):,} pairs, {len(bodies):,} request bodies; "
                       f"gunicorn gthread {args.workers} workers x {args.threads} threads; load: {args.load}, "
                       f"{args.seconds:g} s per phase ({common.machine_facts()}; load average {load})"))
    wave = next((r for r in rows if r["state"] == "login wave"), None)
    if wave:
        ready = "not within 60 s" if wave["ready_s"] is None else f"{wave['ready_s']:.2f} s"
        print(f"\nsessions opened: {wave['opened_per_s']:,.0f}/s; every worker had read them ahead {ready} after "
              f"the last was committed")
    print(f"read ahead in process, one thread, empty store: {ahead_n:,} pairs at {ahead_rate:,.0f} pairs/s")
    if restarts:
        print(common.table(["AUTHZ_WARM_START_SESSIONS", "requests/s", "lowest hit ratio after the kill",
                            "back above 90 % after", "100 ms windows"],
                           [[f"{r['warm_start']:,}", f"{r['rate']:,.0f}", f"{r['dip']:.1%}",
                             f"{r['recovered_s']:.1f} s", r["windows"]] for r in restarts],
                           "\nOne of the workers killed (SIGKILL) under traffic; gunicorn starts a new one"))


if __name__ == "__main__":
    main()
