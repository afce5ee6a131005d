"""The project's enforcer against plain pycasbin `Enforcer` and `FastEnforcer`, on the same data in one run.

    .venv/bin/python -m bench.enforcer --n 100000 [--database-url URL] [--skip-plain] [--plain-max-n 100000]

Generates the data set first if the database does not hold it (bench/generate.py). Each contender runs in
a subprocess of its own so resident memory is comparable:

* ours      authz Service + Enforcer (lazy grants from the database, bounded LRU), change feed running;
* plain     casbin.Enforcer over PeeweeAdapter with every binding loaded as g lines (authz.enforcer.
            reference_enforcer, the test suite's reference);
* fast      casbin.FastEnforcer, same loading, cache_key_order=[2, 3] (policies filtered by object and
            action: the request's subject and domain never equal p.sub / p.dom in this model).

Each contender: time until ready; resident memory (VmRSS) when ready and after one decision in every
enterprise ("touch"); the 20,000 fixed requests of bench/generate.py in several passes (ours: pass 1
reads each pair from the database, later passes hit the cache) with p50/p99 per decision; a binding
added and removed in K enterprises (ours through Directory, committed to the database; plain in memory
with auto-save off, as add_grouping_policy / remove_grouping_policy); the rule file reloaded. Answers of
every contender are compared request by request and the run says how many differ.

Plain pycasbin at 1M enterprises needs minutes and ~10 GB: contenders other than ours run only up to
--plain-max-n enterprises (default 100,000); the output says when they were skipped.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import common

CONTENDERS = ("ours", "plain", "fast")
LABEL = {"ours": "authz Enforcer", "plain": "pycasbin Enforcer", "fast": "pycasbin FastEnforcer"}
TOUCH_OBJ = ("ac.ent.info.basic", "view")


# ---------------------------------------------------------------- worker side
class GcWatch:
    """Collects garbage-collector pauses (they land in the latency tail)."""

    def __init__(self):
        self.pauses: list[tuple[int, int]] = []
        self._start = 0

    def __call__(self, phase, info):
        if phase == "start":
            self._start = time.perf_counter_ns()
        else:
            self.pauses.append((info["generation"], time.perf_counter_ns() - self._start))

    def take(self) -> dict:
        p, self.pauses = self.pauses, []
        full = [d for g, d in p if g == 2]
        return {"count": len(p), "total_ms": sum(d for _, d in p) / 1e6, "max_ms": max((d for _, d in p), default=0) / 1e6,
                "full": len(full)}


def _load_plain(fast: bool):
    """Plain pycasbin with everything loaded, as authz.enforcer.reference_enforcer does."""
    import casbin
    from authz.casbin_adapter import PeeweeAdapter
    from authz.enforcer import reference_enforcer
    from authz import policy as pol
    if not fast:
        return reference_enforcer(str(common.MODEL))
    from casbin.model import FastModel, Model

    class FixedFastModel(FastModel):
        """pycasbin 2.8's FastModel.add_def returns None, so Model._load_section stops after the first
        assertion of a section: the model's g2 is silently dropped and enforce raises 'Function g2 not
        defined'. Same behaviour, with the return value passed on."""

        def add_def(self, sec, key, value):
            ok = Model.add_def(self, sec, key, value)
            if ok and sec == "p" and key == "p":
                FastModel.add_def(self, sec, key, value)
            return ok

    class FixedFastEnforcer(casbin.FastEnforcer):
        def new_model(self, path="", text=""):
            m = FixedFastModel(self._cache_key_order)
            m.load_model(path) if path else m.load_model_from_text(text)
            return m

    adapter = PeeweeAdapter(with_bindings=True)
    e = FixedFastEnforcer(str(common.MODEL), cache_key_order=[2, 3])
    e.set_adapter(adapter)
    e.load_policy()

    def in_function_set(sub, role, dom, obj):
        if not str(obj).startswith(pol.BIZ_PREFIX):
            return True
        return any(fs is None or obj in fs for fs in adapter.function_sets.get((sub, role, dom), ()))

    e.add_function("inFunctionSet", in_function_set)
    return e


def _iter_touch(db, budget_s: float):
    """(uid, domain) of the first binding of every enterprise, streamed by id; stops after budget_s."""
    last, prev, deadline = 0, None, time.monotonic() + budget_s
    sql = ("SELECT b.id, p.uid, b.domain FROM binding b JOIN person p ON p.id = b.person_id "
           f"WHERE b.id > {db.param} ORDER BY b.id LIMIT 20000")
    while time.monotonic() < deadline:
        rows = db.execute_sql(sql, (last,)).fetchall()
        if not rows:
            return
        for _, uid, dom in rows:
            if dom != prev:
                prev = dom
                yield uid, dom
        last = rows[-1][0]


def _pass(decide, reqs) -> tuple[list[int], list[bool], float]:
    ns, answers = [], []
    clock = time.perf_counter_ns
    t0 = time.perf_counter()
    for s, d, o, a in reqs:
        t = clock()
        ok = decide(s, d, o, a)
        ns.append(clock() - t)
        answers.append(bool(ok))
    return ns, answers, time.perf_counter() - t0


def _bits(answers: list[bool]) -> str:
    return "".join("1" if a else "0" for a in answers)


def worker(args) -> dict:
    from authz import policy as pol
    name = args.worker
    out: dict = {"contender": name, "n": args.n}
    reqs_raw = _requests(args)
    reqs = [(r["s"], r["d"], r["o"], r["a"]) for r in reqs_raw]
    index = pol.load_file(common.RULES)
    out["rss_start_mb"] = common.rss_mb()
    watch = GcWatch()
    gc.callbacks.append(watch)
    svc = e = None

    # ---- ready
    t0 = time.perf_counter()
    if name == "ours":
        from authz.config import Settings
        from authz.service import Service
        overrides = {"grant_cache_size": args.cache_size} if args.cache_size else {}
        svc = Service(Settings.from_env({"DATABASE_URL": args.database_url}, **overrides)).start(
            upgrade=False, follow=True)
        svc.db.connect(reuse_if_open=True)
        enforcer = svc.enforcer
        decide = enforcer.can
        db = svc.db
        out["cache_capacity"] = enforcer.grants.cache.capacity
    else:
        db = common.open_db(args.database_url)
        e = _load_plain(fast=(name == "fast"))
        decide = e.enforce
    out["ready_s"] = time.perf_counter() - t0
    out["rss_ready_mb"] = common.rss_mb()
    out["gc_ready"] = watch.take()

    # ---- one decision in every enterprise
    touched, touch_ns, h = 0, 0, hashlib.sha1()
    clock = time.perf_counter_ns
    obj, act = TOUCH_OBJ
    t0 = time.perf_counter()
    budget = args.touch_budget if name == "ours" or args.plain_touch_budget is None else args.plain_touch_budget
    for uid, dom in _iter_touch(db, budget):
        t = clock()
        ok = decide(uid, dom, obj, act)
        touch_ns += clock() - t
        touched += 1
        h.update(b"1" if ok else b"0")
    out["touch"] = {"enterprises": touched, "wall_s": time.perf_counter() - t0, "decide_s": touch_ns / 1e9,
                    "digest": h.hexdigest(), "complete": touched >= args.n}
    out["rss_touched_mb"] = common.rss_mb()
    out["gc_touch"] = watch.take()
    if name == "ours":
        out["cache_entries"] = len(enforcer.grants.cache)
        out["db_loads_touch"] = enforcer.grants.loads

    # ---- the fixed requests
    passes = []
    answers0 = None
    for i in range(args.passes if name == "ours" else args.plain_passes):
        loads0 = enforcer.grants.loads if name == "ours" else 0
        ns, answers, wall = _pass(decide, reqs)
        p = dict(common.summary_us(ns), rate=len(reqs) / wall, gc=watch.take())
        if name == "ours":
            p["db_loads"] = enforcer.grants.loads - loads0
        passes.append(p)
        if answers0 is None:
            answers0 = answers
        elif answers != answers0:
            p["differs_from_pass_1"] = sum(a != b for a, b in zip(answers, answers0))
    out["passes"] = passes
    out["answers"] = _bits(answers0)
    t0 = time.perf_counter()
    for s, d, o, a in reqs:  # throughput without the per-decision timer
        decide(s, d, o, a)
    out["untimed_rate"] = len(reqs) / (time.perf_counter() - t0)
    out["rss_after_requests_mb"] = common.rss_mb()
    # ---- batches of 50 (ours: can_many, which reads a batch's uncached pairs in one query on PostgreSQL;
    # plain: batch_enforce)
    batches = {}
    if name == "ours":
        enforcer.grants.invalidate(None, None)
        phases = (("cold", enforcer.can_many), ("warm", enforcer.can_many))
    else:
        phases = (("warm", e.batch_enforce),)
    for phase, fn in phases:
        ns, answers = [], []
        for i in range(0, len(reqs) if name == "ours" else min(len(reqs), 2000), 50):
            chunk = reqs[i:i + 50]
            t = time.perf_counter_ns()
            answers += fn(chunk)
            ns.append(time.perf_counter_ns() - t)
        batches[phase] = dict(common.summary_us(ns), wrong=sum(bool(a) != b for a, b in zip(answers, answers0)))
    out["batches"] = batches
    by_cat: dict[str, list[int]] = {}
    for r, a in zip(reqs_raw, answers0):
        c = by_cat.setdefault(r["c"], [0, 0])
        c[0] += 1
        c[1] += a
    out["categories"] = by_cat

    # ---- binding add / remove
    out["writes"] = _writes(args, name, index, decide, svc, e, reqs_raw)
    out["gc_writes"] = watch.take()

    # ---- rule file reload
    t0 = time.perf_counter()
    if name == "ours":
        from authz import policystore
        text = common.RULES.read_text(encoding="utf-8")
        ti = time.perf_counter()
        policystore.install(str(common.MODEL), text, by="bench")
        out["install_s"] = time.perf_counter() - ti
        t0 = time.perf_counter()
        enforcer.reload(policystore.load_current())
        decide(*reqs[0])  # the first decision after a reload recompiles the decision table
        out["reload_s"] = time.perf_counter() - t0
    elif args.n <= args.plain_reload_max_n:
        e.load_policy()
        out["reload_s"] = time.perf_counter() - t0
    out["rss_end_mb"] = common.rss_mb()
    out["rss_peak_mb"] = common.hwm_mb()
    if name == "ours":
        svc.close()
    return out


def _requests(args) -> list[dict]:
    from .generate import load_requests
    return load_requests(common.requests_path(args.n, args.seed))


def _writes(args, name, index, decide, svc, e, reqs_raw) -> dict:
    """Add a tax-officer binding for a fresh person in K enterprises, check it is visible, remove it."""
    kinds_pairs = sorted((r.obj, r.act) for r in index.rules
                         if r.role == "tax_officer" and r.obj.startswith("ac.") and r.dom in ("*", "kind:enterprise"))
    probe = kinds_pairs[0]
    domains = []
    for r in reqs_raw:
        if r["d"].startswith("ent:") and r["d"] not in domains:
            domains.append(r["d"])
        if len(domains) >= (args.changes if name == "ours" else args.plain_changes):
            break
    uid = "p-benchwriter"
    add_ns, remove_ns, first_ns, wrong = [], [], [], 0
    if name == "ours":
        from authz.db import database
        from authz import bindings
        from authz.directory import Directory
        from authz.models import Binding, ChangeLog, Document, Enterprise, Person
        from authz.vocab import Party
        directory = Directory(svc)
        bench_enterprise = bindings.Who(Party.ENTERPRISE, "system:bench")
        first_change = ChangeLog.select(ChangeLog.id).order_by(ChangeLog.id.desc()).limit(1).scalar() or 0

        def cleanup():
            old = Person.get_or_none(Person.uid == uid)
            if old is not None:
                with database.atomic():
                    Binding.delete().where(Binding.person == old).execute()
                    Document.delete().where(Document.person == old).execute()
                    old.delete_instance()
        cleanup()
        person = directory.create_person("基准写入", "resident_id", "BENCH-WRITER-0001", uid=uid)
        try:
            for dom in domains:
                ent = Enterprise.get(Enterprise.uscc == dom[4:])
                t = time.perf_counter_ns()
                b = directory.bind(person, ent, "tax_officer", state="active", origin="hall")
                add_ns.append(time.perf_counter_ns() - t)
                t = time.perf_counter_ns()
                wrong += not decide(uid, dom, *probe)
                first_ns.append(time.perf_counter_ns() - t)
                t = time.perf_counter_ns()
                bindings.transition(svc, b, "deleted", by=bench_enterprise)
                remove_ns.append(time.perf_counter_ns() - t)
                t = time.perf_counter_ns()
                wrong += decide(uid, dom, *probe)
                first_ns.append(time.perf_counter_ns() - t)
        finally:
            cleanup()
            ChangeLog.delete().where(ChangeLog.id > first_change).execute()
    else:
        e.enable_auto_save(False)  # in memory only: PeeweeAdapter stores rule lines, not bindings
        for dom in domains:
            t = time.perf_counter_ns()
            e.add_grouping_policy(uid, "tax_officer", dom)
            add_ns.append(time.perf_counter_ns() - t)
            t = time.perf_counter_ns()
            wrong += not decide(uid, dom, *probe)
            first_ns.append(time.perf_counter_ns() - t)
            t = time.perf_counter_ns()
            e.remove_grouping_policy(uid, "tax_officer", dom)
            remove_ns.append(time.perf_counter_ns() - t)
            t = time.perf_counter_ns()
            wrong += decide(uid, dom, *probe)
            first_ns.append(time.perf_counter_ns() - t)
    return {"add": common.summary_us(add_ns), "remove": common.summary_us(remove_ns),
            "first_decision": common.summary_us(first_ns), "probe": list(probe),
            "wrong_after_change": wrong}


# ---------------------------------------------------------------- parent side
def _run_worker(args, name: str) -> dict:
    with tempfile.NamedTemporaryFile("r", suffix=".json", delete=False) as f:
        path = f.name
    cmd = [sys.executable, "-m", "bench.enforcer", "--worker", name, "--n", str(args.n), "--seed", str(args.seed),
           "--database-url", args.database_url, "--out", path, "--passes", str(args.passes),
           "--plain-passes", str(args.plain_passes),
           "--touch-budget", str(args.touch_budget), "--changes", str(args.changes),
           *(["--plain-touch-budget", str(args.plain_touch_budget)] if args.plain_touch_budget is not None else []),
           "--plain-changes", str(args.plain_changes), "--plain-reload-max-n", str(args.plain_reload_max_n)]
    if args.cache_size:
        cmd += ["--cache-size", str(args.cache_size)]
    print(f"-- {LABEL[name]}: running in a subprocess (limit {args.timeout} s)", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=common.ROOT, timeout=args.timeout, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    except subprocess.TimeoutExpired:
        Path(path).unlink(missing_ok=True)
        return {"contender": name, "error": f"timed out after {args.timeout} s"}
    try:
        if proc.returncode != 0:
            return {"contender": name, "error": f"exit {proc.returncode}: {proc.stdout[-2000:]}"}
        result = json.loads(Path(path).read_text())
    finally:
        Path(path).unlink(missing_ok=True)
    print(f"   done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return result


def _f(v, fmt="{:,.1f}"):
    return "—" if v is None else fmt.format(v)


def report(args, results: list[dict], skipped: list[str], env: dict) -> str:
    ok = [r for r in results if "error" not in r]
    lines = [f"## Enforcer benchmark: N = {args.n:,} enterprises, {env['db']}", ""]
    lines.append(f"Command: `{env['command']}`  ")
    lines.append(f"Machine: {env['machine']}; load average {env['load_before']} before, {env['load_after']} after.  ")
    meta = env.get("data") or {}
    st = meta.get("stats") or {}
    if st:
        lines.append(f"Data: {args.n:,} enterprises, {st.get('bindings', 0):,} bindings, {st.get('persons', 0):,} persons "
                     f"({st.get('persons_multi_pct')}% in several enterprises, max {st.get('max_enterprises_per_person')}), "
                     f"{st.get('agreements', 0):,} agreements; seed {args.seed}; 20,000 fixed requests.  ")
    lines.append(f"Rule file: {env.get('rules', '?')}.  ")
    if skipped:
        lines.append(f"Not run: {', '.join(skipped)}.  ")
    for r in results:
        if "error" in r:
            lines.append(f"**{LABEL[r['contender']]} failed**: {r['error']}  ")
    lines.append("")
    if not ok:
        return "\n".join(lines)
    rows = []
    for r in ok:
        t = r["touch"]
        touched = f"{t['enterprises']:,}" + ("" if t["complete"] else " (budget hit)")
        rows.append([LABEL[r["contender"]], _f(r["ready_s"], "{:,.2f}"), _f(r["rss_ready_mb"], "{:,.0f}"), touched,
                     _f(t["enterprises"] / t["decide_s"] if t["decide_s"] else None, "{:,.0f}"),
                     _f(r["rss_touched_mb"], "{:,.0f}"), _f(r["rss_peak_mb"], "{:,.0f}"),
                     r.get("cache_entries", "—") if r["contender"] == "ours" else "—"])
    lines.append(common.table(["contender", "ready s", "RSS ready MB", "enterprises touched", "touch decisions/s",
                               "RSS touched MB", "peak RSS MB", "cache entries"], rows,
                              "Start-up and memory (touch = one decision in every enterprise, in id order)"))
    lines.append("")
    rows = []
    for r in ok:
        for i, p in enumerate(r["passes"]):
            what = "cold: pairs read from DB" if r["contender"] == "ours" and i == 0 else (
                "warm: cached" if r["contender"] == "ours" else "")
            rows.append([LABEL[r["contender"]], f"{i + 1} {what}".strip(), _f(p["rate"], "{:,.0f}"),
                         _f(p["p50"]), _f(p["p99"]), _f(p["max"], "{:,.0f}"), p.get("db_loads", "—"),
                         f"{p['gc']['count']} / {p['gc']['total_ms']:.0f} / {p['gc']['max_ms']:.0f}"])
        rows.append([LABEL[r["contender"]], "untimed loop (last state)", _f(r["untimed_rate"], "{:,.0f}"),
                     "", "", "", "", ""])
    lines.append(common.table(["contender", "pass", "decisions/s", "p50 µs", "p99 µs", "max µs", "DB reads",
                               "GC runs / ms / max ms"], rows,
                              "Decisions on the 20,000 fixed requests (one process, one thread)"))
    lines.append("")
    rows = []
    for r in ok:
        for phase, b in r.get("batches", {}).items():
            rows.append([LABEL[r["contender"]], phase, b["n"], _f(b["p50"] / 1e3, "{:,.2f}"),
                         _f(b["p99"] / 1e3, "{:,.2f}"), _f(b["max"] / 1e3, "{:,.1f}"), b["wrong"]])
    lines.append(common.table(["contender", "cache", "batches", "p50 ms", "p99 ms", "max ms",
                               "answers differing from pass 1"], rows,
                              "Batches of 50 of the same requests (ours: can_many after emptying the cache, then "
                              "again; plain: batch_enforce, first 2,000 requests)"))
    lines.append("")
    rows = []
    for r in ok:
        w = r["writes"]
        rows.append([LABEL[r["contender"]], w["add"]["n"], _f(w["add"]["p50"] / 1e3, "{:,.2f}"),
                     _f(w["add"]["p99"] / 1e3, "{:,.2f}"), _f(w["remove"]["p50"] / 1e3, "{:,.2f}"),
                     _f(w["remove"]["p99"] / 1e3, "{:,.2f}"),
                     f"{_f(w['first_decision']['p50'])} / {_f(w['first_decision']['p99'])}", w["wrong_after_change"],
                     _f(r.get("reload_s"), "{:,.3f}"), _f(r.get("install_s"), "{:,.3f}")])
    lines.append(common.table(["contender", "changes", "add p50 ms", "add p99 ms", "remove p50 ms", "remove p99 ms",
                               "next decision p50 / p99 µs", "wrong answer after change", "reload s", "install s"],
                              rows,
                              "Binding changes and rule-file reload (ours: Directory.bind / transition(deleted), "
                              "committed, cache invalidated; plain: add/remove_grouping_policy in memory, "
                              "auto-save off)"))
    lines.append("")
    # answers
    base = ok[0]
    reqs = _requests(args)
    mismatch_lines = []
    for r in ok[1:]:
        diff = [i for i, (a, b) in enumerate(zip(base["answers"], r["answers"])) if a != b]
        same_touch = base["touch"]["digest"] == r["touch"]["digest"] if (
            base["touch"]["complete"] and r["touch"]["complete"]) else None
        mismatch_lines.append(f"{LABEL[base['contender']]} vs {LABEL[r['contender']]}: {len(diff)} of "
                              f"{len(reqs):,} answers differ" + (
                                  "" if same_touch is None else
                                  f"; touch answers {'identical' if same_touch else 'DIFFER'}"))
        for i in diff[:10]:
            q = reqs[i]
            mismatch_lines.append(f"  request {i}: {q} -> {base['answers'][i]} vs {r['answers'][i]}")
    for r in ok:
        for i, p in enumerate(r["passes"]):
            if p.get("differs_from_pass_1"):
                mismatch_lines.append(f"{LABEL[r['contender']]} pass {i + 1}: {p['differs_from_pass_1']} answers "
                                      "differ from pass 1")
    if mismatch_lines:
        lines.append("Answers: " + "  \n".join(mismatch_lines))
    else:
        lines.append("Answers: one contender only; nothing to compare.")
    cats = base["categories"]
    lines.append("")
    lines.append("Request mix (allowed / total): " + ", ".join(f"{c} {v[1]:,}/{v[0]:,}" for c, v in sorted(cats.items())))
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--database-url", default=None, help="default: sqlite:///var/bench/bench-<N>.db")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--contenders", default="ours,plain,fast")
    ap.add_argument("--skip-plain", action="store_true", help="run only the project's enforcer")
    ap.add_argument("--plain-max-n", type=int, default=100_000,
                    help="run plain pycasbin contenders only up to this N (default 100,000)")
    ap.add_argument("--plain-reload-max-n", type=int, default=100_000, help="reload plain contenders up to this N")
    ap.add_argument("--passes", type=int, default=3, help="passes over the fixed requests (ours)")
    ap.add_argument("--plain-passes", type=int, default=1, help="passes over the fixed requests (plain contenders)")
    ap.add_argument("--touch-budget", type=float, default=600, help="seconds allowed for touching every enterprise")
    ap.add_argument("--plain-touch-budget", type=float, default=None,
                    help="seconds allowed for the plain contenders' touch (default: --touch-budget)")
    ap.add_argument("--changes", type=int, default=200, help="binding add/remove pairs (ours)")
    ap.add_argument("--plain-changes", type=int, default=20, help="binding add/remove pairs (plain contenders)")
    ap.add_argument("--cache-size", type=int, default=0, help="grant cache capacity (default: the service's)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds allowed per contender")
    ap.add_argument("--markdown", default=None, help="also append the report to this file")
    ap.add_argument("--worker", choices=CONTENDERS, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.database_url = args.database_url or common.default_url(args.n)
    if args.worker:
        result = worker(args)
        Path(args.out).write_text(json.dumps(result))
        return
    from . import generate
    from authz import migrations
    shown = list(argv if argv is not None else sys.argv[1:])
    if "--markdown" in shown:  # where the report is copied is not part of what was measured
        i = shown.index("--markdown")
        del shown[i:i + 2]
    env = {"command": ".venv/bin/python -m bench.enforcer " + " ".join(shown),
           "machine": common.machine_facts(), "load_before": _load(),
           "db": "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"}
    env["data"] = generate.generate(args.n, args.database_url, args.seed)
    db = common.open_db(args.database_url)
    migrations.upgrade(db)  # a schema step added after the data was generated is applied before timing
    # every contender loads the rule file in force from the database: put the current file in force first
    from authz import policystore
    current = policystore.load_current()
    text = common.RULES.read_text(encoding="utf-8")
    index, _ = policystore.install(str(common.MODEL), text, by="bench") if (
        current is None or current.source != text) else (current, None)
    env["rules"] = index.digest[:12]
    generated_under = (env["data"] or {}).get("rules_digest")
    if generated_under and generated_under != index.digest:
        env["rules"] += (f" (the request file was drawn under rule file {generated_under[:12]}: its categories are "
                         "labels; answers are still compared between contenders)")
    db.close()
    wanted = [c.strip() for c in args.contenders.split(",") if c.strip()]
    skipped = []
    if args.skip_plain:
        skipped += [f"{LABEL[c]} (--skip-plain)" for c in wanted if c != "ours"]
        wanted = [c for c in wanted if c == "ours"]
    elif args.n > args.plain_max_n:
        skipped += [f"{LABEL[c]} (N > --plain-max-n {args.plain_max_n:,})" for c in wanted if c != "ours"]
        wanted = [c for c in wanted if c == "ours"]
    results = [_run_worker(args, c) for c in wanted]
    env["load_after"] = _load()
    text = report(args, results, skipped, env)
    print(text)
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as f:
            f.write(text + "\n\n")


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
