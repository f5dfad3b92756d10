"""The tool-call block formats that models print as text, and how to read one block.

    format        opens with                                closes with
    ------------  ----------------------------------------  ------------------------------
    xml wrapper   <tool_calls> <function_calls>             </tool_calls> </function_calls>
                  and DeepSeek DSML <｜DSML｜tool_calls> …    (DSML or not, either name)
    dsml invoke   <｜DSML｜invoke name="…">  (no wrapper)      </｜DSML｜invoke>
    tool_call     <tool_call> <tool_call name="…">           </tool_call>
    mcp           <CallMcpTool>                              </CallMcpTool>
    kimi          <|tool_calls_section_begin|>               <|tool_calls_section_end|>
    kimi call     <|tool_call_begin|>        (no section)    <|tool_call_end|>
    deepseek v3   <｜tool▁calls▁begin｜>                       <｜tool▁calls▁end｜>

DSML bars may be ASCII `|` or full-width `｜` (U+FF5C), and opening and closing tags may mix
them. Inside a block:

- xml wrapper / dsml invoke: `<invoke name="f">` elements (DSML or not) holding
  `<parameter name="k" string="true|false">v</parameter>` elements or a JSON object;
- tool_call: a JSON body — `{"name", "arguments"}` (Hermes/Qwen) or, with a `name`
  attribute, the arguments themselves — or `<parameter name="k">v</parameter>` / `<k>v</k>`
  children (a `<parameter>` without a name is positional: keys "0", "1", …), or invokes;
- mcp: `<serverName>`, `<toolName>`, `<arguments>` (JSON, or child elements);
- kimi: `<|tool_call_begin|>functions.NAME:IDX<|tool_call_argument_begin|>{json}<|tool_call_end|>`;
- deepseek v3: `<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{json}<｜tool▁call▁end｜>` (V3.1), or
  `function<｜tool▁sep｜>NAME` followed by a ```json fenced object (V3).

A block that does not read as at least one well-formed call is malformed; the caller keeps
it as text. Parameter values are typed as `textcall_values` describes.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from maestro_app.providers.textcall_values import (
    Element,
    ToolCatalog,
    attributes,
    elements,
    json_object,
    typed_value,
)

Call = tuple[str, dict[str, Any]]
Parser = Callable[[re.Match[str] | None, str, ToolCatalog], list[Call] | None]

_BARS = ("|", "｜")
_DSML = r"(?:[|｜]DSML[|｜])?"
_VALUE = r"((?:<!\[CDATA\[.*?\]\]>|.)*?)"
_NAME_ATTR = r"""\s+name\s*=\s*(?:"([^"]*)"|'([^']*)')"""
_INVOKE = re.compile(rf"<{_DSML}invoke{_NAME_ATTR}\s*>{_VALUE}</{_DSML}invoke\s*>", re.DOTALL)
_PARAMETER = re.compile(rf"<{_DSML}parameter\b([^<>]*)>{_VALUE}</{_DSML}parameter\s*>", re.DOTALL)
_KIMI_CALL = re.compile(r"<\|tool_call_begin\|>(.*?)<\|tool_call_end\|>", re.DOTALL)
_KIMI_ID = re.compile(r"\s*(?:functions\.)?(.+?)(?::\d+)?\s*")
_KIMI_ARGUMENTS = "<|tool_call_argument_begin|>"
_V3_CALL = re.compile(r"<[|｜]tool▁call▁begin[|｜]>(.*?)<[|｜]tool▁call▁end[|｜]>", re.DOTALL)
_V3_SEP = re.compile(r"<[|｜]tool▁sep[|｜]>")
_V3_FENCED = re.compile(r"\s*([^\s`]+)\s*```(?:json)?\s*(.*?)\s*```\s*", re.DOTALL)
_MCP_SERVER = frozenset({"servername", "server_name", "server"})
_MCP_TOOL = frozenset({"toolname", "tool_name", "tool", "name"})
_MCP_ARGUMENTS = frozenset({"arguments", "args", "input", "params", "parameters"})


@dataclass(frozen=True, slots=True)
class BlockFormat:
    """How one kind of block opens, closes and reads.

    `open_tag` is given when the head does not complete the opening tag (attributes
    follow); `body_starts` lists the characters the body may start with (after
    whitespace), so that prose mentioning a tag is not taken for a block.
    """

    name: str
    heads: tuple[str, ...]
    end: re.Pattern[str]
    parse: Parser
    open_tag: re.Pattern[str] | None = None
    body_starts: str = ""
    xml: bool = True


def _name(match: re.Match[str] | None) -> str:
    if match is None:
        return ""
    return (match.group(1) if match.group(1) is not None else match.group(2) or "").strip()


def _arguments(tool: str, entries: Iterable[Element], catalog: ToolCatalog) -> dict[str, Any]:
    """Arguments from `<parameter name="k">` and `<k>` elements; a `<parameter>` without a
    name is positional ("0", "1", …)."""
    arguments: dict[str, Any] = {}
    positional = 0
    for tag, attrs, raw in entries:
        key = attrs.get("name", "") if tag == "parameter" else tag
        if not key:
            key, positional = str(positional), positional + 1
        arguments[key] = typed_value(
            raw, string=attrs.get("string"), declared_string=catalog.is_string(tool, key)
        )
    return arguments


def _invoke_arguments(tool: str, body: str, catalog: ToolCatalog) -> dict[str, Any] | None:
    stripped = body.strip()
    if not stripped:
        return {}
    if stripped.startswith("{"):
        return json_object(stripped)
    entries = [("parameter", attributes(m.group(1)), m.group(2)) for m in _PARAMETER.finditer(body)]
    return _arguments(tool, entries, catalog) if entries else None


def _invokes(body: str, catalog: ToolCatalog) -> list[Call] | None:
    calls: list[Call] = []
    for match in _INVOKE.finditer(body):
        name = _name(match)
        arguments = _invoke_arguments(name, match.group(3), catalog)
        if not name or arguments is None:
            return None
        calls.append((name, arguments))
    return calls or None


def _parse_wrapper(_open: re.Match[str] | None, body: str, catalog: ToolCatalog) -> list[Call] | None:
    return _invokes(body, catalog)


def _parse_dsml_invoke(open_tag: re.Match[str] | None, body: str, catalog: ToolCatalog) -> list[Call] | None:
    name = _name(open_tag)
    arguments = _invoke_arguments(name, body, catalog)
    return [(name, arguments)] if name and arguments is not None else None


def _hermes(body: dict[str, Any]) -> list[Call] | None:
    name = body.get("name")
    arguments: Any = body.get("arguments", body.get("parameters", {}))
    if isinstance(arguments, str):
        arguments = json_object(arguments) if arguments.strip() else {}
    if not isinstance(name, str) or not name.strip() or not isinstance(arguments, dict):
        return None
    return [(name.strip(), arguments)]


def _parse_tool_call(open_tag: re.Match[str] | None, body: str, catalog: ToolCatalog) -> list[Call] | None:
    name = _name(open_tag)
    stripped = body.strip()
    if stripped.startswith("{"):
        parsed = json_object(stripped)
        if parsed is None:
            return None
        return [(name, parsed)] if name else _hermes(parsed)
    if _INVOKE.search(body):
        return _invokes(body, catalog)
    if not name:
        return None
    children = elements(stripped)
    if children is None:
        return None
    return [(name, _arguments(name, children, catalog))]


def _mcp_arguments(raw: str) -> dict[str, Any] | None:
    value = typed_value(raw)
    if isinstance(value, str):
        return json_object(value) if value.strip() else {}
    return value if isinstance(value, dict) else None


def _parse_mcp(_open: re.Match[str] | None, body: str, catalog: ToolCatalog) -> list[Call] | None:
    children = elements(body.strip())
    if not children:
        return None
    server = tool = ""
    arguments: dict[str, Any] | None = {}
    for tag, _attrs, raw in children:
        key = tag.lower()
        if key in _MCP_SERVER:
            server = raw.strip()
        elif key in _MCP_TOOL:
            tool = raw.strip()
        elif key in _MCP_ARGUMENTS:
            arguments = _mcp_arguments(raw)
    if not tool or arguments is None:
        return None
    return [catalog.mcp_call(server, tool, arguments)]


def _kimi_call(inner: str) -> Call | None:
    call_id, separator, raw_arguments = inner.partition(_KIMI_ARGUMENTS)
    match = _KIMI_ID.fullmatch(call_id)
    if not separator or match is None:
        return None
    arguments = json_object(raw_arguments) if raw_arguments.strip() else {}
    return (match.group(1), arguments) if arguments is not None else None


def _all(found: list[Call | None]) -> list[Call] | None:
    calls = [call for call in found if call is not None]
    return calls if calls and len(calls) == len(found) else None


def _parse_kimi(_open: re.Match[str] | None, body: str, _catalog: ToolCatalog) -> list[Call] | None:
    return _all([_kimi_call(match.group(1)) for match in _KIMI_CALL.finditer(body)])


def _parse_kimi_call(_open: re.Match[str] | None, body: str, _catalog: ToolCatalog) -> list[Call] | None:
    return _all([_kimi_call(body)])


def _v3_call(inner: str) -> Call | None:
    parts = _V3_SEP.split(inner, maxsplit=1)
    if len(parts) != 2:
        return None
    left, right = parts
    if left.strip() == "function":
        fenced = _V3_FENCED.fullmatch(right)
        if fenced is None:
            return None
        name, raw_arguments = fenced.group(1), fenced.group(2)
    else:
        name, raw_arguments = left.strip(), right
    arguments = json_object(raw_arguments) if raw_arguments.strip() else {}
    return (name, arguments) if name and arguments is not None else None


def _parse_v3(_open: re.Match[str] | None, body: str, _catalog: ToolCatalog) -> list[Call] | None:
    return _all([_v3_call(match.group(1)) for match in _V3_CALL.finditer(body)])


def _dsml(tag: str) -> tuple[str, ...]:
    return tuple(f"<{bar}DSML{bar}{tag}" for bar in _BARS)


FORMATS: tuple[BlockFormat, ...] = (
    BlockFormat(
        "xml wrapper",
        ("<tool_calls>", "<function_calls>", *_dsml("tool_calls>"), *_dsml("function_calls>")),
        re.compile(rf"</{_DSML}(?:tool_calls|function_calls)\s*>"),
        _parse_wrapper,
        body_starts="<",
    ),
    BlockFormat(
        "dsml invoke",
        (*_dsml("invoke "), *_dsml("invoke\n")),
        re.compile(rf"</{_DSML}invoke\s*>"),
        _parse_dsml_invoke,
        open_tag=re.compile(rf"<[|｜]DSML[|｜]invoke{_NAME_ATTR}\s*>"),
        body_starts="<{",
    ),
    BlockFormat(
        "tool_call",
        ("<tool_call>", "<tool_call ", "<tool_call\n"),
        re.compile(r"</tool_call\s*>"),
        _parse_tool_call,
        open_tag=re.compile(rf"<tool_call(?:{_NAME_ATTR})?\s*>"),
        body_starts="<{",
    ),
    BlockFormat(
        "mcp",
        ("<CallMcpTool>",),
        re.compile(r"</CallMcpTool\s*>"),
        _parse_mcp,
        body_starts="<",
    ),
    BlockFormat(
        "kimi",
        ("<|tool_calls_section_begin|>", "<|tool_call_section_begin|>"),
        re.compile(r"<\|tool_calls?_section_end\|>"),
        _parse_kimi,
        xml=False,
    ),
    BlockFormat(
        "kimi call",
        ("<|tool_call_begin|>",),
        re.compile(r"<\|tool_call_end\|>"),
        _parse_kimi_call,
        xml=False,
    ),
    BlockFormat(
        "deepseek v3",
        tuple(f"<{bar}tool▁calls▁begin{bar}>" for bar in _BARS),
        re.compile(r"<[|｜]tool▁calls▁end[|｜]>"),
        _parse_v3,
        xml=False,
    ),
)

FORMAT_BY_HEAD: dict[str, BlockFormat] = {head: fmt for fmt in FORMATS for head in fmt.heads}
HEADS = re.compile("|".join(re.escape(head) for head in sorted(FORMAT_BY_HEAD, key=len, reverse=True)))
HEAD_PREFIXES: frozenset[str] = frozenset(
    head[:length] for head in FORMAT_BY_HEAD for length in range(1, len(head))
)
LONGEST_HEAD = max(len(head) for head in FORMAT_BY_HEAD)
