"""R-AUTHZ-5 on one host: a change made by one worker is read by every other worker of this host before
its next decision (authz.change_signal), not at its next change-feed poll. Separate Service objects on one
database stand in for separate processes (tests/system/test_same_host.py does it with real workers)."""
import threading

from authz import change_signal
from authz.change_signal import ChangeSignal, default_path
from authz.directory import Directory
from authz.service import Service
from tests.binding_support import move

DOM = "ent:91360100MA35ABCD1X"
ARGS = ("p-officer", DOM, "biz.query", "use")


def _setup(directory):
    ent = directory.upsert_enterprise("91360100MA35ABCD1X", "示例科技有限公司", "ordinary")
    p = directory.create_person("李四", "resident_id", "360102199202021234", uid="p-officer")
    return ent, p


def _decide_in_thread(worker) -> bool:
    """A request on worker `worker`: catch up, then decide (its own thread and connection)."""
    out = {}

    def run():
        worker.db.connect(reuse_if_open=True)
        worker.catch_up()
        out["v"] = worker.enforcer.can(*ARGS)
        worker.db.close()
    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out["v"]


def test_R_AUTHZ_5_counter_is_shared_by_every_handle_on_the_path(tmp_path):
    """R-AUTHZ-5: two handles on one file see each other's increments."""
    a, b = ChangeSignal(str(tmp_path / "sig")), ChangeSignal(str(tmp_path / "sig"))
    start = b.value()
    assert a.bump() == start + 1 and b.value() == start + 1
    assert b.bump() == start + 2 and a.value() == start + 2
    a.close()
    b.close()


def test_R_AUTHZ_5_default_path_is_per_database_and_hides_the_password(tmp_path):
    """R-AUTHZ-5: processes of one database on a host meet at one path; no password in a file name."""
    assert default_path(f"sqlite:///{tmp_path}/a.db") == f"{tmp_path}/a.db-changes"
    assert default_path("sqlite:///:memory:") is None
    one = default_path("postgresql://authz:secret@db:5432/authz")
    assert one == default_path("postgresql://authz:other@db:5432/authz") and "secret" not in one
    assert one != default_path("postgresql://authz@db:5432/other")


def test_R_AUTHZ_5_other_worker_decides_on_the_change_before_it_polls(settings, svc, directory, clock):
    """R-AUTHZ-5, R-BIND-10: worker B, which never polls here, answers for a binding added and then deleted
    by worker A on its very next request, because A announced each change after it committed."""
    ent, p = _setup(directory)
    other = Service(settings.with_(change_poll_ms=60_000), clock=clock).start(upgrade=False, follow=False)
    try:
        assert _decide_in_thread(other) is False  # cached: no grants
        b = directory.bind(p, ent, "tax_officer", state="active", origin="hall")
        svc.announce()
        assert _decide_in_thread(other) is True
        move(directory.svc, b, "deleted")
        svc.announce()
        assert _decide_in_thread(other) is False
    finally:
        other.close()


def test_R_AUTHZ_5_without_the_announcement_the_other_worker_waits_for_its_poll(settings, svc, directory, clock):
    """The control: with the signal switched off, worker B keeps its cached answer until it polls, which is
    the window the signal closes (so the test above cannot pass by accident)."""
    ent, p = _setup(directory)
    off = settings.with_(change_signal_path="off", change_poll_ms=60_000)
    other = Service(off, clock=clock).start(upgrade=False, follow=False)
    try:
        assert other.signal is None
        assert _decide_in_thread(other) is False
        directory.bind(p, ent, "tax_officer", state="active", origin="hall")
        svc.announce()
        assert _decide_in_thread(other) is False  # stale until the feed runs
        other.feed.poll()
        assert _decide_in_thread(other) is True
    finally:
        other.close()


def test_R_AUTHZ_5_announcement_only_after_a_change(settings, svc):
    """A request that changed nothing does not move the counter (other workers do not poll for nothing)."""
    svc.announce()  # whatever start-up recorded (the policy install) in this thread
    before = svc.signal.value()
    svc.announce()
    assert svc.signal.value() == before
    change_signal.note()
    svc.announce()
    assert svc.signal.value() == before + 1


def test_R_AUTHZ_5_a_cli_command_announces_its_changes_when_it_closes(settings, svc, directory, clock):
    """R-AUTHZ-5: a CLI command's service is never started (no enforcer, no feed), yet the worker on this
    host answers for its write at once after the command ends (Service.close announces)."""
    ent, p = _setup(directory)
    worker = Service(settings.with_(change_poll_ms=60_000), clock=clock).start(upgrade=False, follow=False)
    try:
        assert _decide_in_thread(worker) is False
        cli = Service(settings, clock=clock)  # as authz.cli.open_service builds it: not started
        with cli.db.atomic():  # a command's write (e.g. a hall operation) and its change-log row
            directory.bind(p, ent, "tax_officer", state="active", origin="hall")
        assert _decide_in_thread(worker) is False  # not announced yet: the worker would wait for its poll
        cli.close()
        assert _decide_in_thread(worker) is True
    finally:
        worker.close()
