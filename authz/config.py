"""Settings, read once from the environment (AUTHZ_* variables) or given explicitly, and validated as a
whole: every bad value is one line of a `ConfigError` naming the variable, what it holds and what is
allowed (issue 13); an `AUTHZ_*` name that is no setting is a warning with the nearest real name. A
Settings object that exists is valid, however it was built (`from_env`, the constructor, `with_`)."""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """One or more settings are invalid; `problems` holds one line per bad value."""

    def __init__(self, problems: list[str]):
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")


def env_name(field_name: str) -> str:
    """The environment variable of a setting: AUTHZ_<FIELD>, except DATABASE_URL and REDIS_URL."""
    return field_name.upper() if field_name in ("database_url", "redis_url") else f"AUTHZ_{field_name.upper()}"


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
    warm_start_sessions: int = 10_000  # at start, read the grants of this many recent live sessions (0: off)
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
    dev_pages: bool = False  # serve /api/v1/dev… (the SMS outbox over HTTP) with the dev SMS adapter; --demo sets it
    sms_webhook_url: str = ""
    events_adapter: str = "dev"
    app_callback_secrets: str = ""  # "taxapp:secret,iitapp:secret" for the production signed callbacks
    trusted_proxies: int = 0  # how many X-Forwarded-For hops to trust (0: ignore the header)
    # rate limits (api/ratelimit.py; limits' notation, ";" between several; "off" for none). Counted in Redis
    # when REDIS_URL is set (shared by every worker and instance), else in each worker's memory
    rate_limit_public: str = "300/minute;3000/hour"  # per client address (a tax hall is many people behind one)
    rate_limit_account: str = "600/minute"  # per session (else per address): the account centres
    default_language: str = "zh"
    access_log: str = "default"  # default: errors, slow and state-changing requests; all; off (authz.logs)
    log_format: str = "json"  # json: one object per line with the request id (authz.logs); text: for a terminal
    environment: str = "auto"  # auto: production when any production adapter is configured; development | production
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

    def __post_init__(self):
        problems = validate(self)
        if problems:
            raise ConfigError(problems)

    @property
    def production_reasons(self) -> list[str]:
        """Why this configuration is production (empty: development). Production is an explicit
        AUTHZ_ENVIRONMENT=production or any production adapter: development commands and pages refuse."""
        out = []
        if self.environment == "production":
            out.append("AUTHZ_ENVIRONMENT=production")
        out += [f"{env_name(n)}={getattr(self, n)}" for n in ("sms_adapter", "events_adapter")
                if getattr(self, n) != "dev"]
        if self.human_check != "off":
            out.append(f"AUTHZ_HUMAN_CHECK={self.human_check}")
        if self.app_callback_secrets:
            out.append("AUTHZ_APP_CALLBACK_SECRETS set")
        return out

    @property
    def production(self) -> bool:
        return bool(self.production_reasons)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> "Settings":
        """Build settings from environment variables, then apply keyword overrides. Raises ConfigError
        listing every value that does not parse or is out of range (not only the first)."""
        env = dict(os.environ if env is None else env)
        values, problems = {}, []
        defaults = _defaults()
        for f in fields(cls):
            name = env_name(f.name)
            if name not in env or f.name in overrides:
                continue
            value, problem = _parse(name, env[name], type(defaults[f.name]))
            if problem:
                problems.append(problem)
            else:
                values[f.name] = value
        values.update(overrides)
        built = None
        try:  # also when some did not parse: the others' problems are listed in the same error
            built = cls(**values)
        except ConfigError as exc:
            problems += exc.problems
        if problems:
            raise ConfigError(problems)
        return built

    def shown(self) -> list[tuple[str, str, bool]]:
        """(variable, value as text with secrets hidden, set in the environment?) for `authz config show`."""
        out = []
        for f in fields(self):
            v = getattr(self, f.name)
            text = _hide(f.name, v)
            out.append((env_name(f.name), text, env_name(f.name) in os.environ))
        return out

    def with_(self, **changes) -> "Settings":
        """A copy with some fields changed."""
        return replace(self, **changes)


# ---- validation (one home: every way of building Settings passes through __post_init__)

_DEFAULTS: dict | None = None


def _defaults() -> dict:
    """Each field's default value (its type is the setting's type)."""
    global _DEFAULTS
    if _DEFAULTS is None:
        _DEFAULTS = {f.name: f.default_factory() if f.default is MISSING else f.default for f in fields(Settings)}
    return _DEFAULTS


def _parse(name: str, raw: str, kind: type) -> tuple[object, str | None]:
    text = raw.strip()
    if kind is bool:
        if text.lower() in TRUE:
            return True, None
        if text.lower() in FALSE:
            return False, None
        return None, f"{name}={raw!r}: not a boolean (use true/false, 1/0, yes/no, on/off)"
    if kind is int:
        try:
            return int(text.replace("_", "")), None
        except ValueError:
            return None, f"{name}={raw!r}: not a whole number"
    return raw, None


# integer settings: (lowest, highest) allowed
RANGES: dict[str, tuple[int, int]] = {
    "grant_cache_size": (1, 100_000_000), "domain_cache_size": (1, 100_000_000), "change_poll_ms": (1, 600_000),
    "warm_start_sessions": (0, 1_000_000),
    "batch_limit": (1, 10_000), "max_body_kib": (1, 1_048_576), "session_idle_minutes": (1, 1440),
    "session_absolute_hours": (1, 168), "lockout_minutes": (1, 10_080), "trusted_proxies": (0, 10),
    "password_min_length": (6, 128), "password_max_length": (6, 128), "password_min_classes": (1, 4),
    "argon2_time_cost": (1, 20), "argon2_memory_kib": (8, 4_194_304), "code_ttl_seconds": (30, 3600),
    "code_max_attempts": (1, 20), "sms_quota": (1, 1000), "sms_window_minutes": (1, 1440),
    "sms_flow_max_sends": (1, 100), "sms_client_quota": (1, 1_000_000), "sms_client_window_minutes": (1, 1440),
    "lockout_failures": (1, 100), "flow_ttl_minutes": (1, 1440), "qr_ticket_seconds": (10, 3600),
    "hall_code_days": (1, 365), "oidc_code_seconds": (5, 600), "oidc_access_token_seconds": (30, 86_400),
    "oidc_id_token_seconds": (30, 86_400), "oidc_key_lead_seconds": (0, 604_800),
}
# string settings with a closed set of values (an unknown adapter name would answer ready and 500 later)
CHOICES: dict[str, tuple[str, ...]] = {
    "lockout_mode": ("midnight", "minutes"), "human_check": ("off", "hmac"), "sms_adapter": ("dev", "http"),
    "events_adapter": ("dev", "http"), "default_language": ("zh", "en"),
    "environment": ("auto", "development", "production"), "log_format": ("json", "text"),
    "access_log": ("default", "all", "off"),
}
SECRETS = ("human_check_secret", "events_webhook_secret", "app_callback_secrets")
URLS_WITH_PASSWORDS = ("database_url", "redis_url")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?$")
_HTTP_URL = re.compile(r"^https?://[^\s/]+")


_RATE_ONE = r"[1-9][0-9]{0,6}/(?:[1-9][0-9]{0,3})?(?:second|minute|hour|day)s?"
_RATE = re.compile(rf"{_RATE_ONE}(?:;{_RATE_ONE})*")


def validate(st: "Settings") -> list[str]:
    """Every problem of `st`, one line each (empty: valid)."""
    problems: list[str] = []

    def bad(name: str, why: str) -> None:
        shown = _hide(name, getattr(st, name))
        problems.append(f"{env_name(name)}={shown!r}: {why}")

    mistyped = False
    for f in fields(st):
        v = getattr(st, f.name)
        want = type(_defaults()[f.name])
        if (want is int and (not isinstance(v, int) or isinstance(v, bool))) or not isinstance(v, want):
            bad(f.name, {int: "not a whole number", bool: "not a boolean"}.get(want, "not text"))
            mistyped = True
            continue
        if f.name in RANGES:
            lo, hi = RANGES[f.name]
            if not lo <= v <= hi:
                bad(f.name, f"out of range ({lo}–{hi})")
        if f.name in CHOICES and v not in CHOICES[f.name]:
            bad(f.name, f"unknown value (one of: {', '.join(CHOICES[f.name])})")
    if mistyped:
        return problems  # the cross checks below assume well-typed values
    if not st.database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        bad("database_url", "not a database URL (sqlite:///path or postgresql://…)")
    if st.redis_url and not st.redis_url.startswith(("redis://", "rediss://", "unix://")):
        bad("redis_url", "not a Redis URL (redis://host:port/db, rediss://…, unix://…)")
    for limit_setting in ("rate_limit_public", "rate_limit_account"):
        value = getattr(st, limit_setting)
        if value != "off" and not _RATE.fullmatch(value.replace(" ", "")):
            bad(limit_setting, "rate limits such as 60/minute or 60/minute;600/hour (second, minute, hour, day), "
                "or off")
    if st.password_min_length > st.password_max_length:
        bad("password_min_length", f"larger than AUTHZ_PASSWORD_MAX_LENGTH ({st.password_max_length})")
    if st.province and not re.fullmatch(r"[0-9]{2}", st.province):
        bad("province", "a two-digit province code (e.g. 36) or empty")
    for origin in filter(None, (o.strip() for o in st.web_origins.split(","))):
        if not _ORIGIN.match(origin):
            bad("web_origins", f"{origin!r} is not an origin (scheme://host[:port], no path)")
    if st.oidc_issuer and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", st.oidc_issuer):
        bad("oidc_issuer", "an http(s) URL without query or fragment (the issuer identifier, RFC 8414)")
    for path_setting in ("oidc_login_path", "oidc_consent_path"):
        if not re.fullmatch(r"/[A-Za-z0-9/_\-.]*", getattr(st, path_setting)):
            bad(path_setting, "a path on this origin starting with / (no scheme, host or query)")
    if st.environment == "production" and st.sms_adapter == "dev":
        bad("sms_adapter", "AUTHZ_ENVIRONMENT=production needs a real SMS gateway (the dev outbox reaches no phone)")
    if st.dev_pages and st.production_reasons:
        bad("dev_pages", "the development pages (SMS outbox, app simulator over HTTP) in production ("
            + ", ".join(st.production_reasons) + ") would hand out real people's codes")
    if st.environment == "development" and st.production_reasons:
        bad("environment", "development with production adapters ("
            + ", ".join(st.production_reasons) + "): development commands would act on real people; "
            "use auto or production")
    if st.sms_adapter == "http" and not _HTTP_URL.match(st.sms_webhook_url):
        bad("sms_webhook_url", "AUTHZ_SMS_ADAPTER=http needs the gateway's http(s) URL")
    if st.human_check == "hmac" and not st.human_check_secret:
        bad("human_check_secret", "AUTHZ_HUMAN_CHECK=hmac needs the shared secret")
    if st.app_callback_secrets:
        for part in st.app_callback_secrets.split(","):
            app, _, secret = part.partition(":")
            if app.strip() not in ("taxapp", "iitapp") or not secret.strip():
                bad("app_callback_secrets", "a list of app:secret pairs, app one of taxapp, iitapp")
                break
    return problems


def unknown_names(env: dict[str, str] | None = None) -> list[str]:
    """Warnings for AUTHZ_* variables that are no setting (a misspelt name is otherwise silently ignored),
    each with the nearest real name."""
    env = os.environ if env is None else env
    known = {env_name(f.name) for f in fields(Settings)}
    # variables the test suite and tools read, not service settings
    known |= {"AUTHZ_TEST_DATABASE_URL", "AUTHZ_REDIS_TEST_URL",
              "AUTHZ_SKIP_WEB_BUILD",  # setup.py: install without building the web front end (docs/web.md)
              "AUTHZ_TEST_CHROMIUM", "AUTHZ_UPDATE_SCREENSHOTS"}  # tests/web: the browser, docs/screenshots
    out = []
    for name in sorted(n for n in env if n.startswith("AUTHZ_") and n not in known):
        near = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        out.append(f"{name} is not a setting" + (f" (did you mean {near[0]}?)" if near else "") + "; ignored")
    return out


def _hide(name: str, value) -> str:
    """A value fit for printing: secrets as *** (their length not shown), URL passwords hidden."""
    if name in SECRETS:
        return "***" if value else ""
    text = str(value)
    if name in URLS_WITH_PASSWORDS:
        text = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", text)
    return text
