"""ui.routes.safe_next_page: a login never sends the browser off this site."""

from __future__ import annotations

import pytest

from maestro_app.ui.routes import LOGIN, STATUS, safe_next_page


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/nodes", "/nodes"),
        ("/logs?user=alice", "/logs?user=alice"),
        (None, STATUS),
        ("", STATUS),
        ("https://evil.example/", STATUS),
        ("//evil.example/", STATUS),
        ("/\\evil.example", STATUS),
        ("/x\r\nSet-Cookie: a=b", STATUS),
        (LOGIN, STATUS),
        (LOGIN + "/", STATUS),
        (LOGIN + "?next=/nodes", STATUS),
    ],
)
def test_safe_next_page(target: str | None, expected: str) -> None:
    assert safe_next_page(target) == expected
