"""Issue 14: the first check of a session is a cache hit on every worker, not a database round trip.

A session opened (login, identity switch) leaves a `warm` hint in the change feed; every other worker's
follower thread reads that pair's grants ahead of the session's first check (R-AUTHZ-5's feed, so other
instances get it too). A worker starting reads the grants of the newest live sessions. Separate Service
objects on one database stand in for workers; their followers are driven by hand (`poll`, then the tasks
the follower runs after it), so nothing here waits on a clock or a thread."""
from __future__ import annotations

from authz import change_signal, grants, sessions
from authz.service import Service
from authz.sessions import EndReason, Identity
from authz.vocab import Entry
from tests.binding_support import move

USCC = "91360100MA35WARM1X"
DOM = f"ent:{USCC}"
CHECK = (DOM, "biz.query", "use")


def _worker(settings, clock) -> Service:
    return Service(settings, clock=clock).start(upgrade=False, follow=False)


def _follow(worker: Service) -> None:
    """What the worker's follower thread does once: read the change log, then the work it asks for."""
    worker.feed.poll()
    for task in worker.feed.idle_tasks:
        task()


def _officer(directory, uid="p-warm", doc="360102199202021234"):
    ent = directory.upsert_enterprise(USCC, "预热科技有限公司", "ordinary")
    p = directory.create_person("李四", "resident_id", doc, uid=uid)
    b = directory.bind(p, ent, "tax_officer", state="active", origin="hall")
    return p, b


def _open(svc, person, b):
    return sessions.create(svc, person, Identity(Entry.ENTERPRISE, DOM, "tax_officer", binding_id=b.id))


def test_issue14_R_AUTHZ_5_a_session_opened_in_one_worker_is_a_cache_hit_in_another(settings, svc, directory, clock):
    """Issue 14: worker B has never seen the pair; after A opens the session and B's follower runs, B's
    first decision for that session reads nothing from the database."""
    p, b = _officer(directory)
    other = _worker(settings, clock)
    try:
        _open(svc, p, b)
        _follow(other)
        loads = other.enforcer.grants.loads
        assert other.enforcer.grants.warmed == 1
        assert other.enforcer.can(p.uid, *CHECK) is True
        assert other.enforcer.grants.loads == loads, "the first decision of the session was a cache hit"
    finally:
        other.close()


def test_issue14_switching_identity_warms_the_new_domain_too(settings, svc, directory, clock):
    """Issue 14, R-SW-1: a switch opens a session in the new pair (rotate), which is warmed the same way."""
    p, b = _officer(directory)
    raw, row = sessions.create(svc, p, Identity(Entry.PERSONAL, f"person:{p.uid}", "self"),
                               enterprise_allowed=True)
    other = _worker(settings, clock)
    try:
        sessions.rotate(svc, sessions.resolve(svc, raw), Identity(Entry.ENTERPRISE, DOM, "tax_officer",
                                                                  binding_id=b.id))
        _follow(other)
        loads = other.enforcer.grants.loads
        assert other.enforcer.can(p.uid, *CHECK) is True and other.enforcer.grants.loads == loads
    finally:
        other.close()


def test_issue14_a_warm_hint_never_outlives_a_revocation(settings, svc, directory, clock):
    """Issue 14 with R-BIND (staff deletion): the hint and the deletion reach worker B in one poll, the
    hint first; B reads the pair after both, so it caches the deletion, not the grant the hint was for."""
    p, b = _officer(directory)
    other = _worker(settings, clock)
    try:
        _open(svc, p, b)
        move(svc, b, "deleted")
        _follow(other)
        assert other.enforcer.can(p.uid, *CHECK) is False
    finally:
        other.close()


def test_issue14_a_warmed_pair_is_still_invalidated_by_a_later_write(settings, svc, directory, clock):
    """Issue 14: warming is only a cache fill; a deletion after it reaches the other worker as before."""
    p, b = _officer(directory)
    other = _worker(settings, clock)
    try:
        _open(svc, p, b)
        _follow(other)
        assert other.enforcer.can(p.uid, *CHECK) is True
        move(svc, b, "deleted")
        _follow(other)
        assert other.enforcer.can(p.uid, *CHECK) is False
    finally:
        other.close()


def test_issue14_a_warm_hint_does_not_make_other_workers_read_the_change_log_before_deciding(svc, directory):
    """Issue 14: a login makes no cached answer stale, so it does not bump the same-host change signal
    (which would make every request of every worker on the host read the change log first)."""
    p, b = _officer(directory)
    change_signal.take()  # the set-up's writes
    _open(svc, p, b)
    assert change_signal.take() is False


def test_issue14_a_starting_worker_warms_the_newest_live_sessions_only(settings, svc, directory, clock):
    """Issue 14: at start a worker reads the pairs of live sessions, newest first and at most
    AUTHZ_WARM_START_SESSIONS of them; ended and idle-expired sessions are not worth a read (R-LOGIN-13)."""
    p, b = _officer(directory)
    q = directory.create_person("王五", "resident_id", "360102199303031234", uid="p-warm-2")
    r = directory.create_person("赵六", "resident_id", "360102199404041234", uid="p-warm-3")
    directory.bind(q, directory.upsert_enterprise(USCC, "预热科技有限公司", "ordinary"), "finance_officer",
                   state="active", origin="hall")
    _raw, idle = sessions.create(svc, r, Identity(Entry.PERSONAL, "person:p-warm-3", "self"))
    clock.advance(minutes=settings.session_idle_minutes)  # r's session is idle-expired from here on
    _raw, ended = sessions.create(svc, r, Identity(Entry.PERSONAL, "person:p-warm-3", "self"))
    sessions.end(svc, ended, EndReason.LOGOUT)
    _open(svc, p, b)
    clock.advance(seconds=1)
    sessions.create(svc, q, Identity(Entry.ENTERPRISE, DOM, "finance_officer"))

    worker = _worker(settings, clock)
    try:
        done = worker.warm_from_sessions()
        assert done["sessions"] == 2 and done["read"] == 2
        loads = worker.enforcer.grants.loads
        assert worker.enforcer.can(p.uid, *CHECK) and worker.enforcer.can(q.uid, DOM, "biz.query", "use") is not None
        assert worker.enforcer.grants.loads == loads
        worker.enforcer.can(r.uid, "person:p-warm-3", "ac.person.info", "view")
        assert worker.enforcer.grants.loads == loads + 1, "the expired and ended sessions were not warmed"
    finally:
        worker.close()
    one = _worker(settings.with_(warm_start_sessions=1), clock)
    try:
        assert one.warm_from_sessions()["sessions"] == 1
        loads = one.enforcer.grants.loads
        one.enforcer.can(q.uid, DOM, "biz.query", "use")  # the newest session's pair
        assert one.enforcer.grants.loads == loads
    finally:
        one.close()


def test_issue14_start_does_not_wait_for_the_warm_up(settings, svc, directory, clock):
    """Issue 14: readiness never waits for warming: start() hands it to a thread and returns; the thread
    records what it did."""
    p, b = _officer(directory)
    _open(svc, p, b)
    worker = Service(settings, clock=clock).start(upgrade=False, follow=True)
    try:
        assert worker._warm_thread is not None
        worker._warm_thread.join(timeout=10)
        assert worker.warm_start["sessions"] == 1  # (its follower may have read the pair first: both may)
        assert grants._key(p.uid, DOM) in worker.enforcer.grants.cache._data
    finally:
        worker.close()
    off = Service(settings.with_(warm_start_sessions=0), clock=clock).start(upgrade=False, follow=True)
    try:
        assert off._warm_thread is None
    finally:
        off.close()
