import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro_app.providers.sse import (
    SSE_DONE,
    NDJSONDecoder,
    SSEDecoder,
    ndjson_line,
    sse_data,
)


def _sse_whole(stream: bytes) -> list[str]:
    decoder = SSEDecoder()
    return decoder.feed(stream) + decoder.flush()


def _sse_bytewise(stream: bytes) -> list[str]:
    decoder = SSEDecoder()
    out: list[str] = []
    for position in range(len(stream)):
        out += decoder.feed(stream[position : position + 1])
    return out + decoder.flush()


def _sse_split_at(stream: bytes, cut: int) -> list[str]:
    decoder = SSEDecoder()
    return decoder.feed(stream[:cut]) + decoder.feed(stream[cut:]) + decoder.flush()


SSE_CASES = [
    pytest.param(b"data: a\n\ndata: b\n\n", ["a", "b"], id="lf"),
    pytest.param(b"data: a\r\n\r\ndata: b\r\n\r\n", ["a", "b"], id="crlf"),
    pytest.param(b"data: a\r\rdata: b\r\r", ["a", "b"], id="cr"),
    pytest.param(b"data: a\r\n\ndata: b\n\r\n", ["a", "b"], id="mixed-endings"),
    pytest.param(b"data: one\ndata: two\n\n", ["one\ntwo"], id="multi-line-data"),
    pytest.param(b"data:tight\n\n", ["tight"], id="no-space-after-colon"),
    pytest.param(b"data:  two spaces\n\n", [" two spaces"], id="only-one-space-stripped"),
    pytest.param(
        b": keep-alive\nevent: message\nid: 7\nretry: 10\ndata: x\n\n",
        ["x"],
        id="comments-and-other-fields",
    ),
    pytest.param(b"event: ping\n\n: comment\n\n", [], id="events-without-data"),
    pytest.param(b"data\n\n", [""], id="field-without-colon"),
    pytest.param(b"\n\n\ndata: a\n\n\n\n", ["a"], id="extra-blank-lines"),
    pytest.param(b"data: [DONE]\n\n", ["[DONE]"], id="done-marker"),
    pytest.param(b"\xef\xbb\xbfdata: bom\n\n", ["bom"], id="byte-order-mark"),
    pytest.param("data: héllo ✓ 日本\n\n".encode(), ["héllo ✓ 日本"], id="multibyte-utf8"),
    pytest.param(b'data: {"a": 1}\n\ndata: {"b"', ['{"a": 1}', '{"b"'], id="unterminated-at-end"),
    pytest.param(b"data: last\r", ["last"], id="trailing-cr-at-end"),
    pytest.param(b"", [], id="empty"),
]


@pytest.mark.parametrize(("stream", "expected"), SSE_CASES)
def test_sse_decoder_whole_and_bytewise(stream: bytes, expected: list[str]) -> None:
    assert _sse_whole(stream) == expected
    assert _sse_bytewise(stream) == expected


@pytest.mark.parametrize(("stream", "expected"), SSE_CASES)
def test_sse_decoder_split_at_every_position(stream: bytes, expected: list[str]) -> None:
    for cut in range(len(stream) + 1):
        assert _sse_split_at(stream, cut) == expected, cut


@pytest.mark.parametrize(("stream", "expected"), [c for c in SSE_CASES if c.id != "byte-order-mark"])
def test_sse_decoder_after_a_first_event(stream: bytes, expected: list[str]) -> None:
    """Reads after the first take the whole-events fast path when they can: same answers."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: first\n\n") == ["first"]
    assert decoder.feed(stream) + decoder.flush() == expected


def test_sse_decoder_returns_events_as_soon_as_they_complete() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\ndata: b") == ["a"]
    assert decoder.feed(b"\n\n") == ["b"]
    assert decoder.flush() == []


def test_sse_decoder_waits_on_a_cr_that_may_start_crlf() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n\r") == []
    assert decoder.feed(b"\n") == ["a"]


def test_sse_decoder_is_reusable_after_flush() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a") == []
    assert decoder.flush() == ["a"]
    assert decoder.feed(b"data: b\n\n") == ["b"]


def test_sse_round_trip_of_encoded_objects() -> None:
    objects = [{"id": 1, "text": "a\nb"}, {"emoji": "🙂"}, []]
    stream = b"".join(sse_data(obj) for obj in objects) + SSE_DONE
    payloads = _sse_bytewise(stream)
    assert payloads[-1] == "[DONE]"
    assert [orjson.loads(payload) for payload in payloads[:-1]] == objects


def test_sse_encoders() -> None:
    assert sse_data({"a": 1}) == b'data: {"a":1}\n\n'
    assert SSE_DONE == b"data: [DONE]\n\n"
    assert ndjson_line({"a": [1, "x"]}) == b'{"a":[1,"x"]}\n'


NDJSON_CASES = [
    pytest.param(b'{"a":1}\n{"b":2}\n', [b'{"a":1}', b'{"b":2}'], id="lf"),
    pytest.param(b'{"a":1}\r\n{"b":2}\r\n', [b'{"a":1}', b'{"b":2}'], id="crlf"),
    pytest.param(b'\n\n{"a":1}\n  \n\n', [b'{"a":1}'], id="blank-lines-skipped"),
    pytest.param(b'{"a":1}\n{"b":2}', [b'{"a":1}', b'{"b":2}'], id="unterminated-last-line"),
    pytest.param('{"t":"日本"}\n'.encode(), ['{"t":"日本"}'.encode()], id="multibyte"),
    pytest.param(b"", [], id="empty"),
]


@pytest.mark.parametrize(("stream", "expected"), NDJSON_CASES)
def test_ndjson_decoder_split_anywhere(stream: bytes, expected: list[bytes]) -> None:
    bytewise = NDJSONDecoder()
    out: list[bytes] = []
    for position in range(len(stream)):
        out += bytewise.feed(stream[position : position + 1])
    assert out + bytewise.flush() == expected
    for cut in range(len(stream) + 1):
        decoder = NDJSONDecoder()
        lines = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:]) + decoder.flush()
        assert lines == expected, cut


def test_ndjson_decoder_keeps_partial_line_until_newline() -> None:
    decoder = NDJSONDecoder()
    assert decoder.feed(b'{"a":') == []
    assert decoder.feed(b'1}\n{"b"') == [b'{"a":1}']
    assert decoder.flush() == [b'{"b"']
    assert decoder.flush() == []


def test_ndjson_round_trip_of_encoded_objects() -> None:
    objects = [{"message": {"content": "x\ny"}, "done": False}, {"done": True}]
    decoder = NDJSONDecoder()
    lines = decoder.feed(b"".join(ndjson_line(obj) for obj in objects))
    assert [orjson.loads(line) for line in lines] == objects


@settings(max_examples=300, deadline=None)
@given(
    stream=st.lists(
        st.sampled_from(
            [b"data: ", b"data:", b"event: x", b": c", b"\n", b"\r", b"\r\n", b"a", b"{}", b"\xc3\xa9"]
        ),
        max_size=30,
    ).map(b"".join),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=6),
)
def test_sse_decoding_does_not_depend_on_chunking(stream: bytes, cuts: list[int]) -> None:
    decoder = SSEDecoder()
    out: list[str] = []
    previous = 0
    for cut in sorted({min(cut, len(stream)) for cut in cuts}):
        out += decoder.feed(stream[previous:cut])
        previous = cut
    out += decoder.feed(stream[previous:]) + decoder.flush()
    assert out == _sse_whole(stream)
