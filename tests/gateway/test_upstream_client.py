"""`UpstreamClient` over `gateway.http1`, against loopback servers that write their answers
byte for byte: body framings, keep-alive and its race, timeouts, broken answers, the
connection limit, cancellation and abort. (The gateway tests exercise it against the fake
upstream; these pin down what a real node may do that the fake one does not.)"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gzip
import ipaddress
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from maestro_app.gateway.upstream import (
    Timeouts,
    UpstreamClient,
    UpstreamConnectError,
    UpstreamReadError,
    UpstreamTimeoutError,
)

pytestmark = pytest.mark.asyncio

Handler = Callable[[int, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """A loopback server; `handler(n, reader, writer)` serves its n-th connection (from 0)."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.connections = 0
        self.requests: list[bytes] = []
        self.closed_by_peer = asyncio.Event()
        self.url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = self.connections
        self.connections += 1
        try:
            # The client going away, or the test ending, ends the handler: not an error here.
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
                await self.handler(n, reader, writer)
        finally:
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        """One request, head and body (Content-Length); b'' when the client closed."""
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        request = head + await reader.readexactly(length)
        self.requests.append(request)
        return request

    async def wait_for_eof(self, reader: asyncio.StreamReader) -> None:
        if await reader.read() == b"":
            self.closed_by_peer.set()


def answer(body: bytes, *, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def client(**timeouts: float) -> UpstreamClient:
    return UpstreamClient(timeouts=Timeouts(**timeouts))


async def test_request_bytes_and_kept_alive_reuse() -> None:
    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await server.read_request(reader)
            writer.write(answer(b'{"ok": %d}' % len(server.requests), extra=b"X-Twice: a\r\nx-twice: b\r\n"))

    async with Server(handler) as server:
        up = client()
        first = await up.send(
            "POST", server.url + "/api/chat?x=1", body=b'{"a":1}', headers={"Authorization": "Bearer k"}
        )
        assert first.status == 200
        assert first.headers.get("content-length") == "9" and first.headers["X-TWICE"] == "a, b"
        assert await first.read() == b'{"ok": 1}' and await first.read() == b'{"ok": 1}'
        second = await up.send("GET", server.url + "/api/tags")
        assert await second.read() == b'{"ok": 2}'
        await up.close()
    assert server.connections == 1  # kept alive
    host = server.url.removeprefix("http://").encode()
    assert server.requests[0] == (
        b'POST /api/chat?x=1 HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer k\r\nContent-Length: 7\r\n\r\n{"a":1}'
        % host
    )
    assert server.requests[1] == b"GET /api/tags HTTP/1.1\r\nHost: %s\r\n\r\n" % host


async def test_chunked_body_arrives_piece_by_piece() -> None:
    go_on = asyncio.Event()

    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(b"data: 1\n\n"))
        await go_on.wait()
        writer.write(chunk(b"data: 2\n\n") + b"0\r\n\r\n")
        await server.read_request(reader)  # the connection is reused after a complete body
        writer.write(answer(b"again"))

    async with Server(handler) as server:
        up = client()
        resp = await up.send("POST", server.url + "/v1/chat/completions", body=b"{}")
        pieces = resp.iter_chunks()
        assert await anext(pieces) == b"data: 1\n\n"  # before the node sent the rest
        assert not resp.drained
        go_on.set()
        assert await anext(pieces) == b"data: 2\n\n"
        for _ in range(200):  # the end of the body may come in a read of its own
            if resp.drained:
                break
            await asyncio.sleep(0.01)
        assert resp.drained  # complete and all of it taken: the relay sends the rest with the end
        assert [p async for p in pieces] == []
        assert not resp.drained  # given back to the pool: no longer this answer's connection
        assert await (await up.send("POST", server.url + "/x", body=b"{}")).read() == b"again"
        await up.close()
    assert server.connections == 1


async def test_body_until_close_and_gzip() -> None:
    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        if n == 0:
            writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
        else:
            body = gzip.compress(b'{"zipped": true}')
            writer.write(answer(body, extra=b"Content-Encoding: gzip\r\n"))
            await server.read_request(reader)

    async with Server(handler) as server:
        up = client()
        assert await (await up.send("GET", server.url + "/")).read() == b"until the end"
        assert await (await up.send("GET", server.url + "/")).read() == b'{"zipped": true}'
        await up.close()
    assert server.connections == 2  # the until-close body could not leave the connection open


async def test_keep_alive_race_is_retried_once_on_a_fresh_connection() -> None:
    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(answer(b"first" if n == 0 else b"fresh"))
        if n == 0:
            await server.read_request(reader)  # the second request, on the idle connection...
            return  # ... closed without an answer, as a node's idle timeout does

    async with Server(handler) as server:
        up = client()
        assert await (await up.send("POST", server.url + "/a", body=b"1")).read() == b"first"
        assert await (await up.send("POST", server.url + "/a", body=b"2")).read() == b"fresh"
        await up.close()
    assert server.connections == 2 and len(server.requests) == 3


async def test_a_reset_after_the_node_took_the_request_is_not_retried() -> None:
    """Only an orderly close is the keep-alive race: a reset on a reused connection is the
    node failing the request it read (the pipeline fails over; the node is not hit twice)."""

    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(answer(b"first"))
        await server.read_request(reader)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # RST

    async with Server(handler) as server:
        up = client()
        assert await (await up.send("POST", server.url + "/a", body=b"1")).read() == b"first"
        with pytest.raises(UpstreamConnectError, match="broken before the answer"):
            await up.send("POST", server.url + "/a", body=b"2")
        await up.close()
    assert server.connections == 1 and len(server.requests) == 2


async def test_a_fresh_connection_closed_before_the_answer_is_not_retried() -> None:
    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)

    async with Server(handler) as server:
        up = client()
        with pytest.raises(UpstreamConnectError, match="closed before the answer"):
            await up.send("POST", server.url + "/a", body=b"1")
        assert up.open_connections == 0
        await up.close()
    assert server.connections == 1


@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_an_answer_that_breaks_off_is_a_read_error(framing: str) -> None:
    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        if framing == "length":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(b"partial"))
        await writer.drain()

    async with Server(handler) as server:
        up = client()
        resp = await up.send("POST", server.url + "/a", body=b"{}")
        with pytest.raises(UpstreamReadError, match="broke off"):
            await resp.read()
        resp = await up.send("POST", server.url + "/a", body=b"{}")
        got = []
        with pytest.raises(UpstreamReadError, match="broke off"):
            async for piece in resp.iter_chunks():
                got.append(piece)
        assert b"".join(got) == b"partial"
        assert up.open_connections == 0
        await up.close()


async def test_silent_node_times_out_waiting_for_the_head_and_mid_body() -> None:
    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        if n == 1:
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(b"one"))
        await server.wait_for_eof(reader)

    async with Server(handler) as server:
        up = client()
        with pytest.raises(UpstreamTimeoutError):
            await up.send("POST", server.url + "/a", body=b"{}", read_timeout=0.2)
        resp = await up.send("POST", server.url + "/a", body=b"{}", read_timeout=0.2)
        pieces = resp.iter_chunks()
        assert await anext(pieces) == b"one"
        with pytest.raises(UpstreamTimeoutError):
            await anext(pieces)
        await asyncio.wait_for(server.closed_by_peer.wait(), 2)  # the node sees us go
        assert up.open_connections == 0
        await up.close()


async def test_a_slow_reader_is_not_a_silent_node() -> None:
    """Data waiting for our reader (reading paused) does not count as the node's silence."""
    big = b"x" * (1024 * 1024)

    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(answer(big))
        await writer.drain()
        await server.read_request(reader)
        writer.write(answer(b"next"))

    async with Server(handler) as server:
        up = client()
        resp = await up.send("GET", server.url + "/big", read_timeout=0.2)
        got = bytearray()
        async for piece in resp.iter_chunks():
            if not got:
                # Everything the node sent sits in our buffer and the socket's, for longer
                # than the read timeout: we are slow, the node is not silent.
                await asyncio.sleep(0.4)
            got += piece
        assert got == big
        assert await (await up.send("GET", server.url + "/next")).read() == b"next"
        await up.close()
    assert server.connections == 1


async def test_unreachable_node_and_malformed_answer_are_connect_errors() -> None:
    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(b"SPDY/9 what\r\n\r\n")

    async with Server(handler) as server:
        up = client()
        with pytest.raises(UpstreamConnectError, match="answered badly"):
            await up.send("POST", server.url + "/a", body=b"{}")
        url = server.url
    with pytest.raises(UpstreamConnectError, match="cannot reach"):
        await up.send("POST", url + "/a", body=b"{}")  # nothing listens there now
    with pytest.raises(UpstreamConnectError, match="cannot call"):
        await up.send("POST", "ftp://127.0.0.1/a", body=b"{}")
    with pytest.raises(UpstreamConnectError, match="cannot be sent"):
        await up.send("POST", url + "/a", body=b"{}", headers={"X-Evil": "a\r\nHost: elsewhere"})
    assert up.open_connections == 0
    await up.close()


async def test_closing_an_unfinished_answer_closes_its_connection() -> None:
    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(b"token"))
        await server.wait_for_eof(reader)

    async with Server(handler) as server:
        up = client()
        resp = await up.send("POST", server.url + "/a", body=b"{}")
        assert await anext(resp.iter_chunks()) == b"token"
        resp.close()
        await asyncio.wait_for(server.closed_by_peer.wait(), 2)
        assert up.open_connections == 0
        await up.close()


async def test_cancelled_while_waiting_for_the_head_closes_the_connection() -> None:
    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        await server.wait_for_eof(reader)

    async with Server(handler) as server:
        up = client()
        task = asyncio.create_task(up.send("POST", server.url + "/a", body=b"{}"))
        while not server.requests:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(server.closed_by_peer.wait(), 2)
        assert up.open_connections == 0
        await up.close()


async def test_connection_limit_queues_the_surplus() -> None:
    release = asyncio.Event()
    open_now = peak = 0

    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, peak
        open_now += 1
        peak = max(peak, open_now)
        try:
            while await server.read_request(reader):
                await release.wait()
                writer.write(answer(b"done"))
                await writer.drain()
        finally:
            open_now -= 1

    async with Server(handler) as server:
        up = UpstreamClient(timeouts=Timeouts(), max_connections=2)

        async def call() -> bytes:
            return await (await up.send("POST", server.url + "/a", body=b"{}")).read()

        tasks = [asyncio.create_task(call()) for _ in range(5)]
        while len(server.requests) < 2:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert len(server.requests) == 2 and up.open_connections == 2  # three wait for a slot
        release.set()
        assert await asyncio.gather(*tasks) == [b"done"] * 5
        assert peak == 2 and server.connections == 2
        await up.close()


async def test_abort_breaks_open_answers_and_refuses_new_calls() -> None:
    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(b"a"))
        await server.wait_for_eof(reader)

    async with Server(handler) as server:
        up = client()
        resp = await up.send("POST", server.url + "/a", body=b"{}")
        pieces = resp.iter_chunks()
        assert await anext(pieces) == b"a"
        reader = asyncio.create_task(anext(pieces))
        await asyncio.sleep(0.05)
        await up.abort("the gateway is stopping")
        with pytest.raises(UpstreamReadError, match="the gateway is stopping"):
            await reader
        with pytest.raises(UpstreamConnectError, match="the gateway is stopping"):
            await up.send("POST", server.url + "/a", body=b"{}")
        await asyncio.wait_for(server.closed_by_peer.wait(), 2)


async def test_a_connection_the_node_closed_while_idle_is_not_used() -> None:
    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(answer(b"n%d" % n))
        await writer.drain()
        # then close it at once, idle (the node's keep-alive timeout)

    async with Server(handler) as server:
        up = client()
        assert await (await up.send("GET", server.url + "/")).read() == b"n0"
        await asyncio.sleep(0.1)  # the close reaches us
        assert await (await up.send("GET", server.url + "/")).read() == b"n1"
        await up.close()
    assert len(server.requests) == 2  # not sent on the dead connection first


async def test_idle_connections_expire_after_the_keepalive_time() -> None:
    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await server.read_request(reader):
            writer.write(answer(b"ok"))

    async with Server(handler) as server:
        up = client(keepalive=0.1)
        await (await up.send("GET", server.url + "/")).read()
        await asyncio.sleep(0.2)
        await (await up.send("GET", server.url + "/")).read()
        assert up.open_connections == 1
        await up.close()
    assert server.connections == 2


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test node")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "node.pem", directory / "node.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


async def test_https_node_is_verified_and_kept_alive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert_file, key_file = self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_file, key_file)

    async def handler(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await server.read_request(reader):
            writer.write(answer(b"secure"))

    async with Server(handler, tls=tls) as server:
        untrusting = client()
        with pytest.raises(UpstreamConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await untrusting.send("GET", server.url + "/api/tags")
        await untrusting.close()
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # trusted as the system's CAs are
        up = client()
        for _ in range(2):
            assert await (await up.send("GET", server.url + "/api/tags")).read() == b"secure"
        await up.close()
    assert len(server.requests) == 2 and server.connections == 1  # kept alive (the refused handshake
    # never reached the handler)
