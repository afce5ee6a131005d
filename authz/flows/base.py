"""Flows that span requests are stored rows (Kratos-style): id, kind, typed state, expiry, private context.

The client holds only the flow id (192 random bits, prefix `azf_`); the row is keyed by its SHA-256.
Every state change goes through `transition`, which refuses a state the machine does not know, a skipped
step (a target not reachable from the current state) and a replay (the UPDATE only matches the version
that was read, so two concurrent submissions of one step cannot both advance the flow).

A flow whose session goes to a browser (context `client` = "browser") belongs to the browser that started
it: `create` records the digest of the presenting browser's binding (HOLDER, set per request by the HTTP
layer from its browser cookie) and `load` answers flow_not_found to any other browser. So a link to an
attacker's flow cannot deliver the attacker's session into a victim's browser (login CSRF, issue 10
finding 5). Outside HTTP (CLI, core tests) HOLDER is unset and flows are unbound.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum

from ..errors import AuthzError, code
from ..models import Flow

E_FLOW_NOT_FOUND = code("flow_not_found")
E_FLOW_EXPIRED = code("flow_expired")
E_FLOW_STATE = code("flow_state")

FLOW_PREFIX = "azf_"
HOLDER_PREFIX = "azb_"


@dataclass
class Holder:
    """The browser presenting this request: the value of its binding cookie, if it has one. `ensure` mints a
    value when a flow must be bound to a browser that has none yet; the HTTP layer then sets the cookie."""
    value: str | None = None
    issued: bool = False

    @staticmethod
    def valid(raw: str | None) -> bool:
        return isinstance(raw, str) and raw.startswith(HOLDER_PREFIX) and 20 < len(raw) <= 80

    def ensure(self) -> str:
        if not self.valid(self.value):
            self.value, self.issued = HOLDER_PREFIX + secrets.token_urlsafe(24), True
        return self.value


HOLDER: ContextVar[Holder | None] = ContextVar("authz_flow_holder", default=None)


class FlowKind(str, Enum):
    LOGIN = "login"
    REGISTRATION = "registration"
    PASSWORD_RESET = "password_reset"
    PHONE_RECOVERY = "phone_recovery"
    QR_LOGIN = "qr_login"


@dataclass(frozen=True)
class Machine:
    """A flow's state machine: its kind, its State enum and the allowed transitions."""
    kind: FlowKind
    states: type[Enum]
    transitions: dict = field(default_factory=dict)  # State -> set of States
    terminal: frozenset = frozenset()

    def state_of(self, flow: Flow) -> Enum:
        try:
            return self.states(flow.state)
        except ValueError:
            raise AuthzError(E_FLOW_STATE) from None


def digest(raw_id: str) -> str:
    return hashlib.sha256((raw_id or "").encode()).hexdigest()


def create(svc, machine: Machine, state: Enum, *, person=None, context: dict | None = None,
           ttl_seconds: float | None = None) -> tuple[str, Flow]:
    """Start a flow; returns (the id for the client, the row)."""
    if state not in machine.states:
        raise AuthzError(E_FLOW_STATE)
    raw = FLOW_PREFIX + secrets.token_urlsafe(24)
    context = dict(context or {})
    holder = HOLDER.get()
    if context.get("client") == "browser" and holder is not None:
        context["holder"] = digest(holder.ensure())
    now = svc.clock.time()
    ttl = ttl_seconds if ttl_seconds is not None else svc.settings.flow_ttl_minutes * 60
    row = Flow.create(id_hash=digest(raw), kind=machine.kind.value, state=state.value, person=person,
                      context=context, created_at=now, updated_at=now, expires_at=now + ttl)
    return raw, row


def load(svc, machine: Machine, raw_id: str, *, finished_ok: bool = False) -> Flow:
    """The live flow of this kind with this id, or flow_not_found / flow_expired; a finished one is
    flow_state unless `finished_ok` (to show it, never to act on it)."""
    if not isinstance(raw_id, str) or not raw_id.startswith(FLOW_PREFIX):
        raise AuthzError(E_FLOW_NOT_FOUND)
    row = Flow.get_or_none((Flow.id_hash == digest(raw_id)) & (Flow.kind == machine.kind.value))
    if row is None or not _held(row):
        raise AuthzError(E_FLOW_NOT_FOUND)
    if row.expires_at <= svc.clock.time():
        raise AuthzError(E_FLOW_EXPIRED)
    if not finished_ok and row.state in {s.value for s in machine.terminal}:
        raise AuthzError(E_FLOW_STATE)
    return row


def _held(row: Flow) -> bool:
    """A browser-bound flow answers only the browser that started it (the module docstring)."""
    bound = (row.context or {}).get("holder")
    if not bound:
        return True
    holder = HOLDER.get()
    return holder is not None and Holder.valid(holder.value) and hmac.compare_digest(digest(holder.value), bound)


def require(machine: Machine, flow: Flow, *states: Enum) -> Enum:
    """The flow's state if it is one of `states`, else flow_state."""
    current = machine.state_of(flow)
    if current not in states:
        raise AuthzError(E_FLOW_STATE)
    return current


def transition(svc, machine: Machine, flow: Flow, to: Enum, *, person=..., context: dict | None = None,
               expires_at: float | None = None) -> Flow:
    """Move `flow` to `to` if the machine allows it from the current state; merge `context` in.
    Atomic: it fails with flow_state if another request moved the flow meanwhile."""
    current = machine.state_of(flow)
    if not isinstance(to, machine.states) or to not in machine.transitions.get(current, set()):
        raise AuthzError(E_FLOW_STATE)
    ctx = dict(flow.context or {})
    ctx.update(context or {})
    changes = {"state": to.value, "context": ctx, "updated_at": svc.clock.time(), "version": Flow.version + 1}
    if person is not ...:
        changes["person"] = person
    if expires_at is not None:
        changes["expires_at"] = expires_at
    n = (Flow.update(**changes)
         .where((Flow.id == flow.id) & (Flow.version == flow.version) & (Flow.state == current.value)).execute())
    if n != 1:
        raise AuthzError(E_FLOW_STATE)
    return Flow.get_by_id(flow.id)


def update_context(svc, flow: Flow, **values) -> Flow:
    """Change private context without changing state (still refused if the flow moved meanwhile)."""
    ctx = dict(flow.context or {})
    ctx.update(values)
    n = (Flow.update(context=ctx, updated_at=svc.clock.time(), version=Flow.version + 1)
         .where((Flow.id == flow.id) & (Flow.version == flow.version)).execute())
    if n != 1:
        raise AuthzError(E_FLOW_STATE)
    return Flow.get_by_id(flow.id)
