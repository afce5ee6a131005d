"""Settings, read once from the environment (AUTHZ_* variables) or given explicitly."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _default_policies() -> Path:
    here = ROOT / "policies"
    return here if here.is_dir() else Path.cwd() / "policies"


@dataclass(frozen=True)
class Settings:
    """Everything the service can be configured with. Environment names are AUTHZ_<FIELD> upper-cased,
    except DATABASE_URL and REDIS_URL which keep their conventional names."""

    database_url: str = "sqlite:///var/authz.db"
    redis_url: str = ""  # empty: counters and change notifications stay in the database
    model_path: str = field(default_factory=lambda: str(_default_policies() / "model.conf"))
    rules_path: str = field(default_factory=lambda: str(_default_policies() / "rules.csv"))
    # enforcer
    grant_cache_size: int = 200_000  # (person, domain) entries kept in memory per worker
    domain_cache_size: int = 200_000
    change_poll_ms: int = 50  # how often a worker looks at the change log for other workers' writes
    change_signal_path: str = ""  # same-host change counter file ("" beside the SQLite file / in the temp dir; "off")
    batch_limit: int = 200
    max_body_kib: int = 1024  # a larger request body is refused with 413 before anything reads it
    # sessions (R-LOGIN-13)
    session_idle_minutes: int = 30
    session_absolute_hours: int = 8
    cookie_secure: bool = True  # Secure cookies, named __Host-authz_session / __Host-authz_browser
    web_origins: str = ""  # comma-separated origins (https://host:port) of pages allowed to call, besides our own
    # login behaviour
    generic_login_errors: bool = False  # R-LOGIN-12 decision: one generic message for enumeration resistance
    lockout_mode: str = "midnight"  # or "minutes" (withholding client: 120 min)
    lockout_minutes: int = 120
    human_check: str = "off"  # "off" in development; name of a production human-verification adapter
    # ports: "dev" adapters write to outbox tables / simulators, "http" adapters call out
    sms_adapter: str = "dev"
    sms_webhook_url: str = ""
    events_adapter: str = "dev"
    app_callback_secrets: str = ""  # "taxapp:secret,iitapp:secret" for the production signed callbacks
    trusted_proxies: int = 0  # how many X-Forwarded-For hops to trust (0: ignore the header)
    default_language: str = "zh"
    province: str = ""  # this deployment's province code (e.g. "36"): the default filter of pending lists (R-BIND-8)
    # ---- login and identity (issue 3)
    password_min_length: int = 8  # R-PWD-1 decision: 8-16, three of four classes, no white space
    password_max_length: int = 16
    password_min_classes: int = 3
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    code_ttl_seconds: int = 300  # R-SMS-2: 5 minutes
    code_max_attempts: int = 5  # per code, then it is dead
    sms_quota: int = 5  # R-SMS-1: codes per phone per window, the window starting at the first
    sms_window_minutes: int = 10
    # SMS abuse (issue 10 finding 6, decision in docs/login.md "SMS send caps and budgets")
    sms_flow_max_sends: int = 3  # codes one flow may send in its life, resends included
    sms_client_quota: int = 20  # sends to numbers not yet proven, per client address per window
    sms_client_window_minutes: int = 10
    lockout_failures: int = 5  # R-LOGIN-11
    flow_ttl_minutes: int = 15  # a multi-step flow left alone this long expires
    qr_ticket_seconds: int = 120  # R-LOGIN-7: a QR ticket's life; the page refreshes it
    hall_code_days: int = 7  # R-REG-7
    human_check_secret: str = ""  # shared secret of the "hmac" human-verification adapter
    redis_key_prefix: str = "authz:"
    # ---- outbound events (issue 4, R-BIND-15): used with events_adapter = "http"
    events_webhook_url: str = ""
    events_webhook_secret: str = ""  # HMAC-SHA256 key of X-Authz-Signature (16+ characters)
    # ---- OpenID Connect provider (issue 12, docs/sso.md)
    oidc_issuer: str = ""  # the issuer URL (https://host); "" = the URL this request reached (development)
    oidc_code_seconds: int = 60  # an authorization code's life (RFC 9700 §4.5, RFC 6749 §4.1.2: short)
    oidc_access_token_seconds: int = 300  # an opaque access token's life; introspection answers at once anyway
    oidc_id_token_seconds: int = 300  # an ID token's exp; a retired signing key stays published this long
    oidc_key_lead_seconds: int = 3600  # a rotated-in key is published in JWKS this long before it signs
    oidc_login_path: str = "/login"  # the web front end's login page (?return_to=<authorize URL>)
    oidc_consent_path: str = "/consent"  # the web front end's consent page (?return_to=<authorize URL>)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> "Settings":
        """Build settings from environment variables, then apply keyword overrides."""
        env = dict(os.environ if env is None else env)
        values = {}
        for f in fields(cls):
            name = f.name.upper() if f.name in ("database_url", "redis_url") else f"AUTHZ_{f.name.upper()}"
            if name not in env:
                continue
            raw = env[name]
            kind = type(getattr(cls(), f.name))
            if kind is bool:
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            elif kind is int:
                values[f.name] = int(raw)
            else:
                values[f.name] = raw
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        """A copy with some fields changed."""
        return replace(self, **changes)
