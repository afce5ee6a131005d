"""Where a warm /api/v1/check request spends its time beyond the decision, in process (no sockets, no
load generator sharing the cores): the service's WSGI app against bench/bare_app.py on the same bodies.

    .venv/bin/python -m bench.profile_check [--n 1000] [--requests 20000] [--profile]

Builds the WSGI environ of each request once, then calls each app directly, warm (every pair cached), and
prints CPU microseconds per request for both and their difference. --profile adds cProfile's top functions of
the service's requests by internal time. The HTTP ratio (bench/http.py) is what the issue's target is
stated in; this is the in-process half of it, repeatable on a busy machine.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import time

from . import common


def _environs(bodies: list[bytes], key: str) -> list[dict]:
    from werkzeug.test import EnvironBuilder
    out = []
    for b in bodies:
        eb = EnvironBuilder(path="/api/v1/check", method="POST", data=b,
                            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
        out.append(eb.get_environ())
        eb.close()
    return out


def _run(app, environs: list[dict], rounds: int) -> float:
    """CPU seconds of this process for `rounds` requests cycling through `environs` (each copied: WSGI
    servers hand a fresh one). CPU time, not wall time: other work on the machine does not count."""
    status = []

    def start_response(s, h, exc_info=None):
        status.append(s)

    n = len(environs)
    t0 = time.process_time()
    for i in range(rounds):
        env = dict(environs[i % n])
        env["wsgi.input"] = io.BytesIO(env["_body"])
        for chunk in app(env, start_response):
            pass
    elapsed = time.process_time() - t0
    bad = [s for s in status if not s.startswith("200")]
    if bad:
        raise SystemExit(f"{len(bad)} requests did not answer 200: {bad[:3]}")
    return elapsed


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--hot", type=int, default=2000, help="distinct requests cycled (the first N of the fixed file)")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args(argv)
    url = common.default_url(args.n)
    from .generate import generate, load_requests
    generate(args.n, url, args.seed)
    reqs = load_requests(common.requests_path(args.n, args.seed))[: args.hot]
    bodies = [json.dumps({"subject": r["s"], "domain": r["d"], "object": r["o"], "action": r["a"]}).encode()
              for r in reqs]
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("AUTHZ_LOG_FORMAT", "text")
    from authz import clients, migrations
    db = common.open_db(url)
    migrations.upgrade(db)
    name = f"bench-profile-{os.getpid()}"
    _, key = clients.create(name)
    db.close()
    try:
        from api import create_app
        from bench.bare_app import app as bare
        service = create_app()
        envs = _environs(bodies, key)
        for e in envs:
            e["_body"] = e["wsgi.input"].read()
        _run(service.wsgi_app, envs, len(envs))  # warm: every pair cached, every code path imported
        _run(bare.wsgi_app, envs, len(envs))
        rows = []
        for label, app in (("bare Flask", bare.wsgi_app), ("authz check", service.wsgi_app)):
            best = min(_run(app, envs, args.requests) for _ in range(3))
            rows.append({"app": label, "requests": args.requests, "us_per_request": best / args.requests * 1e6})
        bare_us, ours_us = rows[0]["us_per_request"], rows[1]["us_per_request"]
        rows[1]["beyond_bare_us"] = ours_us - bare_us
        rows[1]["of_bare"] = f"{bare_us / ours_us:.0%}"
        print(common.table(["app", "requests", "µs per request", "beyond bare µs", "of bare"],
                           [[r["app"], f"{r['requests']:,}", f"{r['us_per_request']:.1f}",
                             f"{r.get('beyond_bare_us', 0):.1f}" if "beyond_bare_us" in r else "",
                             r.get("of_bare", "")] for r in rows],
                           f"in-process /api/v1/check, warm, N = {args.n}, best of 3 x {args.requests:,} requests"))
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            _run(service.wsgi_app, envs, args.requests)
            prof.disable()
            out = io.StringIO()
            stats = pstats.Stats(prof, stream=out)
            stats.sort_stats("tottime").print_stats(args.top)
            print("by cumulative time, the project's own code and the framework's request steps:", file=out)
            stats.sort_stats("cumulative").print_stats(r"(/api/|/authz/|flask_smorest|webargs|marshmallow/schema)",
                                                       args.top)
            print(out.getvalue())
    finally:
        db = common.open_db(url)
        from authz.models import ServiceClient
        ServiceClient.delete().where(ServiceClient.name == name).execute()
        db.close()


if __name__ == "__main__":
    main()
