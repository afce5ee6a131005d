"""Documentation stays true to the code: every setting is documented, the README starts with the two
commands, and every documented CLI command exists."""
import dataclasses
from pathlib import Path

from authz.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_operations():
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for f in dataclasses.fields(Settings):
        env = f.name.upper() if f.name in ("database_url", "redis_url") else f"AUTHZ_{f.name.upper()}"
        assert f"`{env}`" in text, f"{env} missing from docs/operations.md"


def test_readme_starts_with_the_two_commands():
    lines = [l for l in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if l.strip()]
    block = lines[lines.index("```sh") + 1: lines.index("```sh") + 3]
    assert block[0].endswith("authz serve --demo") and block[1].endswith("-m pytest")


def test_documented_cli_commands_exist():
    from click.testing import CliRunner
    from authz.cli import main
    for cmd in (["serve"], ["db", "upgrade"], ["client", "create"], ["policy", "lint"], ["policy", "diff"],
                ["policy", "reload"], ["policy", "explain"], ["dev", "outbox"], ["dev", "scan"],
                ["events", "drain"], ["oidc", "client", "create"], ["oidc", "client", "list"],
                ["oidc", "client", "rotate-secret"], ["oidc", "client", "update"], ["oidc", "client", "delete"],
                ["oidc", "keys", "rotate"], ["oidc", "keys", "list"], ["oidc", "cleanup"], ["helpdesk", "find"],
                ["helpdesk", "lockout"], ["helpdesk", "unlock"], ["helpdesk", "sessions"], ["helpdesk", "end-sessions"],
                ["helpdesk", "bindings"], ["helpdesk", "audit"], ["helpdesk", "export-audit"],
                ["helpdesk", "export-logins"]):
        r = CliRunner().invoke(main, cmd + ["--help"])
        assert r.exit_code == 0, (cmd, r.output)


def test_api_md_lists_every_openapi_path():
    """docs/api.md is regenerated from the OpenAPI document; a new route without it fails here."""
    from api.docgen import render
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert text == render(), "docs/api.md is stale: run `python -m api.docgen > docs/api.md`"


def test_bindings_md_is_the_state_machine_in_the_code():
    """R-BIND-18 (issue 10): docs/bindings.md is generated from bindings.TRANSITIONS, so it cannot drift."""
    from authz.bindings import document
    text = (ROOT / "docs" / "bindings.md").read_text(encoding="utf-8")
    assert text == document(), "docs/bindings.md is stale: run `python -m authz.bindings > docs/bindings.md`"
