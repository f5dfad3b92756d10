"""Values of tool calls printed as text: typing XML parameter text, and the tools the
client declared.

Typing rule for a parameter given as XML text (`<parameter name="k">text</parameter>`,
`<k>text</k>`), first match wins:

1. the whole value is one `<![CDATA[...]]>` section → its text, exactly, as a string;
2. DeepSeek's `string="true"` → the text, exactly, as a string;
3. the client's tool schema declares the parameter `"type": "string"` → the text, trimmed;
4. DeepSeek's `string="false"` → the trimmed text as JSON, else the trimmed text;
5. the text is a sequence of child elements → an object (`<a>1</a><b>x</b>` →
   `{"a": 1, "b": "x"}`; a repeated tag → a list; only `<item>` children → a list), children
   typed by rules 1, 5 and 6;
6. the trimmed text is `true`, `false`, `null`, a JSON number (`42`, `-1.5`, `2e3`; not
   `007`, `+1`, `.5`) or a JSON object/array → that value;
7. otherwise the trimmed text as a string.

Text is taken literally: no XML entity decoding (models print values raw).
"""

import json
import re
from typing import Any

import orjson

from maestro_app.providers._coerce import items, mapping, text

CDATA_OPEN = "<![CDATA["
CDATA_CLOSE = "]]>"
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}
# One element: <tag attrs>value</tag>, the value skipping over CDATA sections.
ELEMENT = re.compile(
    r"<([A-Za-z_][\w.:-]*)((?:\s[^<>]*)?)>((?:<!\[CDATA\[.*?\]\]>|.)*?)</\1\s*>",
    re.DOTALL,
)
_ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_MISSING = object()


def attributes(raw: str) -> dict[str, str]:
    """`name="x" string='true'` → `{"name": "x", "string": "true"}`."""
    return {
        m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _ATTRIBUTE.finditer(raw)
    }


def json_loads(raw: str) -> Any:
    """JSON text → value; raises ValueError when it is not JSON."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        # orjson refuses integers beyond 64 bits; the standard library does not.
        return json.loads(raw)


def json_dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False)


def json_object(raw: str) -> dict[str, Any] | None:
    """A JSON object from text, or None when the text is not one."""
    try:
        value = json_loads(raw.strip())
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _cdata(raw: str) -> str | None:
    stripped = raw.strip()
    if (
        stripped.startswith(CDATA_OPEN)
        and stripped.endswith(CDATA_CLOSE)
        and stripped.find(CDATA_CLOSE) == len(stripped) - len(CDATA_CLOSE)
    ):
        return stripped[len(CDATA_OPEN) : -len(CDATA_CLOSE)]
    return None


def _literal(stripped: str) -> Any:
    if stripped in _LITERALS:
        return _LITERALS[stripped]
    if _NUMBER.fullmatch(stripped):
        return json_loads(stripped)
    if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
        try:
            value = json_loads(stripped)
        except ValueError:
            return _MISSING
        return value if isinstance(value, (dict, list)) else _MISSING
    return _MISSING


Element = tuple[str, dict[str, str], str]  # tag, attributes, raw value


def elements(stripped: str) -> list[Element] | None:
    """The elements filling the whole text, whitespace between them aside (`[]` for an
    empty text); None when anything else is there."""
    found: list[Element] = []
    position = 0
    while position < len(stripped):
        match = ELEMENT.match(stripped, position)
        if match is None:
            return None
        found.append((match.group(1), attributes(match.group(2)), match.group(3)))
        position = match.end()
        while position < len(stripped) and stripped[position].isspace():
            position += 1
    return found


def _nested(children: list[Element]) -> Any:
    values = [typed_value(raw) for _tag, _attrs, raw in children]
    if all(tag == "item" for tag, _attrs, _raw in children):
        return values
    result: dict[str, Any] = {}
    listed: set[str] = set()
    for (tag, _attrs, _raw), value in zip(children, values, strict=True):
        if tag in listed:
            result[tag].append(value)
        elif tag in result:
            result[tag] = [result[tag], value]
            listed.add(tag)
        else:
            result[tag] = value
    return result


def typed_value(raw: str, *, string: str | None = None, declared_string: bool = False) -> Any:
    """The value of one XML parameter, by the rule in the module docstring.

    `string` is DeepSeek's `string="true|false"` attribute, when present.
    """
    cdata = _cdata(raw)
    if cdata is not None:
        return cdata
    if string == "true":
        return raw
    stripped = raw.strip()
    if declared_string:
        return stripped
    if string == "false":
        try:
            return json_loads(stripped)
        except ValueError:
            return stripped
    children = elements(stripped) if stripped.startswith("<") else None
    if children:
        return _nested(children)
    value = _literal(stripped)
    return stripped if value is _MISSING else value


class ToolCatalog:
    """The tools a request declared (OpenAI or Ollama shape; both are
    `{"type": "function", "function": {"name", "parameters"}}`), read once per request."""

    __slots__ = ("names", "_string_params")

    def __init__(self, tools: Any = None) -> None:
        names: set[str] = set()
        string_params: dict[str, frozenset[str]] = {}
        for tool in items(tools):
            function = mapping(mapping(tool).get("function"))
            name = text(function.get("name"))
            if not name:
                continue
            names.add(name)
            properties = mapping(mapping(function.get("parameters")).get("properties"))
            string_params[name] = frozenset(
                param for param, schema in properties.items() if _only_string(mapping(schema).get("type"))
            )
        self.names = frozenset(names)
        self._string_params = string_params

    def is_string(self, tool: str, param: str) -> bool:
        """True when the tool's schema declares the parameter a string (and nothing else)."""
        return param in self._string_params.get(tool, ())

    def mcp_call(self, server: str, tool: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Name and arguments for a `<CallMcpTool>` call.

        A client that declares `CallMcpTool` itself (Cursor) gets the call as written;
        otherwise the first declared name among `{server}_{tool}`, `mcp__{server}__{tool}`,
        `mcp_{server}_{tool}` and `{tool}`; with none declared, `{server}_{tool}` (or
        `{tool}` without a server).
        """
        if "CallMcpTool" in self.names:
            return "CallMcpTool", {"server": server, "toolName": tool, "arguments": arguments}
        candidates = [tool]
        if server:
            candidates = [f"{server}_{tool}", f"mcp__{server}__{tool}", f"mcp_{server}_{tool}", tool]
        for candidate in candidates:
            if candidate in self.names:
                return candidate, arguments
        return candidates[0], arguments


def _only_string(declared: Any) -> bool:
    if isinstance(declared, str):
        return declared == "string"
    kinds = {kind for kind in items(declared) if isinstance(kind, str)} - {"null"}
    return kinds == {"string"}
