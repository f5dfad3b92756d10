"""Post-processing of chat answers and streams in the client's dialect: realistic vLLM and
Ollama answers, checked through the SDKs' own models and stream accumulators."""

import copy
from typing import Any

import ollama
import orjson
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from maestro_app.providers.bridge import OllamaChatStreamToOpenAI, OpenAIChatStreamToOllama
from maestro_app.providers.postprocess import (
    OllamaStreamPostprocess,
    OpenAIStreamPostprocess,
    postprocess_ollama_answer,
    postprocess_openai_answer,
)
from maestro_app.providers.types import Usage

Chunk = dict[str, Any]

DSML_CALL = (
    "<｜DSML｜function_calls>\n"
    '<｜DSML｜invoke name="search">\n'
    '<｜DSML｜parameter name="query" string="true">vllm tool parsers</｜DSML｜parameter>\n'
    '<｜DSML｜parameter name="topn" string="false">5</｜DSML｜parameter>\n'
    "</｜DSML｜invoke>\n"
    "</｜DSML｜function_calls>"
)
KIMI_CALL = (
    "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0"
    '<|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|><|tool_calls_section_end|>'
)
HERMES_CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>'
MCP_CALL = (
    "<CallMcpTool>\n  <serverName>filesystem</serverName>\n  <toolName>list_directory</toolName>\n"
    '  <arguments>{"path": "/srv"}</arguments>\n</CallMcpTool>'
)


class Identity:
    """An inner transform that passes upstream chunks on, as the same-dialect legs do."""

    def __init__(self) -> None:
        self.usage: Usage | None = None

    def feed(self, chunk: Chunk) -> list[Chunk]:
        return [chunk]

    def finish(self) -> list[Chunk]:
        return []


def _pieces(text: str, size: int = 3) -> list[str]:
    return [text[at : at + size] for at in range(0, len(text), size)]


# -- OpenAI answers --------------------------------------------------------------------


def _openai_answer(**message: Any) -> Chunk:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "deepseek-v3.2",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", **message},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
    }


def test_openai_answer_with_plain_text_is_returned_as_is() -> None:
    answer = _openai_answer(content="Use a < b when comparing.", tool_calls=[])
    before = copy.deepcopy(answer)
    assert postprocess_openai_answer(answer) is answer
    assert answer == before


def test_openai_answer_printed_calls_become_tool_calls() -> None:
    answer = _openai_answer(content=f"Let me search.\n\n{DSML_CALL}")
    before = copy.deepcopy(answer)
    result = postprocess_openai_answer(answer)
    assert answer == before
    choice = result["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Let me search.\n\n"
    (call,) = choice["message"]["tool_calls"]
    assert call["function"]["name"] == "search"
    assert orjson.loads(call["function"]["arguments"]) == {"query": "vllm tool parsers", "topn": 5}
    assert result["usage"] == answer["usage"]
    parsed = ChatCompletion.model_validate(result)
    assert parsed.choices[0].message.tool_calls is not None


def test_openai_answer_think_and_reasoning_field() -> None:
    answer = _openai_answer(content="<think>Paris is in France.</think>\n\nIt is sunny.", reasoning=None)
    message = postprocess_openai_answer(answer)["choices"][0]["message"]
    assert message == {
        "role": "assistant",
        "content": "It is sunny.",
        "reasoning_content": "Paris is in France.",
    }
    vllm = _openai_answer(content="Hi", reasoning="The user greets me.")
    message = postprocess_openai_answer(vllm)["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "Hi", "reasoning_content": "The user greets me."}


def test_openai_answer_whitespace_content_becomes_null_and_native_calls_stay() -> None:
    native = {"id": "call_native", "type": "function", "function": {"name": "first", "arguments": "{}"}}
    answer = _openai_answer(content=f"\n{KIMI_CALL}\n", tool_calls=[native])
    message = postprocess_openai_answer(answer)["choices"][0]["message"]
    assert message["content"] is None
    assert [call["function"]["name"] for call in message["tool_calls"]] == ["first", "get_weather"]


def test_openai_completion_answer_passes_untouched() -> None:
    answer = {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "text": "<tool_call>{}</tool_call>", "finish_reason": "stop"}],
    }
    assert postprocess_openai_answer(answer) is answer


# -- Ollama answers --------------------------------------------------------------------


def _ollama_answer(**message: Any) -> Chunk:
    return {
        "model": "kimi-k2",
        "created_at": "2025-05-01T12:00:00Z",
        "message": {"role": "assistant", **message},
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 12,
        "eval_count": 34,
    }


def test_ollama_answer_with_plain_text_is_returned_as_is() -> None:
    answer = _ollama_answer(content="No markup <here>.")
    assert postprocess_ollama_answer(answer) is answer


def test_ollama_answer_printed_calls_and_think() -> None:
    answer = _ollama_answer(content=f"<think>Need the listing.</think>Listing it.\n{MCP_CALL}")
    before = copy.deepcopy(answer)
    result = postprocess_ollama_answer(answer)
    assert answer == before
    message = result["message"]
    assert message["content"] == "Listing it.\n"
    assert message["thinking"] == "Need the listing."
    (call,) = message["tool_calls"]
    assert call["function"] == {
        "index": 0,
        "name": "filesystem_list_directory",
        "arguments": {"path": "/srv"},
    }
    assert call["id"].startswith("call_")
    assert result["eval_count"] == 34
    parsed = ollama.ChatResponse.model_validate(result)
    assert parsed.message.tool_calls is not None
    assert parsed.message.tool_calls[0].function.arguments == {"path": "/srv"}


# -- OpenAI streams --------------------------------------------------------------------


def _vllm_chunk(delta: dict[str, Any], finish_reason: str | None = None) -> Chunk:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "deepseek-v3.2",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


USAGE_CHUNK: Chunk = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1_700_000_000,
    "model": "deepseek-v3.2",
    "choices": [],
    "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
}


def _vllm_stream(pieces: list[str], field: str = "content") -> list[Chunk]:
    chunks = [_vllm_chunk({"role": "assistant", "content": ""})]
    chunks += [_vllm_chunk({field: piece}) for piece in pieces]
    chunks += [_vllm_chunk({}, "stop"), copy.deepcopy(USAGE_CHUNK)]
    return chunks


def _run(wrapper: OpenAIStreamPostprocess | OllamaStreamPostprocess, chunks: list[Chunk]) -> list[Chunk]:
    out: list[Chunk] = []
    for chunk in chunks:
        out += wrapper.feed(chunk)
    out += wrapper.finish()
    return out


def _accumulate(chunks: list[Chunk]) -> Any:
    state: ChatCompletionStreamState = ChatCompletionStreamState()
    for chunk in chunks:
        state.handle_chunk(ChatCompletionChunk.model_validate(chunk))
    return state.get_final_completion()


def test_openai_stream_of_plain_text_is_untouched() -> None:
    chunks = _vllm_stream(_pieces("Hello! Here is a list:\n```\n- a\n- b\n```\nBye.", 4))
    before = copy.deepcopy(chunks)
    out = _run(OpenAIStreamPostprocess(Identity()), chunks)
    assert out == before
    assert all(got is sent for got, sent in zip(out, chunks, strict=True))


def test_openai_stream_printed_calls_become_tool_calls() -> None:
    chunks = _vllm_stream(_pieces(f"Let me search.\n\n{DSML_CALL}\n"))
    usage_chunk = chunks[-1]
    out = _run(OpenAIStreamPostprocess(Identity()), chunks)
    assert out[-1] is usage_chunk
    assert out[-1] == USAGE_CHUNK
    assert not any("DSML" in str(chunk) for chunk in out)
    completion = _accumulate(out)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Let me search.\n\n"
    (call,) = choice.message.tool_calls
    assert call.id.startswith("call_")
    assert call.function.name == "search"
    assert orjson.loads(call.function.arguments) == {"query": "vllm tool parsers", "topn": 5}
    assert completion.usage is not None and completion.usage.total_tokens == 12


def test_openai_stream_gives_the_same_answer_however_content_is_split() -> None:
    content = f"<think>Two calls.</think>\nOK.\n{HERMES_CALL}\n{KIMI_CALL}\nDone."
    for cut in range(len(content) + 1):
        chunks = _vllm_stream([part for part in (content[:cut], content[cut:]) if part])
        completion = _accumulate(_run(OpenAIStreamPostprocess(Identity()), chunks))
        message = completion.choices[0].message
        assert message.content == "OK.\nDone."
        assert message.model_extra["reasoning_content"] == "Two calls."
        assert [call.function.name for call in message.tool_calls] == ["get_weather", "get_weather"]
        assert [call.index for call in message.tool_calls] == [0, 1]
        assert completion.choices[0].finish_reason == "tool_calls"


def test_openai_stream_reasoning_field_becomes_reasoning_content() -> None:
    chunks = _vllm_stream(["The user", " greets me."], field="reasoning") + []
    chunks.insert(-2, _vllm_chunk({"content": "Hi!"}))
    out = _run(OpenAIStreamPostprocess(Identity()), chunks)
    assert all("reasoning" not in choice["delta"] for chunk in out for choice in chunk["choices"])
    message = _accumulate(out).choices[0].message
    assert message.model_extra["reasoning_content"] == "The user greets me."
    assert message.content == "Hi!"


def test_openai_stream_keeps_upstream_tool_call_indices() -> None:
    native = {
        "index": 0,
        "id": "call_native",
        "type": "function",
        "function": {"name": "first", "arguments": "{}"},
    }
    chunks = [
        _vllm_chunk({"role": "assistant", "tool_calls": [native]}),
        *_vllm_stream(_pieces(HERMES_CALL))[1:],
    ]
    completion = _accumulate(_run(OpenAIStreamPostprocess(Identity()), chunks))
    assert [call.function.name for call in completion.choices[0].message.tool_calls] == [
        "first",
        "get_weather",
    ]


def test_openai_stream_from_an_ollama_node_with_think_tags() -> None:
    def ollama_chunk(content: str, done: bool = False) -> Chunk:
        chunk: Chunk = {
            "model": "qwen3",
            "created_at": "2025-05-01T12:00:00Z",
            "message": {"role": "assistant", "content": content},
            "done": done,
        }
        if done:
            chunk |= {"done_reason": "stop", "prompt_eval_count": 3, "eval_count": 9}
        return chunk

    text = f"<think>\nHmm.\n</think>\n\nChecking.\n{HERMES_CALL}"
    inner = OllamaChatStreamToOpenAI(model="shown", include_usage=True)
    wrapper = OpenAIStreamPostprocess(inner)
    out = _run(wrapper, [ollama_chunk(piece) for piece in _pieces(text, 5)] + [ollama_chunk("", done=True)])
    completion = _accumulate(out)
    message = completion.choices[0].message
    assert message.content == "Checking.\n"
    assert message.model_extra["reasoning_content"] == "Hmm.\n"
    assert message.tool_calls[0].function.name == "get_weather"
    assert completion.choices[0].finish_reason == "tool_calls"
    assert wrapper.usage == inner.usage == Usage(prompt_tokens=3, completion_tokens=9)


def test_openai_stream_cut_short_flushes_held_text() -> None:
    chunks = [_vllm_chunk({"role": "assistant", "content": ""}), _vllm_chunk({"content": "See <tool_ca"})]
    out = _run(OpenAIStreamPostprocess(Identity()), chunks)
    contents = [choice["delta"].get("content") for chunk in out for choice in chunk["choices"]]
    assert "".join(piece or "" for piece in contents) == "See <tool_ca"
    assert out[-1]["id"] == "chatcmpl-1" and out[-1]["model"] == "deepseek-v3.2"


def test_openai_stream_drops_chunks_whose_content_is_held() -> None:
    chunks = _vllm_stream(["Hi ", "<tool_call>", '{"name": "f", "arguments": {}}', "</tool_call>"])
    out = _run(OpenAIStreamPostprocess(Identity()), chunks)
    deltas = [choice["delta"] for chunk in out for choice in chunk["choices"]]
    assert {"content": ""} not in deltas
    # role, "Hi ", the call (in the chunk that closed its block), the finish, usage
    assert len(out) == 5
    assert out[2]["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] == "f"


def test_openai_completion_stream_passes_untouched() -> None:
    chunk = {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "text": "<tool_calls>", "logprobs": None, "finish_reason": None}],
    }
    before = copy.deepcopy(chunk)
    wrapper = OpenAIStreamPostprocess(Identity())
    assert wrapper.feed(chunk) == [chunk]
    assert chunk == before
    assert wrapper.finish() == []


# -- Ollama streams --------------------------------------------------------------------


def _ollama_chunk(content: str, **extra: Any) -> Chunk:
    return {
        "model": "qwen3",
        "created_at": "2025-05-01T12:00:00Z",
        "message": {"role": "assistant", "content": content, **extra},
        "done": False,
    }


OLLAMA_DONE: Chunk = {
    "model": "qwen3",
    "created_at": "2025-05-01T12:00:01Z",
    "message": {"role": "assistant", "content": ""},
    "done": True,
    "done_reason": "stop",
    "prompt_eval_count": 4,
    "eval_count": 8,
}


def test_ollama_stream_of_plain_text_is_untouched() -> None:
    chunks = [*(_ollama_chunk(piece) for piece in _pieces("a < b, fine.", 2)), copy.deepcopy(OLLAMA_DONE)]
    before = copy.deepcopy(chunks)
    out = _run(OllamaStreamPostprocess(Identity()), chunks)
    assert out == before
    assert all(got is sent for got, sent in zip(out, chunks, strict=True))


def test_ollama_stream_calls_come_in_one_chunk_before_done() -> None:
    text = f"Checking both.\n{HERMES_CALL}\n{KIMI_CALL}"
    chunks = [*(_ollama_chunk(piece) for piece in _pieces(text, 4)), copy.deepcopy(OLLAMA_DONE)]
    out = _run(OllamaStreamPostprocess(Identity()), chunks)
    for obj in out:
        ollama.ChatResponse.model_validate(obj)
    assert "".join(obj["message"]["content"] for obj in out) == "Checking both.\n"
    assert out[-1]["done"] is True and out[-1]["eval_count"] == 8
    calls = out[-2]["message"]["tool_calls"]
    assert [call["function"] for call in calls] == [
        {"index": 0, "name": "get_weather", "arguments": {"city": "Oslo"}},
        {"index": 1, "name": "get_weather", "arguments": {"city": "Paris"}},
    ]
    assert sum(1 for obj in out if obj["message"].get("tool_calls")) == 1


def test_ollama_stream_from_a_vllm_node_with_think_tags() -> None:
    text = f"<think>Plan.</think>Here.\n{DSML_CALL}"
    inner = OpenAIChatStreamToOllama(model="shown")
    wrapper = OllamaStreamPostprocess(inner)
    out = _run(wrapper, _vllm_stream(_pieces(text, 7)))
    for obj in out:
        ollama.ChatResponse.model_validate(obj)
    assert "".join(obj["message"].get("thinking", "") for obj in out) == "Plan."
    assert "".join(obj["message"]["content"] for obj in out) == "Here.\n"
    assert out[-2]["message"]["tool_calls"][0]["function"]["arguments"] == {
        "query": "vllm tool parsers",
        "topn": 5,
    }
    assert out[-1]["done"] is True
    assert wrapper.usage == Usage(prompt_tokens=5, completion_tokens=7)


def test_ollama_stream_cut_short_flushes_held_text_and_calls() -> None:
    chunks = [_ollama_chunk(HERMES_CALL), _ollama_chunk(" <|tool")]
    out = _run(OllamaStreamPostprocess(Identity()), chunks)
    assert out[0]["message"]["content"] == "<|tool"
    assert out[1]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert all(obj["done"] is False for obj in out)


def test_ollama_generate_stream_passes_untouched() -> None:
    chunk = {
        "model": "m",
        "created_at": "2025-05-01T12:00:00Z",
        "response": "<think>x</think>",
        "done": False,
    }
    wrapper = OllamaStreamPostprocess(Identity())
    assert wrapper.feed(chunk) == [chunk]
    assert chunk["response"] == "<think>x</think>"
    assert wrapper.finish() == []


def test_openai_stream_leaves_content_parts_alone() -> None:
    parts = [{"type": "text", "text": "<tool_call>"}]
    chunk = _vllm_chunk({"content": parts})
    out = _run(OpenAIStreamPostprocess(Identity()), [chunk])
    assert out[0]["choices"][0]["delta"]["content"] is parts
