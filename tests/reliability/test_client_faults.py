"""The REST client against a server that breaks off mid-answer: clear errors, never a hang.

tests/pipeline/test_client.py covers refused connections, a server that answers nothing in time,
non-JSON and unexpected bodies. What is left is the connection failing *during* an answer: the
server closes it before sending anything, or half-way through the body (fixed length or
chunked), or stalls after the headers. A raw socket server on 127.0.0.1 plays each part; it
serves one connection and every wait in it is bounded.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from fashion.clients import ServingClient, ServingConnectionError, ServingTimeoutError

#: Longest any scripted server waits for anything.
_SCRIPT_SECONDS = 5.0

_HALF_FIXED_LENGTH = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    b'{"model_version_status": ['
)
_HALF_CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b'40\r\n{"model_version_status": ['
)


@contextmanager
def _scripted_server(reply: bytes, *, then_stall: bool = False) -> Iterator[str]:
    """Serve one connection: read the request head, send ``reply``, stall or close at once.

    Yields:
        The base URL.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(_SCRIPT_SECONDS)
    release = threading.Event()

    def play() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(_SCRIPT_SECONDS)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                head += chunk
            connection.sendall(reply)
            if then_stall:
                release.wait(_SCRIPT_SECONDS)

    player = threading.Thread(target=play, name="scripted-server", daemon=True)
    player.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        release.set()
        player.join(_SCRIPT_SECONDS + 1)
        listener.close()


@pytest.mark.parametrize(
    "reply",
    [b"", _HALF_FIXED_LENGTH, _HALF_CHUNKED],
    ids=["before-the-status-line", "mid-fixed-length-body", "mid-chunked-body"],
)
def test_a_server_closing_the_connection_mid_answer_is_a_connection_error_saying_so(
    reply: bytes,
) -> None:
    with _scripted_server(reply) as url, ServingClient(url, "m", timeout=5.0) as client:
        started = time.monotonic()
        with pytest.raises(ServingConnectionError) as info:
            client.status()
        elapsed = time.monotonic() - started
    message = str(info.value)
    assert message.startswith(
        f"GET {url}/v1/models/m: connection lost before the whole answer arrived ("
    ), message
    assert info.value.status_code is None
    assert elapsed < 2.0  # noticed at the close, not at the timeout


def test_a_server_stalling_after_the_headers_is_a_timeout_not_a_connection_error() -> None:
    with (
        _scripted_server(_HALF_FIXED_LENGTH, then_stall=True) as url,
        ServingClient(url, "m", timeout=0.3) as client,
        pytest.raises(ServingTimeoutError) as info,
    ):
        client.status()
    assert str(info.value) == f"GET {url}/v1/models/m: no answer within 0.3 s"
