"""Tool calls printed as text: one table of cases, each run on the whole text, streamed
split at every position, and streamed one character at a time."""

import re
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro_app.providers.textcalls import TextToolCallFilter, parse_text_tool_calls

Calls = list[tuple[str, dict[str, Any]]]

FW = "｜"  # DeepSeek's full-width bar, U+FF5C
DSV3_CALL = "<｜tool▁call▁begin｜>"
DSV3_SEP = "<｜tool▁sep｜>"
DSV3_END = "<｜tool▁call▁end｜>"


def _invoke(name: str, *params: str, dsml: str = "") -> str:
    inner = "\n".join(params)
    return f'<{dsml}invoke name="{name}">\n{inner}\n</{dsml}invoke>'


def _param(name: str, value: str, *, dsml: str = "", string: str | None = None) -> str:
    typed = f' string="{string}"' if string is not None else ""
    return f'<{dsml}parameter name="{name}"{typed}>{value}</{dsml}parameter>'


def _wrap(*invokes: str, tag: str = "tool_calls", dsml: str = "", close_dsml: str | None = None) -> str:
    closing = dsml if close_dsml is None else close_dsml
    return f"<{dsml}{tag}>\n" + "\n".join(invokes) + f"\n</{closing}{tag}>"


def _kimi(*calls: tuple[str, int, str]) -> str:
    body = "".join(
        f"<|tool_call_begin|>functions.{name}:{index}<|tool_call_argument_begin|>{args}<|tool_call_end|>"
        for name, index, args in calls
    )
    return f"<|tool_calls_section_begin|>{body}<|tool_calls_section_end|>"


BASH_LS = _wrap(_invoke("Bash", _param("command", "ls -la")))
D_FW = f"{FW}DSML{FW}"
D_ASCII = "|DSML|"
FENCED = f"Example:\n```xml\n{BASH_LS}\n```\nThat is the format."
# The other formats as examples in fences: left as text.
DSML_FENCED = (
    "Format:\n```\n" + _wrap(_invoke("a", _param("x", "1", dsml=D_FW), dsml=D_FW), dsml=D_FW) + "\n```\nok"
)
TOOL_CALL_FENCED = '```json\n<tool_call name="Bash">{"command": "ls"}</tool_call>\n```'
MCP_FENCED = (
    "```xml\n<CallMcpTool><serverName>fs</serverName><toolName>ls</toolName>"
    "<arguments>{}</arguments></CallMcpTool>\n```\n"
)
KIMI_FENCED = "See:\n~~~text\n" + _kimi(("f", 0, "{}")) + "\n~~~\n"

CASES: list[tuple[str, str, str, Calls]] = [
    # id, text, content, calls
    # -- DeepSeek XML ------------------------------------------------------------------
    (
        "xml-text-before-after",
        f"Let me look.\n\n{BASH_LS}\n\nDone.",
        "Let me look.\n\nDone.",
        [("Bash", {"command": "ls -la"})],
    ),
    ("xml-only", BASH_LS, "", [("Bash", {"command": "ls -la"})]),
    (
        "xml-function-calls-wrapper",
        _wrap(_invoke("get", _param("city", "Paris")), tag="function_calls"),
        "",
        [("get", {"city": "Paris"})],
    ),
    (
        "xml-two-invokes-in-order",
        _wrap(_invoke("Read", _param("path", "/etc/hosts")), _invoke("Bash", _param("command", "pwd"))),
        "",
        [("Read", {"path": "/etc/hosts"}), ("Bash", {"command": "pwd"})],
    ),
    (
        "xml-two-blocks-text-between",
        f"First.\n{BASH_LS}\nBetween.\n{_wrap(_invoke('pwd'))}\nAfter.",
        "First.\nBetween.\nAfter.",
        [("Bash", {"command": "ls -la"}), ("pwd", {})],
    ),
    (
        "xml-typed-values",
        _wrap(
            _invoke(
                "t",
                _param("int", "42"),
                _param("float", " -1.5e3 "),
                _param("yes", "true"),
                _param("no", "false"),
                _param("none", "null"),
                _param("obj", '{"a": [1, 2]}'),
                _param("arr", '[1, "x"]'),
                _param("zip", "007"),
                _param("plus", "+1"),
                _param("word", "  hello world  "),
                _param("broken", "{not json}"),
            )
        ),
        "",
        [
            (
                "t",
                {
                    "int": 42,
                    "float": -1500.0,
                    "yes": True,
                    "no": False,
                    "none": None,
                    "obj": {"a": [1, 2]},
                    "arr": [1, "x"],
                    "zip": "007",
                    "plus": "+1",
                    "word": "hello world",
                    "broken": "{not json}",
                },
            )
        ],
    ),
    (
        "xml-cdata-hides-closing-tags",
        _wrap(_invoke("Write", _param("content", "<![CDATA[a </parameter> </invoke> </tool_calls> b\n]]>"))),
        "",
        [("Write", {"content": "a </parameter> </invoke> </tool_calls> b\n"})],
    ),
    (
        "xml-nested-object",
        _wrap(_invoke("Edit", _param("target", "<path>/tmp/a.py</path><line>42</line>"))),
        "",
        [("Edit", {"target": {"path": "/tmp/a.py", "line": 42}})],
    ),
    (
        "xml-nested-list-and-repeats",
        _wrap(
            _invoke(
                "t",
                _param("items", "<item>1</item><item>two</item>"),
                _param("tags", "<tag>a</tag><tag>b</tag><tag>c</tag><k>v</k>"),
            )
        ),
        "",
        [("t", {"items": [1, "two"], "tags": {"tag": ["a", "b", "c"], "k": "v"}})],
    ),
    (
        "xml-invoke-json-body",
        '<tool_calls>\n<invoke name="get">\n{"city": "Oslo", "days": 3}\n</invoke>\n</tool_calls>',
        "",
        [("get", {"city": "Oslo", "days": 3})],
    ),
    ("xml-invoke-no-parameters", _wrap(_invoke("now")), "", [("now", {})]),
    ("xml-fenced-backticks", FENCED, FENCED, []),
    (
        "xml-fenced-tildes",
        f"~~~~\n{BASH_LS}\n~~~~\n",
        f"~~~~\n{BASH_LS}\n~~~~\n",
        [],
    ),
    (
        "xml-fence-then-real-call",
        f"{FENCED}\n{BASH_LS}",
        f"{FENCED}\n",
        [("Bash", {"command": "ls -la"})],
    ),
    (
        "xml-inline-code",
        "Wrap calls in `<tool_calls>` tags.",
        "Wrap calls in `<tool_calls>` tags.",
        [],
    ),
    (
        "xml-unclosed-at-end",
        'Calling.\n<tool_calls>\n<invoke name="Bash">\n<parameter name="command">ls</parameter>\n</invoke>',
        'Calling.\n<tool_calls>\n<invoke name="Bash">\n<parameter name="command">ls</parameter>\n</invoke>',
        [],
    ),
    (
        "xml-wrapper-without-invoke",
        "<tool_calls>\n<call>x</call>\n</tool_calls> tail",
        "<tool_calls>\n<call>x</call>\n</tool_calls> tail",
        [],
    ),
    (
        "xml-invoke-bad-json-body",
        '<tool_calls><invoke name="x">{oops}</invoke></tool_calls>',
        '<tool_calls><invoke name="x">{oops}</invoke></tool_calls>',
        [],
    ),
    ("partial-marker-at-end", "I will use <tool_c", "I will use <tool_c", []),
    (
        "angle-brackets-in-prose",
        "if a<b and c>d then <b>bold</b> <tool",
        "if a<b and c>d then <b>bold</b> <tool",
        [],
    ),
    (
        "prose-mentioning-a-tag",
        "The <tool_calls> wrapper holds invokes; <tool_call> too.",
        "The <tool_calls> wrapper holds invokes; <tool_call> too.",
        [],
    ),
    ("stray-closing-tag", "text </tool_calls> more", "text </tool_calls> more", []),
    ("only-whitespace-around", f"\n\n{BASH_LS}\n\n", "\n\n", [("Bash", {"command": "ls -la"})]),
    # -- DeepSeek DSML -----------------------------------------------------------------
    (
        "dsml-fullwidth-function-calls",
        "好的。\n"
        + _wrap(
            _invoke(
                "search",
                _param("query", "benchmark 2024", dsml=D_FW, string="true"),
                _param("topn", "10", dsml=D_FW, string="false"),
                dsml=D_FW,
            ),
            tag="function_calls",
            dsml=D_FW,
        ),
        "好的。\n",
        [("search", {"query": "benchmark 2024", "topn": 10})],
    ),
    (
        "dsml-ascii-tool-calls",
        _wrap(_invoke("Bash", _param("command", "ls", dsml=D_ASCII), dsml=D_ASCII), dsml=D_ASCII),
        "",
        [("Bash", {"command": "ls"})],
    ),
    (
        "dsml-mixed-closing-tags",
        f'<{D_FW}tool_calls>\n<{D_FW}invoke name="a">\n<{D_FW}parameter name="x" string="false">1</parameter>\n'
        f"</invoke>\n</{D_ASCII}tool_calls>",
        "",
        [("a", {"x": 1})],
    ),
    (
        "dsml-string-attribute-typing",
        _wrap(
            _invoke(
                "t",
                _param("s", " 42\n", dsml=D_FW, string="true"),
                _param("o", '{"k": [true]}', dsml=D_FW, string="false"),
                _param("bad", "not json", dsml=D_FW, string="false"),
                dsml=D_FW,
            ),
            dsml=D_FW,
        ),
        "",
        [("t", {"s": " 42\n", "o": {"k": [True]}, "bad": "not json"})],
    ),
    (
        "dsml-bare-invoke",
        "Checking.\n"
        + _invoke("get_datetime", _param("tz", "Asia/Shanghai", dsml=D_FW, string="true"), dsml=D_FW),
        "Checking.\n",
        [("get_datetime", {"tz": "Asia/Shanghai"})],
    ),
    (
        "dsml-cdata",
        _wrap(
            _invoke("Bash", _param("c", "<![CDATA[echo '</｜DSML｜parameter>']]>", dsml=D_FW), dsml=D_FW),
            dsml=D_FW,
        ),
        "",
        [("Bash", {"c": "echo '</｜DSML｜parameter>'"})],
    ),
    (
        "dsml-two-invokes",
        _wrap(
            _invoke("search", _param("q", "搜索", dsml=D_FW, string="true"), dsml=D_FW),
            _invoke("search", _param("q", "agents", dsml=D_FW, string="true"), dsml=D_FW),
            tag="function_calls",
            dsml=D_FW,
        )
        + "\n完成",
        "完成",
        [("search", {"q": "搜索"}), ("search", {"q": "agents"})],
    ),
    (
        "dsml-ascii-text-before-after",
        "Before. "
        + _wrap(_invoke("a", _param("x", "hi", dsml=D_ASCII), dsml=D_ASCII), dsml=D_ASCII)
        + " After.",
        "Before. After.",
        [("a", {"x": "hi"})],
    ),
    ("dsml-fenced", DSML_FENCED, DSML_FENCED, []),
    ("dsml-partial-marker-at-end", f"Next: <{FW}DSML{FW}func", f"Next: <{FW}DSML{FW}func", []),
    ("dsml-ascii-partial-marker-at-end", "Next: <|DSML|inv", "Next: <|DSML|inv", []),
    (
        "dsml-unclosed",
        f'<{D_FW}function_calls>\n<{D_FW}invoke name="a">\n',
        f'<{D_FW}function_calls>\n<{D_FW}invoke name="a">\n',
        [],
    ),
    # -- <tool_call> -------------------------------------------------------------------
    (
        "tool-call-hermes-json",
        'Sure.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}\n</tool_call>',
        "Sure.\n",
        [("get_weather", {"city": "Paris", "days": 2})],
    ),
    (
        "tool-call-hermes-arguments-string",
        '<tool_call>{"name": "f", "arguments": "{\\"a\\": 1}"}</tool_call>',
        "",
        [("f", {"a": 1})],
    ),
    (
        "tool-call-name-json-body",
        '<tool_call name="Bash">{"command": "ls", "timeout": 30}</tool_call>',
        "",
        [("Bash", {"command": "ls", "timeout": 30})],
    ),
    (
        "tool-call-name-parameters",
        '<tool_call name="Read">\n<parameter name="file_path">/a.py</parameter>\n'
        '<parameter name="limit">100</parameter>\n</tool_call>',
        "",
        [("Read", {"file_path": "/a.py", "limit": 100})],
    ),
    (
        "tool-call-positional-and-named-elements",
        "Projeyi inceliyorum.\n\n"
        '<tool_call name="Read"><path>filePath</path>\n<parameter>/Users/me/project</parameter>\n'
        "<parameter>limit</parameter>\n<parameter>100</parameter>\n</tool_call>",
        "Projeyi inceliyorum.\n\n",
        [("Read", {"path": "filePath", "0": "/Users/me/project", "1": "limit", "2": 100})],
    ),
    ("tool-call-empty-body", "<tool_call name='now'></tool_call>", "", [("now", {})]),
    (
        "tool-call-two-blocks",
        '<tool_call>{"name": "a", "arguments": {}}</tool_call>\n<tool_call>{"name": "b", "arguments": {"x": null}}</tool_call>',
        "",
        [("a", {}), ("b", {"x": None})],
    ),
    ("tool-call-fenced", TOOL_CALL_FENCED, TOOL_CALL_FENCED, []),
    (
        "tool-call-unclosed",
        'Here: <tool_call>{"name": "a", "arguments": {}}',
        'Here: <tool_call>{"name": "a", "arguments": {}}',
        [],
    ),
    (
        "tool-call-bad-json",
        '<tool_call>{"name": "a", "arguments": </tool_call> after',
        '<tool_call>{"name": "a", "arguments": </tool_call> after',
        [],
    ),
    (
        "tool-call-wrapping-invoke",
        '<tool_call>\n<invoke name="x"><parameter name="k">v</parameter></invoke>\n</tool_call>',
        "",
        [("x", {"k": "v"})],
    ),
    # -- <CallMcpTool> -----------------------------------------------------------------
    (
        "mcp-text-before-after",
        "I will examine the project.\n\n<CallMcpTool>\n  <serverName>filesystem</serverName>\n"
        '  <toolName>list_directory</toolName>\n  <arguments>{"path": "/srv", "maxDepth": 3}</arguments>\n'
        "</CallMcpTool>\n\nResults follow.",
        "I will examine the project.\n\nResults follow.",
        [("filesystem_list_directory", {"path": "/srv", "maxDepth": 3})],
    ),
    (
        "mcp-no-server",
        '<CallMcpTool><serverName></serverName><toolName>read_file</toolName><arguments>{"path": "/a"}</arguments></CallMcpTool>',
        "",
        [("read_file", {"path": "/a"})],
    ),
    (
        "mcp-xml-arguments",
        "<CallMcpTool><server>github</server><toolName>create_issue</toolName>"
        "<arguments><title>Bug</title><labels><item>p1</item></labels><count>2</count></arguments></CallMcpTool>",
        "",
        [("github_create_issue", {"title": "Bug", "labels": ["p1"], "count": 2})],
    ),
    ("mcp-fenced", MCP_FENCED, MCP_FENCED, []),
    ("mcp-partial-marker-at-end", "Calling <CallMcp", "Calling <CallMcp", []),
    (
        "mcp-bad-json-arguments",
        "<CallMcpTool><serverName>fs</serverName><toolName>ls</toolName><arguments>{oops</arguments></CallMcpTool>",
        "<CallMcpTool><serverName>fs</serverName><toolName>ls</toolName><arguments>{oops</arguments></CallMcpTool>",
        [],
    ),
    (
        "mcp-missing-tool-name",
        "<CallMcpTool><serverName>fs</serverName><arguments>{}</arguments></CallMcpTool>",
        "<CallMcpTool><serverName>fs</serverName><arguments>{}</arguments></CallMcpTool>",
        [],
    ),
    # -- Kimi K2 -----------------------------------------------------------------------
    (
        "kimi-one-call",
        _kimi(("get_weather", 0, '{"city": "Beijing"}')),
        "",
        [("get_weather", {"city": "Beijing"})],
    ),
    (
        "kimi-two-calls-text-before",
        "Let me check both.\n" + _kimi(("get_weather", 0, '{"city": "A"}'), ("get_time", 1, "{}")),
        "Let me check both.\n",
        [("get_weather", {"city": "A"}), ("get_time", {})],
    ),
    (
        "kimi-bare-call",
        '<|tool_call_begin|>functions.search:3<|tool_call_argument_begin|>{"q": "x"}<|tool_call_end|> ok',
        "ok",
        [("search", {"q": "x"})],
    ),
    (
        "kimi-text-after-section",
        _kimi(("get_time", 0, '{"tz": "UTC"}')) + "\nWaiting for the result.",
        "Waiting for the result.",
        [("get_time", {"tz": "UTC"})],
    ),
    ("kimi-fenced", KIMI_FENCED, KIMI_FENCED, []),
    ("kimi-partial-marker-at-end", "Now <|tool_calls_sec", "Now <|tool_calls_sec", []),
    (
        "kimi-bad-json",
        _kimi(("f", 0, "{oops")),
        _kimi(("f", 0, "{oops")),
        [],
    ),
    (
        "kimi-unclosed-section",
        "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{}",
        "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{}",
        [],
    ),
    # -- DeepSeek V3 / V3.1 ------------------------------------------------------------
    (
        "deepseek-v3-fenced-json",
        f'<｜tool▁calls▁begin｜>{DSV3_CALL}function{DSV3_SEP}get_weather\n```json\n{{"location": "Tokyo"}}\n```'
        f"{DSV3_END}<｜tool▁calls▁end｜>",
        "",
        [("get_weather", {"location": "Tokyo"})],
    ),
    (
        "deepseek-v31-ascii-bars",
        '<|tool▁calls▁begin|><|tool▁call▁begin|>f<|tool▁sep|>{"a": 1}<|tool▁call▁end|>'
        "<|tool▁call▁begin|>g<|tool▁sep|>{}<|tool▁call▁end|><|tool▁calls▁end|>",
        "",
        [("f", {"a": 1}), ("g", {})],
    ),
    # -- mixed -------------------------------------------------------------------------
    (
        "mixed-formats-in-order",
        f"A\n{_wrap(_invoke('one', dsml=D_FW), dsml=D_FW)}\nB\n{_kimi(('two', 0, '{}'))}\nC",
        "A\nB\nC",
        [("one", {}), ("two", {})],
    ),
    (
        "html-heavy-text",
        "<div class='x'><p>a &lt; b</p></div>\n<tool_callx> <CallMcp> <|tool <｜DSML｜x>",
        "<div class='x'><p>a &lt; b</p></div>\n<tool_callx> <CallMcp> <|tool <｜DSML｜x>",
        [],
    ),
]


def _stream(pieces: list[str]) -> tuple[str, list[dict[str, Any]]]:
    scanner = TextToolCallFilter()
    content: list[str] = []
    calls: list[dict[str, Any]] = []
    for piece in pieces:
        text, found = scanner.feed(piece)
        content.append(text)
        calls += found
    text, found = scanner.finish()
    return "".join(content) + text, calls + found


def _check(result: tuple[str, list[dict[str, Any]]], content: str, calls: Calls) -> None:
    got_content, got_calls = result
    assert got_content == content
    assert [(c["function"]["name"], orjson.loads(c["function"]["arguments"])) for c in got_calls] == calls
    for call in got_calls:
        assert re.fullmatch(r"call_[0-9a-f]{24}", call["id"])
        assert call["type"] == "function"
        assert isinstance(call["function"]["arguments"], str)


IDS = [case[0] for case in CASES]
TABLE = [case[1:] for case in CASES]


def test_table_has_enough_cases() -> None:
    assert len(CASES) >= 40
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize(("text", "content", "calls"), TABLE, ids=IDS)
def test_whole_text(text: str, content: str, calls: Calls) -> None:
    _check(parse_text_tool_calls(text), content, calls)


@pytest.mark.parametrize(("text", "content", "calls"), TABLE, ids=IDS)
def test_split_at_every_position(text: str, content: str, calls: Calls) -> None:
    for cut in range(len(text) + 1):
        _check(_stream([text[:cut], text[cut:]]), content, calls)


@pytest.mark.parametrize(("text", "content", "calls"), TABLE, ids=IDS)
def test_one_character_at_a_time(text: str, content: str, calls: Calls) -> None:
    _check(_stream(list(text)), content, calls)


@settings(max_examples=200, deadline=None)
@given(case=st.sampled_from(CASES), cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12))
def test_any_split(case: tuple[str, str, str, Calls], cuts: list[int]) -> None:
    _id, text, content, calls = case
    points = sorted({cut % (len(text) + 1) for cut in cuts})
    pieces = [text[start:end] for start, end in zip([0, *points], [*points, len(text)], strict=True)]
    _check(_stream(pieces), content, calls)


# -- streaming behaviour ------------------------------------------------------------------


def test_plain_text_passes_through_delta_by_delta() -> None:
    scanner = TextToolCallFilter()
    for piece in ["Hello", " world", ", no markup", " here.\n", "```\ncode\n```\n"]:
        assert scanner.feed(piece) == (piece, [])
    assert scanner.finish() == ("", [])


def test_partial_marker_is_held_until_decided() -> None:
    scanner = TextToolCallFilter()
    assert scanner.feed("Look: <tool_") == ("Look: ", [])
    assert scanner.pending
    assert scanner.feed("cabinet>") == ("<tool_cabinet>", [])
    assert not scanner.pending


def test_call_comes_out_when_its_block_closes() -> None:
    scanner = TextToolCallFilter()
    assert scanner.feed('Run it.\n<tool_calls>\n<invoke name="Bash">') == ("Run it.\n", [])
    assert scanner.feed('<parameter name="command">ls</parameter></invoke>') == ("", [])
    text, calls = scanner.feed("</tool_calls>\nDone")
    assert text == "Done"
    assert [call["function"]["name"] for call in calls] == ["Bash"]
    assert scanner.finish() == ("", [])


def test_prose_tag_is_released_without_waiting_for_the_end() -> None:
    scanner = TextToolCallFilter()
    assert scanner.feed("Use <tool_call>") == ("Use ", [])
    assert scanner.feed(" tags") == ("<tool_call> tags", [])


def test_text_inside_a_fence_is_not_held() -> None:
    scanner = TextToolCallFilter()
    assert scanner.feed("```\n") == ("```\n", [])
    assert scanner.feed("<tool_") == ("<tool_", [])


# -- the client's tools ---------------------------------------------------------------------

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "parameters": {
                "type": "object",
                "properties": {
                    "zip": {"type": "string"},
                    "count": {"type": "integer"},
                    "id": {"type": ["string", "null"]},
                },
            },
        },
    },
    {"type": "function", "function": {"name": "mcp__github__create_issue", "parameters": {}}},
]


def test_declared_string_parameters_stay_strings() -> None:
    text = _wrap(_invoke("lookup", _param("zip", "02139"), _param("count", "3"), _param("id", "12")))
    _content, calls = parse_text_tool_calls(text, tools=TOOLS)
    assert orjson.loads(calls[0]["function"]["arguments"]) == {"zip": "02139", "count": 3, "id": "12"}


def test_mcp_call_takes_the_declared_name() -> None:
    text = "<CallMcpTool><serverName>github</serverName><toolName>create_issue</toolName><arguments>{}</arguments></CallMcpTool>"
    _content, calls = parse_text_tool_calls(text, tools=TOOLS)
    assert calls[0]["function"]["name"] == "mcp__github__create_issue"


def test_mcp_call_kept_whole_for_a_client_that_declares_call_mcp_tool() -> None:
    text = '<CallMcpTool><serverName>fs</serverName><toolName>ls</toolName><arguments>{"p": 1}</arguments></CallMcpTool>'
    tools = [{"type": "function", "function": {"name": "CallMcpTool"}}]
    _content, calls = parse_text_tool_calls(text, tools=tools)
    assert calls[0]["function"]["name"] == "CallMcpTool"
    assert orjson.loads(calls[0]["function"]["arguments"]) == {
        "server": "fs",
        "toolName": "ls",
        "arguments": {"p": 1},
    }


def test_a_long_block_streamed_finely_stays_correct() -> None:
    body = "if a < b:\n    print('</tool_calls>')\n" * 3000
    text = f'Writing.\n<tool_calls><invoke name="Write"><parameter name="content"><![CDATA[{body}]]></parameter></invoke></tool_calls>'
    content, calls = _stream([text[at : at + 3] for at in range(0, len(text), 3)])
    assert content == "Writing.\n"
    assert orjson.loads(calls[0]["function"]["arguments"]) == {"content": body}
    unclosed = text[: -len("</tool_calls>")]
    assert _stream([unclosed[at : at + 3] for at in range(0, len(unclosed), 3)]) == (unclosed, [])
