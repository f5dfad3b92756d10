"""Pieces every admin service shares: strict input bodies, pages, counting queries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

# Integer columns are 32-bit on PostgreSQL; inputs are bounded so a write never overflows.
INT32_MAX = 2**31 - 1
MAX_PAGE_SIZE = 1000

# A row id as input: positive and within the 32-bit id columns.
EntityId = Annotated[int, Field(ge=1, le=INT32_MAX)]


def _trimmed(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be blank")
    return stripped


# Trims text after its length is checked, so that `max_length` counts what the client sent,
# as the OpenAPI document says (`strip_whitespace=True` would trim first, and accept more).
TRIM = AfterValidator(_trimmed)

RowT = TypeVar("RowT")
ItemT = TypeVar("ItemT")


def contains_nul(value: Any) -> bool:
    """PostgreSQL refuses NUL in text; such input is rejected before it reaches a query."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(v) for v in value)
    return False


class Body(BaseModel):
    """Base of every input body: unknown fields and NUL characters are refused, and types are
    strict (`true` is not the number 1, `"5"` is not 5).

    `non_nullable` names fields that may be omitted (no change) but never sent as null.
    """

    model_config = ConfigDict(extra="forbid", strict=True)
    non_nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        if contains_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data

    @model_validator(mode="after")
    def _refuse_nulls(self) -> Body:
        for name in sorted(self.non_nullable & self.model_fields_set):
            if getattr(self, name) is None:
                raise ValueError(f"{name} may be omitted but not null")
        return self

    def given(self) -> dict[str, Any]:
        """The fields the caller sent, with their validated values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    total: int
    limit: int
    offset: int


def paginate(
    session: Session,
    statement: SelectOfScalar[RowT],
    *,
    limit: int,
    offset: int,
    convert: Callable[[Sequence[RowT]], list[ItemT]],
) -> Page[ItemT]:
    count = select(func.count()).select_from(statement.order_by(None).subquery())
    total = int(session.exec(count).one())
    rows = session.exec(statement.limit(limit).offset(offset)).all()
    return Page[ItemT](items=convert(rows), total=total, limit=limit, offset=offset)


def like_pattern(text: str) -> str:
    """`%text%` for LIKE with `\\` as the escape character."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
