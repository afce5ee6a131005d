"""Passwords (R-PWD-1, R-PWD-2, R-PWD-5) and usernames (R-USR-1).

* Hashes are argon2id; nothing else about a password is ever stored, logged or echoed.
* Every verification costs exactly one argon2 verify, whether the account exists, is a stock person
  whose initial password is the last six characters of their document number, or is unknown (a dummy
  hash is verified), so the answer time tells nothing about the account (R-LOGIN-12 decision).
* The policy is the seed rule (8-16 characters, three of four classes, no white space) plus a bundled
  list of common passwords, plus `predictable`: a weak stem (a listed word or pinyin, a surname, a keyboard
  walk) with predictable digits (a run, a year, a date, 520/1314) is refused whatever the symbols. Where the seeds differ from NIST SP 800-63B: NIST asks for no composition
  rules and allows 64+ characters; the manuals require classes and cap the length at 16, so the cap and
  classes are settings (password_max_length, password_min_classes).
"""
from __future__ import annotations

import functools
import hmac
import re
import threading
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .config import Settings
from .errors import AuthzError, code

E_PWD_LENGTH = code("password_length")
E_PWD_CLASSES = code("password_classes")
E_PWD_SPACE = code("password_whitespace")
E_PWD_COMMON = code("password_common")
E_PWD_PREDICTABLE = code("password_predictable")
E_PWD_MISMATCH = code("password_mismatch")
E_PWD_SAME = code("password_unchanged")
E_USERNAME = code("username_invalid")
E_USERNAME_TAKEN = code("username_taken")

USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]{5,19}$")
_SPECIAL = re.compile(r"[^A-Za-z0-9\s]")


@functools.lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled list (authz/data/common-passwords.txt), lower-cased."""
    text = resources.files("authz").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_policy(password: str, settings: Settings, confirm: str | None = None) -> str:
    """Return the password if it satisfies R-PWD-1, else raise an error naming the rule broken."""
    if confirm is not None and not hmac.compare_digest(password.encode(), confirm.encode()):
        raise AuthzError(E_PWD_MISMATCH)
    if any(c.isspace() for c in password):
        raise AuthzError(E_PWD_SPACE)
    lo, hi = settings.password_min_length, settings.password_max_length
    if not lo <= len(password) <= hi:
        raise AuthzError(E_PWD_LENGTH, min=lo, max=hi)
    classes = sum(bool(re.search(p, password)) for p in (r"[A-Z]", r"[a-z]", r"[0-9]")) + bool(_SPECIAL.search(password))
    if classes < settings.password_min_classes:
        raise AuthzError(E_PWD_CLASSES, n=settings.password_min_classes)
    if password.lower() in common_passwords():
        raise AuthzError(E_PWD_COMMON)
    if predictable(password):
        raise AuthzError(E_PWD_PREDICTABLE)
    return password


# ---- predictable shapes (issue 13: "Abc@1234", "Woaini@1314", "Zxcvbnm@123" passed the list)
# A password is predictable when its letters are a weak stem (a common word or pinyin phrase from the
# bundled list, a surname, a keyboard walk, an alphabet run, one repeated letter, or at most two letters)
# and its digits are predictable too (none, at most two, a run, one repeated digit, a year, a date, or a
# number chosen for its sound). Symbols between them add nothing an attacker's rules do not try first.
# Checked twice: as typed, and with look-alike symbols and digits inside words read as letters (P@ssw0rd).

KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "qazwsxedcrfvtgbyhnujmikolp", "1qaz2wsx3edc")
ALPHABET = "abcdefghijklmnopqrstuvwxyz"
SURNAMES = frozenset((
    "wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie song "
    "tang han feng deng cao peng zeng xiao tian dong pan yuan cai jiang yu du ye cheng wei su lv ding ren shen "
    "yao lu jin fan fu zhong").split())
LUCKY_NUMBERS = frozenset(("520", "521", "1314", "5201314", "168", "1688", "518", "666", "888", "999", "6666",
                           "8888", "9999", "2333", "886", "748", "0000", "007"))
_LEET = str.maketrans({"@": "a", "4": "a", "$": "s", "5": "s", "0": "o", "1": "i", "!": "i", "3": "e", "7": "t",
                       "+": "t", "8": "b", "9": "g"})


def _run(text: str, alphabet: str) -> bool:
    return len(text) >= 3 and (text in alphabet or text[::-1] in alphabet)


def _weak_stem(letters: str) -> bool:
    if len(letters) <= 2 or len(set(letters)) == 1:
        return True
    if letters in SURNAMES or letters in common_passwords():
        return True
    return _run(letters, ALPHABET) or any(_run(letters, row) for row in KEYBOARD_ROWS)


def _valid_date(y: int, m: int, d: int) -> bool:
    import datetime as dt
    try:
        dt.date(y, m, d)
        return True
    except ValueError:
        return False


def _predictable_digits(digits: str) -> bool:
    if len(digits) <= 2 or len(set(digits)) == 1 or digits in LUCKY_NUMBERS:
        return True
    if _run(digits, "01234567890") or _run(digits, "1234567890"):
        return True
    n = len(digits)
    if n == 4 and (1940 <= int(digits) <= 2039 or _valid_date(2000, int(digits[:2]), int(digits[2:]))):
        return True  # a year, or mmdd
    if n == 6 and _valid_date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:])):
        return True  # yymmdd
    if n == 8 and _valid_date(int(digits[:4]), int(digits[4:6]), int(digits[6:])):
        return True  # yyyymmdd (a birthday)
    return False


def predictable(password: str) -> bool:
    """True when the password is a weak stem plus predictable digits (see above), as typed or de-leeted."""
    typed = password.lower()
    # look-alikes inside a word (p@ssw0rd) read as letters; digits standing apart stay digits
    leet = re.sub(r"(?<=[a-z])[@4$50!137+89](?=[a-z@4$50!137+89]*[a-z])",
                  lambda m: m.group(0).translate(_LEET), typed)
    leet = re.sub(r"^[@$](?=[a-z])", lambda m: m.group(0).translate(_LEET), leet)
    for text in (typed, leet):
        letters = "".join(re.findall(r"[a-z]+", text))
        digits = "".join(re.findall(r"[0-9]+", text))
        if _weak_stem(letters) and _predictable_digits(digits):
            return True
    return False


def check_username(name: str) -> str:
    """R-USR-1: 6-20 letters or digits, first a letter (case-sensitive). Uniqueness is the caller's."""
    if not isinstance(name, str) or not USERNAME_RE.fullmatch(name):
        raise AuthzError(E_USERNAME)
    return name


def initial_password(doc_number: str) -> str:
    """R-PWD-2: a stock person's first password, the last six characters of the document number."""
    return (doc_number or "")[-6:].upper()


class Hasher:
    """argon2id with the configured cost; counts verifications so tests can prove equal cost."""

    def __init__(self, settings: Settings):
        self.ph = PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib,
                                 parallelism=1, type=Type.ID)
        self._dummy: str | None = None
        self._lock = threading.Lock()
        self.verifications = 0

    def hash(self, password: str) -> str:
        return self.ph.hash(password)

    @property
    def dummy(self) -> str:
        if self._dummy is None:
            with self._lock:
                if self._dummy is None:
                    self._dummy = self.ph.hash("dummy-password-never-matches")
        return self._dummy

    def _verify(self, stored: str, password: str) -> bool:
        self.verifications += 1
        try:
            return self.ph.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_person(self, person, password: str, primary_doc_number: str | None = None) -> bool:
        """True when `password` is the person's; one argon2 verify on every path (None: unknown account).

        A stock person (password_hash NULL, must_change_password) is checked against the last six
        characters of the primary document number in constant time, after a dummy verify that gives
        the path the same cost."""
        if person is not None and person.password_hash:
            return self._verify(person.password_hash, password)
        self._verify(self.dummy, password)
        if person is not None and person.must_change_password and primary_doc_number:
            expected = initial_password(primary_doc_number).encode()
            return hmac.compare_digest(expected, (password or "").upper().encode())
        return False

    def needs_rehash(self, stored: str) -> bool:
        return self.ph.check_needs_rehash(stored)
