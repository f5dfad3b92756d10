"""What a refused dashboard action says, and how form text becomes numbers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from maestro_app.services.errors import EntityConflict, InvalidInput
from maestro_app.services.users import UserCreate
from maestro_app.ui.feedback import checked, error_message, optional_int, required_int, text_or_none


def test_service_errors_read_as_their_message() -> None:
    assert error_message(EntityConflict("User 'a' already exists")) == "User 'a' already exists"


def test_validation_errors_name_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        UserCreate(username="not valid!", request_limit=-1)
    message = error_message(caught.value)
    assert message.startswith("username: ")
    assert "request_limit: " in message
    assert "; " in message


@pytest.mark.parametrize(
    ("text", "value"), [("", None), ("  ", None), (None, None), ("1,000", 1000), ("7", 7)]
)
def test_optional_int(text: str | None, value: int | None) -> None:
    assert optional_int(text, label="Limit") == value


def test_optional_int_refuses_words_and_negatives() -> None:
    with pytest.raises(InvalidInput, match="Limit: 'lots' is not a whole number"):
        optional_int("lots", label="Limit")
    with pytest.raises(InvalidInput, match="at least 0"):
        optional_int("-3", label="Limit")


def test_required_int() -> None:
    assert required_int("-5", label="Priority") == -5
    with pytest.raises(InvalidInput, match="Priority: required"):
        required_int("", label="Priority")
    with pytest.raises(InvalidInput, match="at least 0"):
        required_int("-1", label="Weight", minimum=0)


def test_text_and_switches() -> None:
    assert text_or_none("  x ") == "x"
    assert text_or_none("") is None
    assert checked({"a": "on"}, "a") is True
    assert checked({}, "a") is False
    assert checked({"a": "off"}, "a") is False
