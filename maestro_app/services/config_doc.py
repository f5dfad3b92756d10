"""The configuration file as a document: YAML in and out, paths into it, precise errors,
secrets as environment references.

Every problem is reported with its place in the document (`nodes[2].base_url: ...`), so an
operator can fix a file without guessing. Secrets never appear in a file written by the
gateway: a node's API key and header values are written as `${NODE_<CODE>_API_KEY}` /
`${NODE_<CODE>_HEADER_<NAME>}` and read back from the environment on import.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError, IntegrityError

from maestro_app.services.errors import InvalidInput, ServiceError

FORMAT_VERSION = 1
ENV_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")

PathPart = str | int
DocPath = tuple[PathPart, ...]
# The entries of a list section, each with its place.
Entries = list[tuple[DocPath, dict[str, Any]]]
ModelT = TypeVar("ModelT", bound=BaseModel)


class ConfigError(InvalidInput):
    """A configuration file that cannot be applied; the message starts with the place."""


def where(path: DocPath) -> str:
    """`("nodes", 2, "base_url")` -> `nodes[2].base_url`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def fail(path: DocPath, message: str) -> ConfigError:
    return ConfigError(f"{where(path)}: {message}")


# -- YAML -----------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe YAML without anchors and aliases: a few aliases can stand for billions of
    nodes, and a configuration file has no need for them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise ConfigError(
                f"line {mark.line + 1}, column {mark.column + 1}: "
                "YAML aliases (*name) are not accepted in a configuration file"
            )
        return super().compose_node(parent, index)


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Multi-line text (system prompts) as a literal block, readable in a diff.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    # Lists of names (tools, models, nodes) on one wrapped line; lists of entries as blocks.
    flow = all(isinstance(item, str | int | float | bool) for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def load_document(data: bytes | str) -> dict[str, Any]:
    """The parsed file: a mapping with text keys throughout, or `ConfigError`."""
    try:
        doc = yaml.load(data, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
        if doc is None:  # an empty file, only comments, or `null`: what the schema refuses
            raise ConfigError("(document): empty; expected a mapping with sections like nodes:, users:")
        if not isinstance(doc, dict):
            raise ConfigError("(document): must be a mapping with sections like nodes:, users:")
        _check_keys(doc, ())
    except RecursionError:
        raise ConfigError("(document): nested too deeply") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        place = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise ConfigError(f"{place}not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:  # e.g. bytes that are not UTF-8
        raise ConfigError(f"not valid YAML: {exc}") from None
    return doc


def _check_keys(value: Any, path: DocPath) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise fail(path, f"keys must be text, not {key!r}")
            _check_keys(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_keys(item, (*path, index))


def dump_document(doc: dict[str, Any], *, header: str = "") -> str:
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body


# -- sections and entries -------------------------------------------------------------------


def section(doc: Mapping[str, Any], name: str) -> Entries:
    """The entries of a list section with their paths; `[]` when the section is absent."""
    if name not in doc:
        return []
    items = doc[name]
    if not isinstance(items, list):
        raise fail((name,), f"must be a list (`{name}: []` for none)")
    entries: Entries = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise fail((name, index), "must be a mapping of fields")
        entries.append(((name, index), dict(item)))
    return entries


def refuse_keys(entry: Mapping[str, Any], path: DocPath, refused: Mapping[str, str]) -> None:
    """Fields a file must not carry, each with the reason."""
    for key, reason in refused.items():
        if key in entry:
            raise fail((*path, key), reason)


def validate(
    model: type[ModelT], data: Mapping[str, Any], path: DocPath, *, renames: Mapping[str, str] | None = None
) -> ModelT:
    """`model` validated from `data`; every error named by its place in the document.
    `renames` maps a model field back to the file's name for it (`node_ids` -> `nodes`)."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple((renames or {}).get(p, p) if isinstance(p, str) else p for p in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{where((*path, *loc))}: {message}")
        raise ConfigError("; ".join(problems)) from None


@contextmanager
def at(path: DocPath | str) -> Iterator[None]:
    """Service errors raised while applying an entry carry the entry's place."""
    place = path if isinstance(path, str) else where(path)
    try:
        yield
    except ConfigError:
        raise
    except ServiceError as exc:
        raise type(exc)(f"{place}: {exc.message}") from exc
    except IntegrityError as exc:
        raise ConfigError(f"{place}: conflicts with an existing entity") from exc
    except DataError as exc:
        raise ConfigError(f"{place}: a value does not fit the database column") from exc


# -- secrets as environment references ------------------------------------------------------


def env_name(*parts: str) -> str:
    """`env_name("node", "gpu-1", "api key")` -> `NODE_GPU_1_API_KEY`."""
    return "_".join(re.sub(r"[^A-Z0-9]+", "_", part.upper()).strip("_") or "X" for part in parts)


class EnvNames:
    """Environment variable names handed out by one export, each once: two codes that
    upper-case alike (`a-b`, `a_b`) get `_2`, `_3`... in the order asked, which is fixed."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def reference(self, *parts: str) -> str:
        base = name = env_name(*parts)
        n = 2
        while name in self._taken:
            name, n = f"{base}_{n}", n + 1
        self._taken.add(name)
        return f"${{{name}}}"


def resolve_secret(value: Any, path: DocPath, environ: Mapping[str, str]) -> Any:
    """`${NAME}` -> the value of the environment variable NAME; anything else as written
    (validation of the field then decides)."""
    if not isinstance(value, str):
        return value
    match = ENV_REFERENCE.match(value.strip())
    if match is None:
        return value
    name = match.group(1)
    if name not in environ:
        raise fail(path, f"environment variable {name} is not set (the file refers to it as ${{{name}}})")
    return environ[name]
