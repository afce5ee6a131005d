"""The shipped rule file and a helper that collects the codes a rule text is refused with."""
from __future__ import annotations

from pathlib import Path

import pytest

from authz import policy as pol

SHIPPED = (Path(__file__).resolve().parents[2] / "policies" / "rules.csv").read_text(encoding="utf-8")


def lint_codes(text: str) -> list[str]:
    """The error codes parsing `text` refuses it with (fails the test if it parses)."""
    with pytest.raises(pol.PolicyInvalid) as exc:
        pol.parse(text)
    return [e.code for e in exc.value.errors]
