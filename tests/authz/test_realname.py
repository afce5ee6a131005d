"""Real-name level (R-RN-1 view, R-RN-2 online upgrade by face scan, one level at a time, up to 4)."""
from __future__ import annotations

from authz.flows import realname
from authz.models import AuditLog, Person
from tests.person_support import *  # noqa: F401,F403
from tests.person_support import USCC, err, expected, face, in_enterprise, personal

AT_FOUR = "您的实名等级已为四级，如需提升，请到办税服务场所完成五级实名核验"


def set_level(person, level):
    Person.update(realname_level=level).where(Person.id == person.id).execute()


def upgrade(svc, me, uid, app="taxapp"):
    f = realname.start(svc, me)["flow"]
    face(svc, realname.begin_factor(svc, me, f, app), uid, app=app)
    return realname.verify_factor(svc, me, f, app)


def test_R_RN_1_view_shows_the_level_and_the_five_levels(svc, world):
    """R-RN-1: the current level and the meaning of levels 1-5."""
    set_level(world["plain"], 3)
    out = realname.view(svc, personal(svc, world["plain"]))
    assert out["level"] == 3 and [lv["level"] for lv in out["levels"]] == [1, 2, 3, 4, 5]
    assert out["can_upgrade"] and out["factors"] == ["taxapp", "iitapp"] and "message_zh" not in out


def test_R_RN_2_face_scan_raises_one_level_to_four(svc, world):
    """R-RN-2: a verified face scan raises exactly one level; audited."""
    set_level(world["plain"], 3)
    me = personal(svc, world["plain"])
    assert upgrade(svc, me, "p-plain")["level"] == 4
    assert Person.get_by_id(world["plain"].id).realname_level == 4
    assert AuditLog.get(AuditLog.action == "person.realname.upgrade").detail == {"from": 3, "to": 4, "verified_by": "taxapp"}


def test_R_RN_2_one_level_per_scan(svc, world):
    """R-RN-2: from level 2 it takes two verified scans to reach 4, never more than one per flow."""
    set_level(world["plain"], 2)
    me = personal(svc, world["plain"])
    assert upgrade(svc, me, "p-plain", app="iitapp")["level"] == 3
    assert upgrade(svc, me, "p-plain")["level"] == 4


def test_R_RN_2_at_level_four_the_manuals_message(svc, world):
    """R-RN-2: at level 4 no upgrade starts; the answer is the manual's exact message (view and start)."""
    me = personal(svc, world["plain"])  # registered persons are at level 4
    view = realname.view(svc, me)
    assert view["level"] == 4 and not view["can_upgrade"] and view["message_zh"] == AT_FOUR
    e = err(realname.start, svc, me)
    assert e.code == "realname_online_max" and e.message("zh") == AT_FOUR
    set_level(world["plain"], 5)
    assert err(realname.start, svc, me).code == "realname_at_max"


def test_R_RN_2_failed_face_leaves_the_level(svc, world):
    """R-RN-2: a face that does not match leaves the level unchanged."""
    set_level(world["plain"], 3)
    me = personal(svc, world["plain"])
    f = realname.start(svc, me)["flow"]
    face(svc, realname.begin_factor(svc, me, f, "taxapp"), "p-legal")
    assert err(realname.verify_factor, svc, me, f, "taxapp").code == "face_mismatch"
    assert Person.get_by_id(world["plain"].id).realname_level == 3
    assert err(realname.begin_factor, svc, me, f, "sms").code == "factor_not_offered"


def test_R_RN_2_two_flows_started_at_three_raise_only_once(svc, world):
    """R-RN-2 under two open flows: both started at 3; the first raises to 4, the second raises nothing."""
    set_level(world["plain"], 3)
    me = personal(svc, world["plain"])
    a, b = realname.start(svc, me)["flow"], realname.start(svc, me)["flow"]
    face(svc, realname.begin_factor(svc, me, a, "taxapp"), "p-plain")
    face(svc, realname.begin_factor(svc, me, b, "taxapp"), "p-plain")
    realname.verify_factor(svc, me, a, "taxapp")
    assert err(realname.verify_factor, svc, me, b, "taxapp").code == "realname_changed"
    assert Person.get_by_id(world["plain"].id).realname_level == 4


def test_R_RN_1_enterprise_sessions_get_what_the_rule_file_says(svc, world):
    """R-AUTHZ-1: the real-name functions are whatever rules.csv gives the identity in that domain."""
    me = in_enterprise(svc, world["officer"], USCC, "tax_officer")
    for act, call in (("view", lambda: realname.view(svc, me)), ("upgrade", lambda: realname.start(svc, me))):
        if expected(svc, "kind:ordinary", "tax_officer", realname.FUNCTION, act, me.domain):
            try:
                call()
            except Exception as exc:  # allowed: any refusal must not be 'forbidden'
                assert getattr(exc, "code", "") != "forbidden"
        else:
            assert err(call).code == "forbidden"
