"""ui.routes.safe_next_page: a login never sends the browser off this site."""

from __future__ import annotations

import pytest

from maestro_app.ui.routes import DASHBOARD, LOGIN, safe_next_page


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/nodes", "/nodes"),
        ("/logs?user=alice", "/logs?user=alice"),
        (None, DASHBOARD),
        ("", DASHBOARD),
        ("https://evil.example/", DASHBOARD),
        ("//evil.example/", DASHBOARD),
        ("/\\evil.example", DASHBOARD),
        ("/x\r\nSet-Cookie: a=b", DASHBOARD),
        (LOGIN, DASHBOARD),
        (LOGIN + "/", DASHBOARD),
        (LOGIN + "?next=/nodes", DASHBOARD),
    ],
)
def test_safe_next_page(target: str | None, expected: str) -> None:
    assert safe_next_page(target) == expected
