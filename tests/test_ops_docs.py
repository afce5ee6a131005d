"""The operators' dashboard and alert rules (issue 13) name only metrics the service exports
(authz/metrics.py), and parse: a renamed metric fails here, not on the on-call person's screen."""
from __future__ import annotations

import json
import pathlib
import re

import yaml

from authz.metrics import METRICS, SCRAPED

OPS = pathlib.Path(__file__).resolve().parent.parent / "docs" / "ops"
SUFFIXES = ("_bucket", "_count", "_sum")


def _names(text: str) -> set[str]:
    out = set()
    for name in re.findall(r"\bauthz_[a-z_]+", text):
        for suffix in SUFFIXES:
            if name.endswith(suffix) and name[: -len(suffix)] in METRICS:
                name = name[: -len(suffix)]
        out.add(name)
    return out


def test_alert_rules_parse_and_name_exported_metrics():
    rules = yaml.safe_load((OPS / "alerts.yml").read_text(encoding="utf-8"))
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    assert len(exprs) >= 8 and all(r.get("annotations", {}).get("summary") for g in rules["groups"] for r in g["rules"])
    unknown = _names("\n".join(exprs)) - set(METRICS) - set(SCRAPED)
    assert not unknown


def test_dashboard_parses_and_names_exported_metrics():
    dash = json.loads((OPS / "grafana-dashboard.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    names = _names("\n".join(exprs))
    assert not names - set(METRICS) - set(SCRAPED)
    # what an on-call person watches (issue 13): every business metric has a panel
    assert {"authz_logins_total", "authz_lockouts_total", "authz_sms_sent_total", "authz_sms_refused_total",
            "authz_verifications_total", "authz_binding_changes_total", "authz_outbox_events",
            "authz_event_deliveries_total", "authz_decision_seconds", "authz_grant_loads_total",
            "authz_dependency_errors_total"} <= names
