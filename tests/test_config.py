"""Settings are validated at start (issue 13 "Operators"): a bad integer, a negative, a misspelt boolean,
an unknown adapter name, a misspelt variable name — each is one clear line naming the variable, all of
them in one error, before anything starts; `authz config show` hides secrets."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from authz.cli import main
from authz.config import ConfigError, Settings, unknown_names


def _problems(env: dict) -> list[str]:
    with pytest.raises(ConfigError) as e:
        Settings.from_env(env)
    return e.value.problems


def test_every_bad_value_is_one_line_naming_its_variable():
    problems = _problems({"AUTHZ_SESSION_IDLE_MINUTES": "thirty", "AUTHZ_COOKIE_SECURE": "ture",
                          "AUTHZ_LOCKOUT_FAILURES": "-5", "AUTHZ_SMS_ADAPTER": "aliyun",
                          "AUTHZ_GRANT_CACHE_SIZE": "0", "DATABASE_URL": "mysql://h/db"})
    assert len(problems) == 6
    for name in ("AUTHZ_SESSION_IDLE_MINUTES", "AUTHZ_COOKIE_SECURE", "AUTHZ_LOCKOUT_FAILURES",
                 "AUTHZ_SMS_ADAPTER", "AUTHZ_GRANT_CACHE_SIZE", "DATABASE_URL"):
        assert sum(p.startswith(name + "=") for p in problems) == 1, (name, problems)
    assert any("one of: dev, http" in p for p in problems)


@pytest.mark.parametrize("raw,value", [("true", True), ("1", True), ("YES", True), (" on ", True),
                                       ("false", False), ("0", False), ("no", False), ("off", False)])
def test_booleans_parse_strictly(raw, value):
    """A misspelt boolean used to be silently false; now only the listed spellings are accepted."""
    assert Settings.from_env({"AUTHZ_GENERIC_LOGIN_ERRORS": raw}).generic_login_errors is value


@pytest.mark.parametrize("raw", ["ture", "enabled", "2", "y"])
def test_a_misspelt_boolean_is_refused(raw):
    assert _problems({"AUTHZ_GENERIC_LOGIN_ERRORS": raw})[0].startswith("AUTHZ_GENERIC_LOGIN_ERRORS=")


def test_cross_checks_name_what_a_choice_needs():
    """An adapter that needs a URL or a secret says so at start, not at the first login."""
    problems = _problems({"AUTHZ_SMS_ADAPTER": "http", "AUTHZ_HUMAN_CHECK": "hmac",
                          "AUTHZ_PASSWORD_MIN_LENGTH": "20", "AUTHZ_PASSWORD_MAX_LENGTH": "16",
                          "AUTHZ_WEB_ORIGINS": "https://etax.example.gov.cn/login",
                          "AUTHZ_APP_CALLBACK_SECRETS": "wechat:abc"})
    text = "\n".join(problems)
    for name in ("AUTHZ_SMS_WEBHOOK_URL", "AUTHZ_HUMAN_CHECK_SECRET", "AUTHZ_PASSWORD_MIN_LENGTH",
                 "AUTHZ_WEB_ORIGINS", "AUTHZ_APP_CALLBACK_SECRETS"):
        assert name in text, (name, text)


def test_every_way_of_building_settings_is_validated():
    """The constructor and with_ go through the same validation as the environment (one home)."""
    with pytest.raises(ConfigError):
        Settings(session_idle_minutes=-1)
    with pytest.raises(ConfigError):
        Settings().with_(events_adapter="carrier-pigeon")
    assert Settings().with_(lockout_mode="minutes").lockout_mode == "minutes"


def test_unknown_authz_names_are_warnings_with_the_nearest_name():
    warnings = unknown_names({"AUTHZ_SESION_IDLE_MINUTES": "5", "AUTHZ_NOTHING_LIKE_IT": "1", "PATH": "/bin",
                              "AUTHZ_LOCKOUT_FAILURES": "5"})
    assert warnings == ["AUTHZ_NOTHING_LIKE_IT is not a setting; ignored",
                        "AUTHZ_SESION_IDLE_MINUTES is not a setting (did you mean AUTHZ_SESSION_IDLE_MINUTES?); ignored"]


def test_cli_refuses_a_bad_configuration_with_exit_2_and_every_problem(monkeypatch):
    monkeypatch.setenv("AUTHZ_LOCKOUT_FAILURES", "many")
    monkeypatch.setenv("AUTHZ_SMS_ADAPTER", "carrier")
    monkeypatch.setenv("AUTHZ_LOKOUT_MODE", "midnight")
    r = CliRunner().invoke(main, ["config", "check"])
    assert r.exit_code == 2
    assert "AUTHZ_LOCKOUT_FAILURES='many'" in r.output and "AUTHZ_SMS_ADAPTER='carrier'" in r.output
    assert "did you mean AUTHZ_LOCKOUT_MODE?" in r.output
    assert "Traceback" not in r.output


def test_config_show_hides_secrets_and_url_passwords(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://svc:db-pass-123@127.0.0.1:5432/authz")
    monkeypatch.setenv("AUTHZ_HUMAN_CHECK", "hmac")
    monkeypatch.setenv("AUTHZ_HUMAN_CHECK_SECRET", "slider-secret-value")
    monkeypatch.setenv("AUTHZ_EVENTS_WEBHOOK_SECRET", "events-secret-value")
    for args in (["config", "show"], ["config", "show", "--json"]):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0, r.output
        assert "db-pass-123" not in r.output and "slider-secret-value" not in r.output
        assert "events-secret-value" not in r.output
        assert "postgresql://svc:***@127.0.0.1:5432/authz" in r.output
    line = next(l for l in CliRunner().invoke(main, ["config", "show"]).output.splitlines() if "HUMAN_CHECK " in l)
    assert line.startswith("*") and line.rstrip().endswith("hmac")


def test_production_is_any_production_adapter_or_the_explicit_setting():
    """Issue 13: production mode is an explicit AUTHZ_ENVIRONMENT=production or any production adapter."""
    assert not Settings().production
    assert Settings(sms_adapter="http", sms_webhook_url="https://sms.example/send").production
    assert Settings(human_check="hmac", human_check_secret="s").production
    assert "AUTHZ_ENVIRONMENT=production" in Settings(environment="production", sms_adapter="http",
                                                       sms_webhook_url="https://sms.example/x").production_reasons
    with pytest.raises(ConfigError) as e:  # production with the dev SMS outbox: no code would reach a phone
        Settings(environment="production")
    assert "AUTHZ_SMS_ADAPTER" in str(e.value)
    with pytest.raises(ConfigError):  # "development" cannot hide a production adapter from the dev tools
        Settings(environment="development", events_adapter="http")


@pytest.mark.parametrize("args", [["dev", "outbox"], ["dev", "scan", "azt_x", "--as", "p-1"],
                                  ["dev", "password", "p-1"], ["serve", "--demo", "--port", "1"]])
def test_development_tools_refuse_in_production(monkeypatch, tmp_path, args):
    """Issue 13: the dev outbox, the app simulator, dev passwords and the demo data refuse against a
    production configuration, with the reason, before touching the database."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("AUTHZ_SMS_ADAPTER", "http")
    monkeypatch.setenv("AUTHZ_SMS_WEBHOOK_URL", "https://sms.example.gov.cn/send")
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert "development tool" in r.output and "AUTHZ_SMS_ADAPTER=http" in r.output
    assert not (tmp_path / "prod.db").exists()


def test_the_development_pages_cannot_be_switched_on_in_production():
    """Issue 13 / issue 11: the SMS outbox and app simulator pages over HTTP do not exist in production."""
    with pytest.raises(ConfigError) as e:
        Settings(dev_pages=True, sms_adapter="http", sms_webhook_url="https://sms.example/send")
    assert "AUTHZ_DEV_PAGES" in str(e.value)
    assert Settings(dev_pages=True).dev_pages
