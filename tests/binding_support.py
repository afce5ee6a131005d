"""Tests move bindings as the rightful party would (authz.bindings.transition has the one guard):
the person confirms what the enterprise or a source created (with a face proof of that person), the
enterprise decides the person's application and deletes staff, the person ends their own binding."""
from __future__ import annotations

from authz import bindings
from authz.verification import Proof
from authz.vocab import BindingState as S, Method, Party


def face_proof(uid: str) -> Proof:
    """A face proof of person `uid` (what authorisation_confirm gets from a consumed scan)."""
    return Proof(uid, Method.FACE, "taxapp", "test")


def move(svc, b, to: str):
    """Take the transition `b` -> `to` as the party bindings.TRANSITIONS gives it to (the person acts
    as themself; the enterprise and a source as a test actor, for the audit row)."""
    to = S(to)
    order = (Party.PERSON, Party.ENTERPRISE, Party.SOURCE)
    party = next((p for p in order if bindings.may(b, to, p)), Party.PERSON)
    proof = face_proof(b.person.uid) if party is Party.PERSON and to is S.ACTIVE else None
    who = bindings.Who(party, b.person.uid if party is Party.PERSON else f"test:{party.value}")
    return bindings.transition(svc, b, to, by=who, proof=proof)
