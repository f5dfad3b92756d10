"""Tool calls that models print as text, turned into OpenAI tool calls.

    parse_text_tool_calls(text) -> (content, calls)        a whole answer
    TextToolCallFilter().feed(delta) -> (content, calls)   a stream of content deltas
                       .finish()     -> (content, calls)

Calls come out as `{"id": "call_<24 hex>", "type": "function", "function": {"name",
"arguments": "<JSON object text>"}}`, in the order they were printed; the formats are those
of `textcall_blocks`. Text around a block stays content, except the whitespace right after
a block. Not taken for blocks: text inside Markdown code fences (``` or ~~~), a marker
right after a backtick (inline code), a tag whose body does not start like the format's,
and blocks that are malformed or never closed (they stay text, the latter decided at
`finish()`).

Streaming holds back only what is undecided: a possible marker at the end of a delta, and
an open block until it closes. Both the whole-text and the streaming forms run the same
scanner, so a text gives the same result however it is split.
"""

import re
from typing import Any

from maestro_app.providers.openai import new_tool_call_id
from maestro_app.providers.textcall_blocks import (
    FORMAT_BY_HEAD,
    HEAD_PREFIXES,
    HEADS,
    LONGEST_HEAD,
    BlockFormat,
    Call,
)
from maestro_app.providers.textcall_values import CDATA_CLOSE, CDATA_OPEN, ToolCatalog, json_dumps

# An opening tag or the whitespace before a body longer than this is not a block.
_OPENING_LIMIT = 512
# Room kept at the end of an open block when looking for its end again.
_END_LOOKBACK = 64

ToolCalls = list[dict[str, Any]]


def openai_tool_call(call: Call) -> dict[str, Any]:
    name, arguments = call
    return {
        "id": new_tool_call_id(),
        "type": "function",
        "function": {"name": name, "arguments": json_dumps(arguments)},
    }


class _Fences:
    """Whether the text so far ends inside a Markdown fenced code block.

    A line of up to three spaces then three or more backticks (or tildes) opens a fence; a
    line of the same character, at least as many, and nothing else closes it. Lines are
    judged when complete; only the start of the current line is kept, and only while it
    could still be a fence line.
    """

    __slots__ = ("fence", "line")

    def __init__(self) -> None:
        self.fence = ""
        self.line: str | None = ""

    def advance(self, text: str) -> None:
        if self.line is None and "\n" not in text:
            return
        lines = text.split("\n")
        if len(lines) > 1:
            self._close(self._extend(self.line, lines[0]))
            for line in lines[1:-1]:
                self._close(self._extend("", line))
            self.line = ""
        self.line = self._extend(self.line, lines[-1])

    @staticmethod
    def _extend(start: str | None, text: str) -> str | None:
        if start is None:
            return None
        line = start + text
        body = line.lstrip(" ")
        if len(line) - len(body) > 3 or (body and body[0] not in "`~"):
            return None
        return line[:_OPENING_LIMIT]

    def _close(self, line: str | None) -> None:
        if line is None:
            return
        body = line.lstrip(" ")
        if not body:
            return
        run = len(body) - len(body.lstrip(body[0]))
        if run < 3:
            return
        rest = body[run:]
        if not self.fence:
            if body[0] == "~" or "`" not in rest:
                self.fence = body[:run]
        elif body[0] == self.fence[0] and run >= len(self.fence) and not rest.strip():
            self.fence = ""


class TextToolCallFilter:
    """Stateful filter over the content deltas of one answer (see the module docstring).

    `tools` is the request's `tools` list (either dialect), used to type parameter values
    and to name MCP calls; it is read only when a block is found. An open block is kept as
    a list of pieces and searched for its end through a short window carried from delta to
    delta, so a long block costs linear time however finely it is split.
    """

    __slots__ = (
        "_tools",
        "_catalog",
        "_held",
        "_format",
        "_opening",
        "_open_tag",
        "_body_at",
        "_pieces",
        "_window",
        "_window_at",
        "_in_cdata",
        "_fences",
        "_last",
        "_strip",
    )

    def __init__(self, tools: Any = None) -> None:
        self._tools = tools
        self._catalog: ToolCatalog | None = None
        self._held = ""  # text mode: a possible marker, undecided
        self._format: BlockFormat | None = None  # set while a block is open
        self._opening = ""  # the block while its opening is undecided (short)
        self._open_tag: re.Match[str] | None = None
        self._body_at = -1  # where the body starts, once the opening is accepted
        self._pieces: list[str] = []  # the block once accepted
        self._window = ""  # end of the block not yet ruled out as holding the end marker
        self._window_at = 0  # offset of `_window` in the block
        self._in_cdata = False
        self._fences = _Fences()
        self._last = ""  # last character let through as text
        self._strip = False  # drop the whitespace that follows a block

    @property
    def pending(self) -> bool:
        """True while text is held back (a possible marker or an open block)."""
        return bool(self._held) or self._format is not None

    @property
    def quiet(self) -> bool:
        """True when a delta without `<` would pass through unchanged."""
        return not self._held and self._format is None and not self._strip

    def note(self, delta: str) -> None:
        """Account for a delta passed on unchanged (only valid while `quiet` and the delta
        has no `<`)."""
        if delta:
            self._fences.advance(delta)
            self._last = delta[-1]

    def feed(self, delta: str) -> tuple[str, ToolCalls]:
        if self._format is None and not self._held and "<" not in delta:
            return self._text(delta), []
        return self._run(delta, final=False)

    def finish(self) -> tuple[str, ToolCalls]:
        """Everything still held: an open block or a partial marker is text now."""
        return self._run("", final=True)

    # -- text -------------------------------------------------------------------------

    def _run(self, delta: str, *, final: bool) -> tuple[str, ToolCalls]:
        out: list[str] = []
        calls: ToolCalls = []
        fresh = ""
        if self._format is None:
            buffer, self._held = self._held + delta, ""
        else:
            buffer, fresh = "", delta
        while True:
            if self._format is not None:
                rest = self._step_block(fresh, final, out, calls)
                fresh = ""
                if rest is None:
                    break
                buffer = rest
            if not self._scan_text(buffer, final, out):
                break
        return "".join(out), calls

    def _text(self, piece: str) -> str:
        if not piece:
            return piece
        self._fences.advance(piece)
        self._last = piece[-1]
        if self._strip:
            piece = piece.lstrip()
            self._strip = not piece
        return piece

    def _scan_text(self, buffer: str, final: bool, out: list[str]) -> bool:
        """Let text through up to the next block; True when a block opens."""
        position = 0
        while True:
            at = buffer.find("<", position)
            if at < 0:
                out.append(self._text(buffer[position:]))
                return False
            out.append(self._text(buffer[position:at]))
            if not self._fences.fence and self._last != "`":
                head = HEADS.match(buffer, at)
                if head is not None:
                    self._format = FORMAT_BY_HEAD[head.group()]
                    self._opening = buffer[at:]
                    self._body_at = -1
                    return True
                if not final and len(buffer) - at < LONGEST_HEAD and buffer[at:] in HEAD_PREFIXES:
                    self._held = buffer[at:]
                    return False
            out.append(self._text("<"))
            position = at + 1

    # -- blocks -----------------------------------------------------------------------

    def _step_block(self, fresh: str, final: bool, out: list[str], calls: ToolCalls) -> str | None:
        """Advance the open block by `fresh`; the text after the block once it is decided
        (closed, or not a block after all), else None."""
        fmt = self._format
        assert fmt is not None
        if self._body_at < 0:
            self._opening += fresh
            accepted = self._accept_opening(fmt)
            if accepted is False or (accepted is None and final):
                # Not a block after all: its `<` is text, and the rest is scanned again.
                rest, self._opening, self._format = self._opening[1:], "", None
                out.append(self._text("<"))
                return rest
            if accepted is None:
                return None
            self._pieces, self._opening = [self._opening], ""
            self._window, self._window_at, self._in_cdata = "", self._body_at, False
            fresh = self._pieces[0][self._body_at :]
        else:
            self._pieces.append(fresh)
        end = self._find_end(fmt, fresh)
        if end is None and not final:
            return None
        block = "".join(self._pieces)
        self._pieces, self._window, self._format = [], "", None
        if end is None:
            out.append(self._text(block))
            return ""
        start, stop = end
        if self._catalog is None:
            self._catalog = ToolCatalog(self._tools)
        parsed = fmt.parse(self._open_tag, block[self._body_at : start], self._catalog)
        if parsed is None:
            out.append(self._text(block[:stop]))
            return block[stop:]
        calls.extend(openai_tool_call(call) for call in parsed)
        self._fences.line = ""
        self._last = ">"
        self._strip = True
        return block[stop:]

    def _accept_opening(self, fmt: BlockFormat) -> bool | None:
        """True when the opening tag is well formed and the body starts like the format's;
        False when it cannot; None while undecided."""
        block = self._opening
        self._open_tag = None
        if fmt.open_tag is None:
            tag_end = len(next(head for head in fmt.heads if block.startswith(head)))
        else:
            closing = block.find(">", 0, _OPENING_LIMIT)
            if closing < 0:
                return False if len(block) > _OPENING_LIMIT else None
            self._open_tag = fmt.open_tag.match(block)
            if self._open_tag is None or self._open_tag.end() != closing + 1:
                return False
            tag_end = closing + 1
        if fmt.body_starts:
            first = block[tag_end : tag_end + _OPENING_LIMIT].lstrip()[:1]
            if not first:
                return False if len(block) - tag_end > _OPENING_LIMIT else None
            if first not in fmt.body_starts:
                return False
        self._body_at = tag_end
        return True

    def _find_end(self, fmt: BlockFormat, fresh: str) -> tuple[int, int] | None:
        """(start, stop) in the block of its closing marker, looking at the carried window
        and `fresh` only; XML formats skip CDATA sections."""
        window = self._window + fresh
        base = self._window_at
        position = 0
        while True:
            if self._in_cdata:
                closing = window.find(CDATA_CLOSE, position)
                if closing < 0:
                    keep = max(position, len(window) - len(CDATA_CLOSE) + 1)
                    self._window, self._window_at = window[keep:], base + keep
                    return None
                position = closing + len(CDATA_CLOSE)
                self._in_cdata = False
            match = fmt.end.search(window, position)
            if fmt.xml:
                cdata = window.find(CDATA_OPEN, position, match.start() if match else len(window))
                if cdata >= 0:
                    position = cdata + len(CDATA_OPEN)
                    self._in_cdata = True
                    continue
            if match is not None:
                return base + match.start(), base + match.end()
            keep = max(position, len(window) - _END_LOOKBACK)
            self._window, self._window_at = window[keep:], base + keep
            return None


def parse_text_tool_calls(text: str, *, tools: Any = None) -> tuple[str, ToolCalls]:
    """The content left once the printed tool calls are taken out, and those calls."""
    if "<" not in text:
        return text, []
    scanner = TextToolCallFilter(tools)
    content, calls = scanner.feed(text)
    rest, more = scanner.finish()
    return content + rest, calls + more
