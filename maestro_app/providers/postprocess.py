"""Answer post-processing in the client's dialect, whatever the model (SPEC §3.6).

    postprocess_openai_answer(answer, tools=)   chat.completion      -> chat.completion
    postprocess_ollama_answer(answer, tools=)   /api/chat answer     -> /api/chat answer
    OpenAIStreamPostprocess(inner, tools=)      wraps an OpenAI-side stream transform
    OllamaStreamPostprocess(inner, tools=)      wraps an Ollama-side stream transform

Each does, on chat content only:

- `<think>…</think>` opening the content → `reasoning_content` (OpenAI) / `thinking` (Ollama);
- tool calls printed as text (`textcalls`) → `tool_calls`, with `finish_reason:
  "tool_calls"` on OpenAI; on Ollama, arguments as objects, all calls in one chunk right
  before the `done` chunk;
- an upstream `reasoning` field → `reasoning_content` (OpenAI).

Anything else (completions, generate, embeddings, usage-only chunks) passes untouched.
`tools` is the request's `tools` list, used to type parameter values and name MCP calls.

Non-streamed functions never modify their input and return it as is when there is nothing
to change. Stream wrappers edit the chunks their inner transform produced (those are
theirs to send) and drop chunks left with nothing to say; a chunk whose content has no `<`
while nothing is held back is passed on unchanged after a couple of lookups.
"""

from collections.abc import Mapping
from typing import Any, Protocol

from maestro_app.providers._coerce import integer, items, text
from maestro_app.providers.textcalls import TextToolCallFilter, ToolCalls, parse_text_tool_calls
from maestro_app.providers.think import ThinkSplitter, split_think
from maestro_app.providers.toolcalls import openai_tool_calls_to_ollama
from maestro_app.providers.types import Usage

Chunk = dict[str, Any]


class StreamTransform(Protocol):
    usage: Usage | None

    def feed(self, chunk: Chunk) -> list[Chunk]: ...

    def finish(self) -> list[Chunk]: ...


class WrappingTransform:
    """A stream transform around another: the usage is the inner transform's."""

    __slots__ = ("_inner",)

    def __init__(self, inner: StreamTransform) -> None:
        self._inner = inner

    @property
    def usage(self) -> Usage | None:
        return self._inner.usage

    @usage.setter
    def usage(self, value: Usage | None) -> None:
        self._inner.usage = value


def _joined(before: Any, after: str) -> str:
    earlier = text(before)
    return f"{earlier}\n{after}" if earlier else after


def _split(content: str, tools: Any) -> tuple[str, str, ToolCalls]:
    reasoning, rest = split_think(content)
    rest, calls = parse_text_tool_calls(rest, tools=tools)
    return reasoning, rest, calls


def _ollama_calls(calls: ToolCalls, *, first_index: int) -> list[dict[str, Any]]:
    converted = openai_tool_calls_to_ollama(calls)
    for offset, call in enumerate(converted):
        call["function"]["index"] = first_index + offset
    return converted


# -- whole answers ----------------------------------------------------------------------


def _move_reasoning(message: dict[str, Any]) -> bool:
    """vLLM's `reasoning` → `reasoning_content`; True when the message changed."""
    if "reasoning" not in message:
        return False
    reasoning = message.pop("reasoning")
    if isinstance(reasoning, str) and reasoning and not text(message.get("reasoning_content")):
        message["reasoning_content"] = reasoning
    return True


def _openai_choice(choice: Any, tools: Any) -> Any:
    message = choice.get("message") if isinstance(choice, Mapping) else None
    if not isinstance(message, Mapping):
        return choice
    updated = dict(message)
    changed = _move_reasoning(updated)
    content = updated.get("content")
    calls: ToolCalls = []
    if isinstance(content, str) and "<" in content:
        reasoning, rest, calls = _split(content, tools)
        if reasoning:
            updated["reasoning_content"] = _joined(updated.get("reasoning_content"), reasoning)
        if calls:
            updated["tool_calls"] = [*items(updated.get("tool_calls")), *calls]
        if reasoning or calls:
            updated["content"] = rest if rest.strip() or not calls else None
            changed = True
    if not changed:
        return choice
    result = {**choice, "message": updated}
    if calls:
        result["finish_reason"] = "tool_calls"
    return result


def postprocess_openai_answer(answer: Chunk, *, tools: Any = None) -> Chunk:
    """A `chat.completion` with think blocks and printed tool calls taken out of content."""
    choices = answer.get("choices")
    if not isinstance(choices, list):
        return answer
    processed = [_openai_choice(choice, tools) for choice in choices]
    if all(new is old for new, old in zip(processed, choices, strict=True)):
        return answer
    return {**answer, "choices": processed}


def postprocess_ollama_answer(answer: Chunk, *, tools: Any = None) -> Chunk:
    """An `/api/chat` answer with think blocks and printed tool calls taken out of content."""
    message = answer.get("message")
    if not isinstance(message, Mapping):
        return answer
    content = message.get("content")
    if not isinstance(content, str) or "<" not in content:
        return answer
    reasoning, rest, calls = _split(content, tools)
    if not reasoning and not calls:
        return answer
    updated = dict(message)
    updated["content"] = rest if rest.strip() or not calls else ""
    if reasoning:
        updated["thinking"] = _joined(updated.get("thinking"), reasoning)
    if calls:
        existing = items(updated.get("tool_calls"))
        updated["tool_calls"] = [*existing, *_ollama_calls(calls, first_index=len(existing))]
    return {**answer, "message": updated}


# -- streams ----------------------------------------------------------------------------


class _Content:
    """Think splitting, then tool-call filtering, of one choice's content deltas."""

    __slots__ = ("think", "calls", "next_index", "emitted", "finished")

    def __init__(self, tools: Any) -> None:
        self.think = ThinkSplitter()
        self.calls = TextToolCallFilter(tools)
        self.next_index = 0  # OpenAI tool-call index for the next call (after upstream's own)
        self.emitted = 0
        self.finished = False

    @property
    def quiet(self) -> bool:
        return self.finished or (self.think.quiet and self.calls.quiet)

    def feed(self, content: str) -> tuple[str, str, ToolCalls]:
        reasoning, rest = self.think.feed(content)
        rest, calls = self.calls.feed(rest) if rest else ("", [])
        return reasoning, rest, calls

    def finish(self) -> tuple[str, str, ToolCalls]:
        self.finished = True
        reasoning, rest = self.think.finish()
        rest, calls = self.calls.feed(rest) if rest else ("", [])
        tail, more = self.calls.finish()
        return reasoning, rest + tail, calls + more

    def note_native(self, tool_calls: Any) -> None:
        for call in items(tool_calls):
            index = integer(call.get("index")) if isinstance(call, Mapping) else None
            if index is not None and index >= self.next_index:
                self.next_index = index + 1

    def numbered(self, calls: ToolCalls) -> ToolCalls:
        out = [{"index": self.next_index + offset, **call} for offset, call in enumerate(calls)]
        self.next_index += len(calls)
        self.emitted += len(calls)
        return out


def _says_nothing(chunk: Chunk) -> bool:
    if chunk.get("usage"):
        return False
    for choice in items(chunk.get("choices")):
        if not isinstance(choice, Mapping) or choice.get("finish_reason") is not None:
            return False
        delta = choice.get("delta")
        if not isinstance(delta, Mapping) or any(value not in (None, "", []) for value in delta.values()):
            return False
    return True


class OpenAIStreamPostprocess(WrappingTransform):
    """Post-processes the `chat.completion.chunk`s an OpenAI-side stream transform emits."""

    __slots__ = ("_tools", "_choices", "_last")

    def __init__(self, inner: StreamTransform, *, tools: Any = None) -> None:
        super().__init__(inner)
        self._tools = tools
        self._choices: dict[int, _Content] = {}
        self._last: Chunk | None = None

    def feed(self, chunk: Chunk) -> list[Chunk]:
        chunks = self._inner.feed(chunk)
        if len(chunks) == 1:  # the usual case: no list to build
            return chunks if self._keeps(chunks[0]) else []
        return self._process(chunks)

    def finish(self) -> list[Chunk]:
        out = self._process(self._inner.finish())
        if self._last is not None:
            out.extend(self._flush(self._last))
        return out

    def whole(self, raw: bytes) -> tuple[bytes, list[Chunk]] | None:
        """The inner transform's `whole` (a whole answer in hand, worked on its bytes) for
        an answer that post-processing would leave as it is, else None (go chunk by chunk).

        With no `<` anywhere (written as is or escaped, as Go's JSON writes it) no think
        block or printed tool call can start, and with no `reasoning` field nothing moves:
        the text passes unchanged. (Chunk by chunk, whitespace that opens the answer is held
        until the text shows no `<think>` follows; the client's text is the same.)"""
        whole = getattr(self._inner, "whole", None)
        if whole is None or self._choices or b"<" in raw or b'"reasoning' in raw:
            return None
        if b"\\" in raw and b"\\u003" in raw:
            return None
        return whole(raw)  # type: ignore[no-any-return]

    def _process(self, chunks: list[Chunk]) -> list[Chunk]:
        return [chunk for chunk in chunks if self._keeps(chunk)]

    def _keeps(self, chunk: Chunk) -> bool:
        """Post-process `chunk` in place; False when it is left with nothing to say."""
        choices = chunk.get("choices")
        if not choices or choices.__class__ is not list:
            return True
        changed = False
        for choice in choices:
            delta = choice.get("delta") if choice.__class__ is dict else None
            if delta.__class__ is dict:
                self._last = chunk
                changed = self._choice(choice, delta) or changed
        return not (changed and _says_nothing(chunk))

    def _choice(self, choice: dict[str, Any], delta: dict[str, Any]) -> bool:
        """Post-process one choice in place; True when it changed."""
        moved = "reasoning" in delta and _move_reasoning(delta)
        index = choice.get("index", 0)
        if index.__class__ is not int:
            index = 0
        state = self._choices.get(index)
        if state is None:
            state = self._choices[index] = _Content(self._tools)
        if delta.get("tool_calls"):
            state.note_native(delta["tool_calls"])
        content = delta.get("content")
        if content.__class__ is not str:
            content = None  # content parts, if an upstream ever sends them, are left alone
        finish_reason = choice.get("finish_reason")
        if finish_reason is None and (content is None or (state.quiet and "<" not in content)):
            if content and not state.finished:
                state.calls.note(content)
            return moved
        if state.finished:
            return moved
        reasoning, rest, calls = state.feed(content) if content else ("", "", [])
        if finish_reason is not None:
            more_reasoning, more_rest, more_calls = state.finish()
            reasoning, rest, calls = reasoning + more_reasoning, rest + more_rest, calls + more_calls
        if content is not None or rest:
            delta["content"] = rest
        if reasoning:
            delta["reasoning_content"] = text(delta.get("reasoning_content")) + reasoning
        if calls:
            delta["tool_calls"] = [*items(delta.get("tool_calls")), *state.numbered(calls)]
        if finish_reason is not None and state.emitted:
            choice["finish_reason"] = "tool_calls"
        return True

    def _flush(self, last: Chunk) -> list[Chunk]:
        """Held content of choices the upstream never finished."""
        out: list[Chunk] = []
        for index, state in self._choices.items():
            if state.finished:
                continue
            reasoning, rest, calls = state.finish()
            delta: dict[str, Any] = {}
            if rest:
                delta["content"] = rest
            if reasoning:
                delta["reasoning_content"] = reasoning
            if calls:
                delta["tool_calls"] = state.numbered(calls)
            if delta:
                choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": None}
                if calls:
                    choice["finish_reason"] = "tool_calls"
                envelope: Chunk = {
                    key: last[key] for key in ("id", "object", "created", "model") if key in last
                }
                envelope["choices"] = [choice]
                out.append(envelope)
        return out


class OllamaStreamPostprocess(WrappingTransform):
    """Post-processes the `/api/chat` stream objects an Ollama-side stream transform emits."""

    __slots__ = ("_state", "_calls", "_native", "_last", "_done")

    def __init__(self, inner: StreamTransform, *, tools: Any = None) -> None:
        super().__init__(inner)
        self._state = _Content(tools)
        self._calls: ToolCalls = []
        self._native = 0
        self._last: Chunk | None = None
        self._done = False

    def feed(self, chunk: Chunk) -> list[Chunk]:
        return self._process(self._inner.feed(chunk))

    def finish(self) -> list[Chunk]:
        out = self._process(self._inner.finish())
        if not self._done and self._last is not None:
            out.extend(self._closing(self._last, None))
        return out

    def _process(self, chunks: list[Chunk]) -> list[Chunk]:
        out: list[Chunk] = []
        for chunk in chunks:
            message = chunk.get("message")
            if message.__class__ is not dict or self._done:
                out.append(chunk)
                continue
            self._last = chunk
            if chunk.get("done") is True:
                out.extend(self._closing(chunk, message))
                continue
            self._native += len(items(message.get("tool_calls")))
            content = message.get("content")
            if content.__class__ is not str or not content or (self._state.quiet and "<" not in content):
                if content.__class__ is str and content:
                    self._state.calls.note(content)
                out.append(chunk)
                continue
            reasoning, rest, calls = self._state.feed(content)
            self._calls.extend(calls)
            message["content"] = rest
            if reasoning:
                message["thinking"] = text(message.get("thinking")) + reasoning
            if rest or message.get("thinking") or message.get("tool_calls") or message.get("images"):
                out.append(chunk)
        return out

    def _closing(self, last: Chunk, done_message: dict[str, Any] | None) -> list[Chunk]:
        """Held content, then the gathered calls, then the `done` chunk (when there is one)."""
        self._done = True
        content = text(done_message.get("content")) if done_message is not None else ""
        reasoning, rest, calls = self._state.feed(content) if content else ("", "", [])
        more_reasoning, more_rest, more_calls = self._state.finish()
        reasoning, rest = reasoning + more_reasoning, rest + more_rest
        self._calls.extend(calls + more_calls)
        out: list[Chunk] = []
        if reasoning or rest:
            message: dict[str, Any] = {"role": "assistant", "content": rest}
            if reasoning:
                message["thinking"] = reasoning
            out.append(self._piece(last, message))
        if self._calls:
            tool_calls = _ollama_calls(self._calls, first_index=self._native)
            out.append(self._piece(last, {"role": "assistant", "content": "", "tool_calls": tool_calls}))
        if done_message is not None:
            done_message["content"] = ""
            out.append(last)
        return out

    @staticmethod
    def _piece(last: Chunk, message: dict[str, Any]) -> Chunk:
        return {
            "model": last.get("model"),
            "created_at": last.get("created_at"),
            "message": message,
            "done": False,
        }
