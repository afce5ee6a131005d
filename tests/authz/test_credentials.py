"""Credentials (R-PWD-1, R-PWD-2, R-PWD-5, R-USR-1)."""
from __future__ import annotations

import pytest

from authz.config import Settings
from authz.credentials import Hasher, check_policy, check_username, common_passwords
from authz.errors import AuthzError

S = Settings()


@pytest.mark.parametrize("pw,code", [
    ("Ab1!", "password_length"), ("Abcdefgh12345678X", "password_length"), ("abcdefgh", "password_classes"),
    ("abcdefg1", "password_classes"), ("Abc 1234!", "password_whitespace"), ("P@ssw0rd", "password_common"),
    ("Admin@123", "password_common"), ("QWERTY123!", "password_common")])
def test_R_PWD_1_policy_errors_name_the_rule(pw, code):
    """R-PWD-1: 8-16 characters, three of four classes, no white space, not a common password."""
    with pytest.raises(AuthzError) as e:
        check_policy(pw, S)
    assert e.value.code == code


@pytest.mark.parametrize("pw", ["Shui@2026ok", "mxqDEF749", "x9#Kq2!mZ", "Zq1!Xw2@Ce3#Vr4$"])
def test_R_PWD_1_good_passwords(pw):
    """R-PWD-1: three classes suffice (upper/lower/digit, or with specials)."""
    assert check_policy(pw, S) == pw


def test_R_PWD_1_policy_is_configurable_and_the_list_is_bundled():
    """R-PWD-1: the limits are settings; a few thousand common passwords ship with the package."""
    assert len(common_passwords()) >= 3000
    with pytest.raises(AuthzError):
        check_policy("Abcdefgh1234567890", S)
    assert check_policy("Shuiwu@2026Kexue#88", S.with_(password_max_length=64))


def test_R_USR_1_username_shape():
    """R-USR-1: 6-20 letters or digits, first a letter, case-sensitive."""
    for ok in ("abcdef", "A23456", "Zhang1234567890123ab"):
        assert check_username(ok) == ok
    for bad in ("abcde", "1abcdef", "abc_def", "a" * 21, "中文用户名称"):
        with pytest.raises(AuthzError):
            check_username(bad)


def test_R_PWD_5_argon2id_and_equal_cost():
    """R-PWD-5: argon2id hashes; stock, unknown and known accounts each cost one verify."""
    h = Hasher(S.with_(argon2_time_cost=1, argon2_memory_kib=1024))
    stored = h.hash("Shui@2026ok")
    assert stored.startswith("$argon2id$") and "Shui@2026ok" not in stored

    class P:
        password_hash = stored
        must_change_password = False

    class Stock:
        password_hash = None
        must_change_password = True

    assert h.verify_person(P, "Shui@2026ok") and not h.verify_person(P, "nope")
    assert h.verify_person(Stock, "01001x", "36010219800101001X") and not h.verify_person(Stock, "01001Y", "36010219800101001X")
    assert not h.verify_person(None, "whatever")
    assert h.verifications == 5


@pytest.mark.parametrize("pw", ["Abc@1234", "Woaini@1314", "Zxcvbnm@123", "P@ssw0rd#888", "Bb@123456", "Zhang@1990",
                                "Qwerty!@#", "Wang#19900101", "Asdf!1234", "Iloveyou@520", "Zz@12345"])
def test_R_PWD_1_predictable_shapes_are_refused_with_an_explanation(pw):
    """R-PWD-1 + issue 13 (a blocklist that blocks): the seed rules pass these (8-16, three classes), the
    bundled list held none of them; a common word / pinyin / surname / keyboard run with predictable digits
    is refused as password_predictable, explained in Chinese (and English on request)."""
    with pytest.raises(AuthzError) as e:
        check_policy(pw, S)
    assert e.value.code == "password_predictable"
    assert "容易被猜中" in e.value.message("zh") and "easy to guess" in e.value.message("en")


@pytest.mark.parametrize("pw", ["Shui@2026ok", "Demo#2026tax", "Lq7#vR2m", "Tax#2026ok", "Hk9!pTz4", "7!K3#9x2",
                                "Mima@2026xz", "Cert@2026ok"])
def test_R_PWD_1_unpredictable_passwords_still_pass(pw):
    """R-PWD-1: the shape check refuses only weak stem + predictable digits; the demo's and the suite's
    passwords and random ones pass."""
    assert check_policy(pw, S) == pw
