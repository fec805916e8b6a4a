"""Drive an ASGI application in-process, the way uvicorn calls the stand-in's ``RestApp``.

One request per call: the HTTP scope uvicorn builds (raw path and query string apart, header
names lower-cased), the body handed over in chunks, and the answer collected into the same
:class:`~tests.support.rest_probe.Reply` the conformance tests get over the network. No
dependency beyond the standard library.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any
from urllib.parse import unquote

from tests.support.rest_probe import Reply

__all__ = ["AsgiApp", "call_asgi"]

Message = MutableMapping[str, Any]
AsgiApp = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


def call_asgi(
    app: AsgiApp,
    method: str,
    target: str,
    body: bytes = b"",
    headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    *,
    chunk_size: int | None = None,
) -> Reply:
    """Send one HTTP request to ``app`` and return its answer.

    Args:
        app: the ASGI application.
        method: the request method.
        target: the request-target, e.g. ``/v1/models/m:predict?x=1`` (sent raw, as on the wire).
        body: the request body.
        headers: request headers; ``Content-Length`` is not added (a test adds it when the
            request should declare its size).
        chunk_size: hand the body over in chunks of this many bytes (default: one chunk).

    Returns:
        The status, the headers in the order sent, and the body.

    Raises:
        AssertionError: the app broke the ASGI protocol (no start, or a body before the start).
    """
    return asyncio.run(_call(app, method, target, body, headers, chunk_size))


async def _call(
    app: AsgiApp,
    method: str,
    target: str,
    body: bytes,
    headers: Mapping[str, str] | Sequence[tuple[str, str]],
    chunk_size: int | None,
) -> Reply:
    raw_path, _, query = target.partition("?")
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    scope: Message = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode("latin-1"),
        "query_string": query.encode("latin-1"),
        "root_path": "",
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8501),
    }
    size = chunk_size or max(len(body), 1)
    chunks = [body[start : start + size] for start in range(0, len(body), size)] or [b""]
    incoming: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent, "the app sent nothing"
    start, *rest = sent
    assert start["type"] == "http.response.start", sent
    assert all(message["type"] == "http.response.body" for message in rest), sent
    return Reply(
        start["status"],
        tuple(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in start["headers"]
        ),
        b"".join(message.get("body", b"") for message in rest),
    )
