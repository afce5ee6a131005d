"""Generate a province-sized data set for the enforcer benchmarks, and the fixed request file.

    .venv/bin/python -m bench.generate --n 100000 [--database-url URL] [--seed 1] [--force]

Writes N enterprises (about 90% ordinary, 8% tax-service agencies, 2% non-resident), five bindings each
(legal rep, finance officer, admin or tax officer, tax officer, invoice officer / tax agent in agencies;
about 30% of officer bindings with a narrowed function set, about 12% with a validity end, half of them
already past, about 4% pending, 1% disabled), persons (about 3% in several enterprises, a few in dozens,
0.5% deregistered) and agency agreements (half of the agencies, one client each). Rows go in directly:
executemany inside one transaction per chunk on SQLite, COPY on PostgreSQL (ids assigned here, sequences
reset afterwards). Deterministic for a given (N, seed): the same rows and the same request file on
SQLite and PostgreSQL.

The request file (var/bench/requests-n<N>-s<seed>.jsonl, 20,000 lines) mixes: allowed (bindings, agency
agreements, personal domains), denied by identity type, denied by function set, unknown subject, past
validity end, pending binding, deregistered person. Each line carries its category; the benchmark
checks answers between enforcers, the category is only a label.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import sys
import time
from pathlib import Path

from . import common

ROLE_SLOTS_ORDINARY = ("legal_rep", "finance_officer", None, "tax_officer", "invoice_officer")
NARROWABLE = {"tax_officer", "invoice_officer", "admin", "tax_agent"}
KINDS = ("ordinary", "agency", "nonresident")
EXPIRED_DATES = ("2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31")
FUTURE_DATES = ("2031-06-30", "2032-12-31", "2035-12-31")
NOW = 1_780_000_000.0  # created_at / updated_at of generated rows (a fixed instant: deterministic files)

PERSON_COLS = ("id", "uid", "name", "gender", "nationality", "overseas", "realname_level", "username", "email",
               "address", "password_hash", "must_change_password", "registered", "collected_offline",
               "collected_phone", "status", "created_at", "updated_at")
ENTERPRISE_COLS = ("id", "uscc", "name", "kind", "province", "tax_authority", "realname_status",
                   "nonresident_code", "created_at", "updated_at")
BINDING_COLS = ("id", "person_id", "enterprise_id", "domain", "role", "functions", "valid_until", "state",
                "enabled", "origin", "sub_identity", "assist_code", "assist_functions", "initiated_by",
                "hidden_for_person", "hidden_for_enterprise", "version", "created_at", "updated_at", "decided_at")
AGREEMENT_COLS = ("id", "number", "agency_id", "client_id", "client_domain", "start", "end", "status",
                  "permissions", "created_at", "updated_at")
AGENT_COLS = ("id", "agreement_id", "person_id", "client_domain")
TABLES = (("person", PERSON_COLS), ("enterprise", ENTERPRISE_COLS), ("binding", BINDING_COLS),
          ("agreement", AGREEMENT_COLS), ("agreement_agent", AGENT_COLS))

CATEGORIES = (  # (name, weight)
    ("allowed", 36), ("allowed_agent", 2), ("allowed_self", 2), ("denied_role", 20),
    ("denied_function_set", 15), ("unknown_subject", 13), ("expired", 8), ("pending", 2), ("deregistered", 2),
)
ALLOWED_CATEGORIES = {"allowed", "allowed_agent", "allowed_self"}


def uscc_of(i: int) -> str:
    return f"9136{i:014d}"


def uid_of(pid: int) -> str:
    return f"p-{pid:010d}"


class Generator:
    """Builds rows enterprise by enterprise from one random stream (deterministic for (n, seed))."""

    def __init__(self, n: int, seed: int, index):
        self.n, self.seed, self.index = n, seed, index
        self.rng = random.Random(seed)
        self.next_pid = 1
        self.next_bid = 1
        self.next_agid = 1
        self.next_aaid = 1
        self.kinds = bytearray(n)
        self.multi_open: list[list[int]] = []  # [pid, uses left]
        self.person_status: dict[int, str] = {}  # only for sampled enterprises' persons (requests)
        n_heavy = max(3, n // 40_000)
        self.heavy = [[0, 0] for _ in range(n_heavy)]
        self.p_heavy = 0.0
        self.rows = {t: [] for t, _ in TABLES}
        self.ceilings = {(role, kind): index.ceiling(role, index.kinds_of(f"kind:{kind}"))
                         for role in index.roles for kind in KINDS}
        self._fs_json: dict[tuple, str] = {}
        req_rng = random.Random(seed * 1_000_003 + 7)
        self.sampled = set(req_rng.sample(range(n), min(n, 25_000)))
        self.records: dict[int, dict] = {}
        self.stats = {"persons": 0, "deregistered": 0, "bindings": 0, "narrowed": 0, "valid_until": 0,
                      "pending": 0, "disabled": 0, "agreements": 0, "agents": 0}

    def _new_person(self) -> int:
        pid = self.next_pid
        self.next_pid += 1
        status = "deregistered" if self.rng.random() < 0.005 else "active"
        self.stats["persons"] += 1
        if status != "active":
            self.stats["deregistered"] += 1
        self.rows["person"].append((pid, uid_of(pid), f"人员{pid}", "", "CHN", 0, 3, None, "", "", None, 0, 1, 0,
                                    "", status, NOW, NOW))
        self.person_status[pid] = status
        return pid

    def start(self) -> None:
        for h in self.heavy:  # a few persons (bookkeepers) act for dozens of enterprises
            h[0] = self._new_person()
            h[1] = self.rng.randint(24, 60)
        self.p_heavy = sum(h[1] for h in self.heavy) / (2 * self.n)

    def _person_for(self, slot: int, taken: set[int]) -> int:
        rng = self.rng
        if slot >= 3 and rng.random() < self.p_heavy:
            h = self.heavy[rng.randrange(len(self.heavy))]
            if h[1] > 0 and h[0] not in taken:
                h[1] -= 1
                return h[0]
        if self.multi_open and rng.random() < 0.07:
            k = rng.randrange(len(self.multi_open))
            m = self.multi_open[k]
            if m[0] not in taken:
                m[1] -= 1
                if m[1] <= 0:
                    self.multi_open[k] = self.multi_open[-1]
                    self.multi_open.pop()
                return m[0]
        pid = self._new_person()
        if rng.random() < 0.03:  # this person will hold bindings in 2-5 enterprises
            self.multi_open.append([pid, rng.choice((1, 1, 2, 2, 3, 4))])
        return pid

    def _narrow(self, role: str, kind: str) -> tuple[str, ...] | None:
        ceiling = self.ceilings[(role, kind)]
        if len(ceiling) < 2 or self.rng.random() >= 0.3:
            return None
        return tuple(sorted(self.rng.sample(ceiling, self.rng.randint(1, len(ceiling) - 1))))

    def _fs_text(self, fs: tuple[str, ...] | None) -> str | None:
        if fs is None:
            return None
        text = self._fs_json.get(fs)
        if text is None:
            text = self._fs_json[fs] = json.dumps(list(fs), ensure_ascii=False, sort_keys=True)
        return text

    def enterprise(self, i: int) -> None:
        rng = self.rng
        r = rng.random()
        kind = "ordinary" if r < 0.90 else "agency" if r < 0.98 else "nonresident"
        self.kinds[i] = KINDS.index(kind)
        eid, uscc = i + 1, uscc_of(i)
        domain = "ent:" + uscc
        self.rows["enterprise"].append((eid, uscc, f"示例企业{i}有限公司", kind, "36", "国家税务总局示例市税务局",
                                        "verified", None, NOW, NOW))
        roles = list(ROLE_SLOTS_ORDINARY)
        roles[2] = "admin" if rng.random() < 0.7 else "tax_officer"
        if kind == "agency":
            roles[4] = "tax_agent"
        taken: set[int] = set()
        record = {"i": i, "domain": domain, "kind": kind, "bindings": [], "agents": []} if i in self.sampled else None
        slot_pids = []
        for slot, role in enumerate(roles):
            pid = self._person_for(slot, taken)
            taken.add(pid)
            slot_pids.append(pid)
            fs = self._narrow(role, kind) if role in NARROWABLE else None
            valid_until = None
            if slot >= 2 and rng.random() < 0.12:
                valid_until = rng.choice(EXPIRED_DATES if rng.random() < 0.5 else FUTURE_DATES)
            state = "pending" if slot >= 2 and rng.random() < 0.04 else "active"
            enabled = 0 if rng.random() < 0.01 else 1
            bid = self.next_bid
            self.next_bid += 1
            self.rows["binding"].append((
                bid, pid, eid, domain, role, self._fs_text(fs), valid_until, state, enabled,
                "registration" if slot < 2 else "enterprise", 0, 0, None, "enterprise", 0, 0, 1, NOW, NOW,
                NOW if state == "active" else None))
            st = self.stats
            st["bindings"] += 1
            st["narrowed"] += fs is not None
            st["valid_until"] += valid_until is not None
            st["pending"] += state == "pending"
            st["disabled"] += not enabled
            if record is not None:
                record["bindings"].append({"uid": uid_of(pid), "role": role, "fs": fs, "until": valid_until,
                                           "state": state, "enabled": bool(enabled),
                                           "person": self.person_status[pid]})
        if record is not None:
            self.records[i] = record
        if kind == "agency" and i > 0 and rng.random() < 0.5:
            self._agreement(i, eid, slot_pids)

    def _agreement(self, i: int, agency_eid: int, slot_pids: list[int]) -> None:
        rng = self.rng
        j = rng.randrange(i)
        client_kind = KINDS[self.kinds[j]]
        ceiling = self.ceilings[("tax_agent", client_kind)]
        perms = tuple(sorted(rng.sample(ceiling, rng.randint(1, len(ceiling)))))
        end = "2030-12-31" if rng.random() < 0.8 else "2025-12-31"
        status = "active" if rng.random() < 0.95 else "ended"
        agid = self.next_agid
        self.next_agid += 1
        client_domain = "ent:" + uscc_of(j)
        self.rows["agreement"].append((agid, f"AG-{self.seed}-{i:08d}", agency_eid, j + 1, client_domain,
                                       "2025-01-01", end, status, self._fs_text(perms), NOW, NOW))
        agents = [slot_pids[4]] + ([slot_pids[3]] if rng.random() < 0.3 else [])
        for pid in agents:
            self.rows["agreement_agent"].append((self.next_aaid, agid, pid, client_domain))
            self.next_aaid += 1
            if j in self.records:
                self.records[j]["agents"].append({"uid": uid_of(pid), "perms": perms, "end": end, "status": status,
                                                  "person": self.person_status.get(pid, "active")})
        self.stats["agreements"] += 1
        self.stats["agents"] += len(agents)

    def take_rows(self) -> dict[str, list]:
        rows, self.rows = self.rows, {t: [] for t, _ in TABLES}
        # forget statuses of persons no sampled enterprise or open multi-person can still refer to
        if len(self.person_status) > 200_000:
            keep = {m[0] for m in self.multi_open} | {h[0] for h in self.heavy}
            self.person_status = {k: v for k, v in self.person_status.items() if k in keep}
        return rows


# ---------------------------------------------------------------- writing
class Writer:
    def __init__(self, db, dry: bool = False):
        from authz.db import is_postgres
        self.db = db
        self.dry = dry
        self.pg = is_postgres()

    def prepare(self) -> None:
        if self.dry:
            return
        if self.pg:
            # rows are consistent by construction: skip per-row foreign-key triggers during the load
            # (needs a superuser; without one the load is just slower)
            try:
                with self.db.atomic():
                    self.db.execute_sql("SET session_replication_role = replica")
            except Exception:
                pass
        else:
            self.db.execute_sql("PRAGMA synchronous=OFF")
            self.db.execute_sql("PRAGMA cache_size=-524288")

    def write(self, rows: dict[str, list]) -> int:
        if self.dry:
            return sum(len(v) for v in rows.values())
        written = 0
        with self.db.atomic():
            for table, cols in TABLES:
                data = rows[table]
                if not data:
                    continue
                written += len(data)
                collist = ", ".join(f'"{c}"' for c in cols)
                if self.pg:
                    buf = io.StringIO()
                    for r in data:
                        buf.write("\t".join("\\N" if v is None else str(v) for v in r))
                        buf.write("\n")
                    buf.seek(0)
                    self.db.cursor().copy_expert(f'COPY "{table}" ({collist}) FROM STDIN', buf)
                else:
                    marks = ", ".join("?" * len(cols))
                    self.db.cursor().executemany(f'INSERT INTO "{table}" ({collist}) VALUES ({marks})', data)
        return written

    def finish(self) -> None:
        if self.dry:
            return
        if self.pg:
            self.db.execute_sql("SET session_replication_role = DEFAULT")
            for table, _ in TABLES:
                self.db.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                    f"GREATEST(1, (SELECT COALESCE(MAX(id), 0) FROM \"{table}\")))")
            self.db.execute_sql("ANALYZE")
        else:
            self.db.execute_sql("PRAGMA analysis_limit=2000")
            self.db.execute_sql("ANALYZE")
            self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            self.db.execute_sql("PRAGMA synchronous=NORMAL")


# ---------------------------------------------------------------- requests
def _allowed_pairs(index, role: str, kind: str) -> list[tuple[str, str]]:
    kinds = index.kinds_of(f"kind:{kind}")
    return sorted({(r.obj, r.act) for r in index.rules if r.role == role and (r.dom == "*" or r.dom in kinds)})


def build_requests(gen: Generator, count: int) -> list[dict]:
    """The fixed request mix, drawn from the sampled enterprises' bindings and agreements."""
    index = gen.index
    rng = random.Random(gen.seed * 7_919 + 13)
    today = dt.date.today().isoformat()
    all_pairs = sorted((f.obj, a) for f in index.functions.values() for a in f.actions)
    allowed_cache: dict[tuple[str, str], list] = {}

    def allowed(role, kind):
        key = (role, kind)
        if key not in allowed_cache:
            allowed_cache[key] = _allowed_pairs(index, role, kind)
        return allowed_cache[key]

    def grant_pairs(b, kind):
        pairs = allowed(b["role"], kind)
        if b["fs"] is None:
            return pairs
        return [p for p in pairs if not p[0].startswith("biz.") or p[0] in b["fs"]]

    def live(b):
        return b["state"] == "active" and b["enabled"] and b["person"] == "active" and (
            b["until"] is None or b["until"] >= today)

    records = [gen.records[k] for k in sorted(gen.records)]
    pools: dict[str, list] = {c: [] for c, _ in CATEGORIES}
    for rec in records:
        kind = rec["kind"]
        for b in rec["bindings"]:
            if live(b):
                pools["allowed"].append((rec, b))
                pools["denied_role"].append((rec, b))
                if b["fs"] is not None and any(p[0].startswith("biz.") and p[0] not in b["fs"]
                                               for p in allowed(b["role"], kind)):
                    pools["denied_function_set"].append((rec, b))
            if b["person"] == "active":
                pools["allowed_self"].append((rec, b))
            else:
                pools["deregistered"].append((rec, b))
            if b["state"] == "active" and b["until"] is not None and b["until"] < today:
                pools["expired"].append((rec, b))
            if b["state"] == "pending":
                pools["pending"].append((rec, b))
        for a in rec["agents"]:
            if a["status"] == "active" and a["end"] >= today and a["person"] == "active":
                pools["allowed_agent"].append((rec, a))
        pools["unknown_subject"].append((rec, None))
    foreign_uids = [b["uid"] for r in records[: 2000] for b in r["bindings"]]
    cats = [(c, w) for c, w in CATEGORIES if pools[c]]
    names = [c for c, _ in cats]
    weights = [w for _, w in cats]
    out: list[dict] = []
    nobody = 0
    while len(out) < count:
        cat = rng.choices(names, weights)[0]
        rec, b = rng.choice(pools[cat])
        dom, kind = rec["domain"], rec["kind"]
        if cat in ("allowed", "expired", "pending", "deregistered"):
            req = (b["uid"], dom, *rng.choice(grant_pairs(b, kind)))
        elif cat == "allowed_agent":
            req = (b["uid"], dom, rng.choice(b["perms"]), "use")
        elif cat == "allowed_self":
            req = (b["uid"], "person:" + b["uid"], *rng.choice(allowed("self", "personal")))
        elif cat == "denied_role":
            ok = set(allowed(b["role"], kind))
            req = (b["uid"], dom, *rng.choice([p for p in all_pairs if p not in ok]))
        elif cat == "denied_function_set":
            req = (b["uid"], dom, *rng.choice([p for p in allowed(b["role"], kind)
                                               if p[0].startswith("biz.") and p[0] not in b["fs"]]))
        else:  # unknown_subject: a made-up id, or a real person from another enterprise
            if rng.random() < 0.5:
                nobody += 1
                uid = f"p-nobody{nobody:07d}"
            else:
                mine = {x["uid"] for x in rec["bindings"]} | {x["uid"] for x in rec["agents"]}
                uid = rng.choice(foreign_uids)
                if uid in mine:
                    continue
            req = (uid, dom, *rng.choice(allowed("legal_rep", kind)))
        out.append({"s": req[0], "d": req[1], "o": req[2], "a": req[3], "c": cat})
    return out


def write_requests(path: Path, reqs: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for r in reqs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(path)


def load_requests(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------- meta
def read_meta(db) -> dict | None:
    if not db.table_exists("bench_meta"):
        return None
    rows = dict(db.execute_sql("SELECT k, v FROM bench_meta").fetchall())
    return {k: json.loads(v) for k, v in rows.items()}


def write_meta(db, meta: dict) -> None:
    db.execute_sql("CREATE TABLE IF NOT EXISTS bench_meta (k VARCHAR(32) PRIMARY KEY, v TEXT NOT NULL)")
    with db.atomic():
        db.execute_sql("DELETE FROM bench_meta")
        for k, v in meta.items():
            db.execute_sql(f"INSERT INTO bench_meta (k, v) VALUES ({db.param}, {db.param})", (k, json.dumps(v)))


def wipe(url: str) -> None:
    """Remove a previous data set (SQLite: the file; PostgreSQL: every table in schema public)."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        db = common.open_db(url)
        db.execute_sql("DROP SCHEMA public CASCADE")
        db.execute_sql("CREATE SCHEMA public")
        db.close()


# ---------------------------------------------------------------- main
def generate(n: int, url: str, seed: int = 1, n_requests: int = 20_000, force: bool = False,
             out=sys.stderr) -> dict:
    """Write the data set (unless the database already holds this (n, seed)) and the request file."""
    from authz import migrations, policy as pol, policystore
    rpath = common.requests_path(n, seed)
    db = common.open_db(url)
    meta = read_meta(db)
    dry = False
    if meta and not force:
        if not (meta.get("n") == n and meta.get("seed") == seed and meta.get("complete")):
            raise SystemExit(f"{url} holds a different or incomplete data set ({meta}); use --force")
        if rpath.exists():
            print(f"data for n={n} seed={seed} already in {url} (use --force to rebuild)", file=out)
            return meta
        print(f"data present in {url}; rebuilding the request file only", file=out)
        dry = True
    if not dry:
        db.close()
        if force or meta:
            wipe(url)
        db = common.open_db(url)
        if db.table_exists("enterprise") and db.execute_sql("SELECT COUNT(*) FROM enterprise").fetchone()[0]:
            raise SystemExit(f"{url} holds enterprises that are not a benchmark data set; refusing to touch it")
        migrations.upgrade(db)
        policystore.ensure_installed(str(common.MODEL), str(common.RULES))
        write_meta(db, {"n": n, "seed": seed, "complete": False})
    gen = Generator(n, seed, pol.load_file(common.RULES))
    writer = Writer(db, dry)
    writer.prepare()
    gen.start()
    t0 = time.perf_counter()
    total = 0
    chunk = 20_000
    last_print = 0.0
    for start in range(0, n, chunk):
        for i in range(start, min(n, start + chunk)):
            gen.enterprise(i)
        total += writer.write(gen.take_rows())
        now = time.perf_counter()
        done = min(n, start + chunk)
        if now - last_print > 2 or done == n:
            last_print = now
            el = now - t0
            print(f"  {done:>9,}/{n:,} enterprises  {total:>11,} rows  {total / el:>9,.0f} rows/s  "
                  f"{el:6.1f} s", file=out, flush=True)
    total += writer.write(gen.take_rows())
    t_rows = time.perf_counter() - t0
    print("  indexing statistics (ANALYZE) ...", file=out, flush=True)
    writer.finish()
    t_all = time.perf_counter() - t0
    multi = db.execute_sql("SELECT COUNT(*), MAX(c) FROM (SELECT person_id, COUNT(DISTINCT enterprise_id) AS c "
                           "FROM binding GROUP BY person_id HAVING COUNT(DISTINCT enterprise_id) > 1) AS m").fetchone()
    stats = dict(gen.stats, rows=total, seconds_rows=round(t_rows, 1), seconds_total=round(t_all, 1),
                 persons_multi=multi[0], persons_multi_pct=round(100 * multi[0] / gen.stats["persons"], 2),
                 max_enterprises_per_person=multi[1])
    reqs = build_requests(gen, n_requests)
    write_requests(rpath, reqs)
    if dry:
        db.close()
        print(f"  requests -> {rpath}", file=out)
        return meta
    meta = {"n": n, "seed": seed, "complete": True, "stats": stats, "requests": str(rpath),
            "generated_at": time.time(), "rules_digest": gen.index.digest}
    write_meta(db, meta)
    db.close()
    print(f"  wrote {total:,} rows in {t_rows:.1f} s ({total / t_rows:,.0f} rows/s), {t_all:.1f} s with ANALYZE; "
          f"persons {stats['persons']:,} ({stats['persons_multi_pct']}% in several enterprises, "
          f"max {stats['max_enterprises_per_person']}); requests -> {rpath}", file=out, flush=True)
    return meta


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="number of enterprises")
    ap.add_argument("--database-url", default=None, help="default: sqlite:///var/bench/bench-<N>.db")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--requests", type=int, default=20_000, help="size of the fixed request file")
    ap.add_argument("--force", action="store_true", help="drop an existing data set first")
    args = ap.parse_args(argv)
    url = args.database_url or common.default_url(args.n)
    print(f"generating n={args.n:,} seed={args.seed} into {url}", file=sys.stderr)
    generate(args.n, url, args.seed, args.requests, args.force)


if __name__ == "__main__":
    main()
