"""`<think>…</think>` at the start of an answer's content, split out as reasoning.

    split_think(content) -> (reasoning, content)
    ThinkSplitter().feed(delta) -> (reasoning, content);  .finish() -> (reasoning, content)

Only a think block that opens the content (after optional whitespace) counts; a `<think>`
later in the text is text. Whitespace right after `<think>` and right after `</think>` is
dropped. A think block still open when the answer ends stays reasoning (the model was cut
off while thinking). Streaming holds back only the undecided start of the content and a
partial `</think>` at the end of a delta.
"""

from typing import Final

_OPEN: Final = "<think>"
_CLOSE: Final = "</think>"
_START, _INSIDE, _DONE = 0, 1, 2


def _partial_suffix(text: str, marker: str) -> int:
    """Length of the longest end of `text` that is a proper start of `marker`."""
    for length in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-length:]):
            return length
    return 0


class ThinkSplitter:
    __slots__ = ("_state", "_held", "_strip")

    def __init__(self) -> None:
        self._state = _START
        self._held = ""
        self._strip = False

    @property
    def quiet(self) -> bool:
        """True when content deltas pass through unchanged from now on."""
        return self._state == _DONE and not self._strip

    def feed(self, delta: str) -> tuple[str, str]:
        if self._state == _DONE and not self._strip:
            return "", delta
        return self._run(delta, final=False)

    def finish(self) -> tuple[str, str]:
        return self._run("", final=True)

    def _run(self, delta: str, *, final: bool) -> tuple[str, str]:
        buffer, self._held = self._held + delta, ""
        if self._state == _START:
            start = buffer.lstrip()
            if start.startswith(_OPEN):
                self._state = _INSIDE
                self._strip = True
                buffer = start[len(_OPEN) :]
            elif not final and _OPEN.startswith(start):
                self._held = buffer
                return "", ""
            else:
                self._state = _DONE
                return "", buffer
        if self._state == _DONE:
            return "", self._stripped(buffer)
        reasoning = self._stripped(buffer)
        at = reasoning.find(_CLOSE)
        if at >= 0:
            self._state = _DONE
            self._strip = True
            return reasoning[:at], self._stripped(reasoning[at + len(_CLOSE) :])
        if not final:
            keep = _partial_suffix(reasoning, _CLOSE)
            if keep:
                self._held, reasoning = reasoning[-keep:], reasoning[:-keep]
        return reasoning, ""

    def _stripped(self, text: str) -> str:
        if self._strip:
            text = text.lstrip()
            self._strip = not text
        return text


def split_think(content: str) -> tuple[str, str]:
    """(reasoning, content) of a whole answer's content."""
    if not content.lstrip().startswith(_OPEN):
        return "", content
    splitter = ThinkSplitter()
    reasoning, text = splitter.feed(content)
    more_reasoning, more_text = splitter.finish()
    return reasoning + more_reasoning, text + more_text
