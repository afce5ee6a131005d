"""Issue 10 finding 10, with real processes: concurrent username changes against `authz serve --workers 2`
(gunicorn) on one database. R-USR-1: a username changes at most once per calendar year and is unique,
whatever the concurrency; a loser gets a clear 409 with a stable code, never a 5xx ("database is
locked" on SQLite). Runs on SQLite, and on PostgreSQL in the PostgreSQL pass."""
from __future__ import annotations

import threading

import pytest

from authz.models import Person
from tests.login_support import last_code, make_person, rid, settings  # noqa: F401 - cheap argon2 for make_person
from tests.system.serving import Instance, http, service_env

pytestmark = pytest.mark.slow
USERNAME = "/api/v1/account/person/info/username"


@pytest.fixture
def server(svc, db_url, tmp_path):
    inst = Instance(service_env(db_url), tmp_path / "serve.log")
    yield inst.base
    inst.stop()


def app_login(server: str, account: str, phone: str) -> dict:
    """Log a natural person in as the app over HTTP (password -> SMS code); the bearer header."""
    status, out = http("POST", server + "/api/v1/auth/login",
                       {"entry": "personal", "account": account, "password": "Shui@2026ok", "client": "app"})
    assert status == 200, out
    fid = out["flow"]
    assert http("POST", f"{server}/api/v1/auth/login/{fid}/factors/sms")[0] == 200
    status, out = http("POST", f"{server}/api/v1/auth/login/{fid}/factors/sms/verify", {"code": last_code(phone)})
    assert status == 200 and out["state"] == "done", out
    return {"Authorization": "Bearer " + out["session"]}


def burst(server: str, calls: list[tuple[dict, dict]]) -> list[tuple[int, str | None, dict]]:
    """Fire (headers, body) username changes at once (a barrier releases every thread together)."""
    barrier = threading.Barrier(len(calls))
    out: list = [None] * len(calls)

    def one(i, headers, body):
        barrier.wait()
        status, data = http("POST", server + USERNAME, body, headers)
        out[i] = (status, data.get("code"), data)

    threads = [threading.Thread(target=one, args=(i, h, b)) for i, (h, b) in enumerate(calls)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return out


def test_R_USR_1_eight_concurrent_changes_have_one_winner(svc, directory, server):
    """R-USR-1 (issue 10 finding 10): 8 concurrent changes of one person's existing username to 8 different
    names, over two workers: exactly one 200; the other 7 answer 409 username_change_yearly (the
    once-a-year rule's code), none a 5xx; the stored name is the winner's."""
    make_person(svc, directory, "孙九", rid("36010219880808008"), uid="p-race-user", phones=["13800000088"],
                username="sunjiu0001")
    auth = app_login(server, "13800000088", "13800000088")
    names = [f"sunjiuNew{i}" for i in range(8)]
    answers = burst(server, [(auth, {"username": n}) for n in names])
    assert all(s < 500 for s, _, _ in answers), answers
    winners = [d["username"] for s, _, d in answers if s == 200]
    assert len(winners) == 1, answers
    assert sorted(c for s, c, _ in answers if s != 200) == ["username_change_yearly"] * 7, answers
    assert Person.get(Person.uid == "p-race-user").username == winners[0]


def test_R_USR_1_eight_concurrent_first_names_one_set_and_one_change(svc, directory, server):
    """R-USR-1 (issue 10 finding 10): a person without a username sends 8 different names at once. The
    first username is free and one change per year follows it, so exactly two succeed (the set and this
    year's change), the other 6 answer 409 username_change_yearly; the stored row records the change, and
    the next change is refused (before the fix the second winner could overwrite the name "as first" on
    PostgreSQL, leaving the year's change unused)."""
    make_person(svc, directory, "郑十", rid("36010219880808038"), uid="p-race-first", phones=["13800000083"])
    auth = app_login(server, "13800000083", "13800000083")
    answers = burst(server, [(auth, {"username": f"zhengshi0{i}"}) for i in range(8)])
    assert all(s < 500 for s, _, _ in answers), answers
    assert sum(1 for s, _, _ in answers if s == 200) == 2, answers
    assert sorted(c for s, c, _ in answers if s != 200) == ["username_change_yearly"] * 6, answers
    row = Person.get(Person.uid == "p-race-first")
    assert row.username in {d["username"] for s, _, d in answers if s == 200}
    assert row.username_changed_at is not None
    status, out = http("POST", server + USERNAME, {"username": "zhengshiLate"}, auth)
    assert (status, out["code"]) == (409, "username_change_yearly")


def test_R_USR_1_two_people_taking_one_name_at_once(svc, directory, server):
    """R-USR-1 (issue 10 finding 10): two persons setting the same new username at once: one 200, the other
    409 username_taken, no 5xx; exactly one of them holds it."""
    make_person(svc, directory, "周一", rid("36010219880808018"), uid="p-race-a", phones=["13800000081"])
    make_person(svc, directory, "吴二", rid("36010219880808028"), uid="p-race-b", phones=["13800000082"])
    a, b = app_login(server, "13800000081", "13800000081"), app_login(server, "13800000082", "13800000082")
    for round_ in range(3):  # a few rounds: the window is narrow, each round a fresh name
        name = f"sharedName{round_}"
        answers = burst(server, [(a, {"username": name}), (b, {"username": name})])
        assert sorted((s, c) for s, c, _ in answers) == [(200, None), (409, "username_taken")], answers
        assert Person.select().where(Person.username == name).count() == 1
        # the loser has no username yet; the winner's next round is a change (refused yearly) or a set
        Person.update(username=None, username_changed_at=None).where(Person.username == name).execute()
