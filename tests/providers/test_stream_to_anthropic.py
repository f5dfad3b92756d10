"""OpenAI chat stream -> Anthropic Messages events."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from maestro_app.providers.bridge import OllamaChatStreamToOpenAI
from maestro_app.providers.stream_to_anthropic import OpenAIChatStreamToAnthropic
from maestro_app.providers.types import Usage


class Chunks:
    """The inner OpenAI-side transform: chunks pass as they are, usage is read off them."""

    def __init__(self) -> None:
        self.usage: Usage | None = None

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        if chunk.get("usage"):
            self.usage = Usage(chunk["usage"]["prompt_tokens"], chunk["usage"]["completion_tokens"])
        return [chunk]

    def finish(self) -> list[dict[str, Any]]:
        return []


def delta(finish: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": fields, "finish_reason": finish}]}


def call(index: int | None, *, id: str = "", name: str = "", arguments: str = "") -> dict[str, Any]:
    fragment: dict[str, Any] = {"function": {"name": name, "arguments": arguments}}
    if index is not None:
        fragment["index"] = index
    if id:
        fragment["id"] = id
    return fragment


def run(chunks: list[dict[str, Any]], **kwargs: Any) -> list[dict[str, Any]]:
    stream = OpenAIChatStreamToAnthropic(Chunks(), model="shown", input_estimate=11, **kwargs)
    events = [event for chunk in chunks for event in stream.feed(chunk)]
    return events + stream.finish()


def shape(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for event in events:
        kind = event["type"]
        if kind == "content_block_start":
            out.append((kind, event["index"], event["content_block"]["type"]))
        elif kind == "content_block_delta":
            d = event["delta"]
            out.append((kind, event["index"], d.get("text") or d.get("thinking") or d.get("partial_json")))
        elif kind == "content_block_stop":
            out.append((kind, event["index"]))
        else:
            out.append((kind,))
    return out


def test_reasoning_text_and_tool_calls_in_order() -> None:
    events = run(
        [
            delta(role="assistant", content=""),
            delta(reasoning_content="hmm"),
            delta(reasoning="more"),  # vLLM's other name
            delta(content="Hi"),
            delta(tool_calls=[call(0, id="call_a", name="f", arguments="")]),
            delta(tool_calls=[call(0, arguments='{"a":')]),
            delta(tool_calls=[call(0, arguments="1}")]),
            delta(tool_calls=[call(1, id="call_b", name="g", arguments="{}")]),
            delta("tool_calls"),
            {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4}},
        ]
    )
    assert shape(events) == [
        ("message_start",),
        ("ping",),
        ("content_block_start", 0, "thinking"),
        ("content_block_delta", 0, "hmm"),
        ("content_block_delta", 0, "more"),
        ("content_block_stop", 0),
        ("content_block_start", 1, "text"),
        ("content_block_delta", 1, "Hi"),
        ("content_block_stop", 1),
        ("content_block_start", 2, "tool_use"),
        ("content_block_delta", 2, '{"a":'),
        ("content_block_delta", 2, "1}"),
        ("content_block_stop", 2),
        ("content_block_start", 3, "tool_use"),
        ("content_block_delta", 3, "{}"),
        ("content_block_stop", 3),
        ("message_delta",),
        ("message_stop",),
    ]
    start = events[0]["message"]
    assert start["model"] == "shown" and start["usage"]["input_tokens"] == 11
    assert events[9]["content_block"] == {"type": "tool_use", "id": "call_a", "name": "f", "input": {}}
    assert events[2]["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}
    final = events[-2]
    assert final["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert (final["usage"]["input_tokens"], final["usage"]["output_tokens"]) == (9, 4)


def test_call_named_late_and_fragments_without_index() -> None:
    events = run(
        [
            delta(tool_calls=[call(None, id="c1", arguments='{"x"')]),  # no name yet: held
            delta(tool_calls=[call(None, name="f", arguments=":1}")]),
            delta(tool_calls=[call(None, id="c2", name="g", arguments="{}")]),
            delta(tool_calls=[call(0, arguments="late")]),  # its block is closed: dropped
            delta("stop"),
        ]
    )
    assert shape(events)[2:-2] == [
        ("content_block_start", 0, "tool_use"),
        ("content_block_delta", 0, '{"x":1}'),
        ("content_block_stop", 0),
        ("content_block_start", 1, "tool_use"),
        ("content_block_delta", 1, "{}"),
        ("content_block_stop", 1),
    ]
    # "stop" with tool calls made is still a tool_use turn.
    assert events[-2]["delta"]["stop_reason"] == "tool_use"


def test_empty_answer_estimates_and_stop_sequence() -> None:
    assert shape(run([])) == [("message_start",), ("ping",), ("message_delta",), ("message_stop",)]
    # vLLM names the matched stop string in the choice.
    finish = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "stop_reason": "END"}]}
    events = run([delta(content="12345678"), finish], stops=["END"])
    final = events[-2]
    assert final["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "END"}
    assert (final["usage"]["input_tokens"], final["usage"]["output_tokens"]) == (11, 2)
    assert run([delta("length")])[-2]["delta"]["stop_reason"] == "max_tokens"


def test_from_an_ollama_stream() -> None:
    inner = OllamaChatStreamToOpenAI(model="shown", include_usage=False)
    stream = OpenAIChatStreamToAnthropic(inner, model="shown", input_estimate=1)
    lines = [
        {"message": {"role": "assistant", "content": "", "thinking": "t"}, "done": False},
        {"message": {"role": "assistant", "content": "Hi"}, "done": False},
        {
            "message": {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}],
            },
            "done": False,
        },
        {
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 5,
            "eval_count": 6,
        },
    ]
    events = [event for line in lines for event in stream.feed(line)] + stream.finish()
    assert [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"] == [
        "thinking",
        "text",
        "tool_use",
    ]
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    assert (events[-2]["usage"]["input_tokens"], events[-2]["usage"]["output_tokens"]) == (5, 6)
    assert stream.feed(lines[0]) == [] and stream.finish() == []


odd = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "x", "stop", "f", "{"])),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.sampled_from(["choices", "delta", "index", "content", "tool_calls", "function", "name",
                             "arguments", "id", "finish_reason", "reasoning_content", "usage"]),
            children,
            max_size=4,
        ),
    ),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["choices", "usage"]), odd, max_size=2), max_size=5))
def test_odd_chunks_never_raise_and_keep_the_order(chunks: list[dict[str, Any]]) -> None:
    inner = Chunks()
    inner.feed = lambda chunk: [chunk]  # type: ignore[method-assign]  (usage left alone: odd shapes)
    stream = OpenAIChatStreamToAnthropic(inner, model="m", input_estimate=0)
    events = [event for chunk in chunks for event in stream.feed(chunk)] + stream.finish()
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["message_start", "ping"] and kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("content_block_start") == kinds.count("content_block_stop")
