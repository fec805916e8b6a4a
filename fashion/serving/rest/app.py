"""The HTTP face of the stand-in: an ASGI application served by uvicorn.

It does what TF Serving's HTTP server and libevent do around the REST handlers: read the whole
body (gunzipping it if asked), route on the raw request-target, run the handler on the REST
worker pool, and write the answer with exactly the headers the real server sends. Errors from
anything below become ``{"error": ...}`` with their status; an unexpected exception becomes a
500 of the same shape and is logged, and the server keeps serving.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import Executor
from typing import Any

from fashion.serving.codec.json_writer import encode_error
from fashion.serving.logs import texts as log
from fashion.serving.monitoring.metrics import Metrics
from fashion.serving.rest.handlers import RestHandlers
from fashion.serving.rest.routes import CORS_HEADERS, Route, RouteKind, preflight_allowed, route
from fashion.serving.status import Code, ServingStatusError

__all__ = ["GZIP_LIMIT_BYTES", "RestApp"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: TF Serving's limit on a gunzipped request body (``gzip_zlib.h``, 100 MiB).
GZIP_LIMIT_BYTES = 100 * 1024 * 1024

_JSON = (b"content-type", b"application/json")
_TEXT = (b"content-type", b"text/plain")
_LIBEVENT_DEFAULT_TYPE = (b"content-type", b"text/html; charset=ISO-8859-1")
_VERB_KINDS = (RouteKind.PREDICT, RouteKind.CLASSIFY, RouteKind.REGRESS)
_CORS = tuple((name.lower().encode(), value.encode()) for name, value in CORS_HEADERS)


class _BodyTooLargeError(Exception):
    """Raised while reading a body that exceeds the stand-in's ``--rest_api_max_body_bytes``."""


def _gunzip(body: bytes) -> bytes:
    """The inflated body, or an empty one when it cannot be inflated within the limit.

    TF Serving's ``EvHTTPRequest::ReadRequestGzipBytes`` logs a failure and hands the handler
    no body at all: a POST then reads as ``JSON Parse error: The document is empty``.
    """
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(body, GZIP_LIMIT_BYTES + 1)
    except zlib.error:
        data = b""
    # Too large, or cut off (zlib returns what it has of a truncated stream without complaint).
    if len(data) > GZIP_LIMIT_BYTES or inflater.unconsumed_tail or not inflater.eof:
        log.net_log_failed_to_uncompress_gzip_body()
        return b""
    return data


class RestApp:
    """ASGI application for TF Serving's REST API.

    Args:
        handlers: the REST handlers (thin: decode, manager, encode).
        executor: the REST worker pool (``--rest_api_num_threads`` threads).
        enable_cors: ``--rest_api_enable_cors_support``.
        max_body_bytes: the stand-in's request-body limit; larger bodies get 413.
    """

    def __init__(
        self,
        handlers: RestHandlers,
        executor: Executor,
        metrics: Metrics,
        *,
        enable_cors: bool = False,
        max_body_bytes: int = 256 * 1024 * 1024,
        metrics_path: str | None = None,
    ) -> None:
        self._handlers = handlers
        self._executor = executor
        self._metrics = metrics
        self._cors = enable_cors
        self._max_body_bytes = max_body_bytes
        self._metrics_path = metrics_path
        self._dispatch: dict[RouteKind, Callable[[Route, bytes], bytes]] = {
            RouteKind.PREDICT: handlers.predict,
            RouteKind.CLASSIFY: handlers.classify,
            RouteKind.REGRESS: handlers.regress,
            RouteKind.STATUS: handlers.status,
            RouteKind.METADATA: handlers.metadata,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        query = scope.get("query_string") or b""
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        target = raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
        routed = route(scope["method"], target, metrics_path=self._metrics_path)
        try:
            body = await self._read_body(scope, receive)
        except _BodyTooLargeError:
            message = (
                f"Request body exceeds the stand-in's limit of {self._max_body_bytes} bytes "
                "(--rest_api_max_body_bytes)"
            )
            await self._send(send, 413, encode_error(message), [_JSON], close=True)
            return
        if routed.kind is RouteKind.HTML_ERROR:
            await self._send(
                send, routed.http_status, routed.html_body.encode(),
                [(b"content-type", b"text/html")], close=True,
            )  # fmt: skip
            return
        if routed.kind is RouteKind.PROMETHEUS:  # http_server.cc: ProcessPrometheusRequest
            if routed.error is not None:
                answer = (routed.http_status, routed.error.message.encode())
            else:
                answer = (200, self._metrics.page())
            await self._send(send, *answer, [_TEXT])
            return
        headers = [*(_CORS if self._cors else ())]
        if routed.kind is RouteKind.PREFLIGHT:
            origin = _header(scope, b"origin")
            status = 200 if preflight_allowed(origin) else 400
            await self._send(send, status, b"", [_LIBEVENT_DEFAULT_TYPE, *headers])
            return
        start = time.monotonic()
        status, payload, code = await self._answer(routed, body, scope)
        self._count(routed, code, time.monotonic() - start)
        await self._send(send, status, payload, [_JSON, *headers])

    def _count(self, routed: Route, code: str, seconds: float) -> None:
        """``http_server.cc``: every ``/v1`` request counted; successful ones timed, with the
        verb as ``API`` (empty for GETs)."""
        model_name = routed.model_name or ""
        self._metrics.count_request(model_name, code)
        if code == "OK":
            api = routed.kind.value if routed.kind in _VERB_KINDS else ""
            self._metrics.observe_request_latency(model_name, api, "REST", seconds)

    async def _answer(self, routed: Route, body: bytes, scope: Scope) -> tuple[int, bytes, str]:
        """The status, body and TF status code name of a ``/v1`` request."""
        if routed.kind is RouteKind.EMPTY_ERROR:
            code = routed.error.code.name if routed.error else "INVALID_ARGUMENT"
            return routed.http_status, b"", code
        if routed.kind is RouteKind.JSON_ERROR or routed.error is not None:
            error = routed.error or ServingStatusError(Code.UNKNOWN, "routing failed")
            return error.http_status, encode_error(error.message), error.code.name
        handler = self._dispatch[routed.kind]
        encoding = _header(scope, b"content-encoding") or ""
        loop = asyncio.get_running_loop()
        try:
            # evhttp_request.cc: only a non-empty body, and "gzip" matched case-sensitively.
            if body and "gzip" in encoding:
                body = await loop.run_in_executor(self._executor, _gunzip, body)
            answer = await loop.run_in_executor(self._executor, handler, routed, body)
        except ServingStatusError as exc:
            return exc.http_status, encode_error(exc.message), exc.code.name
        except Exception as exc:  # the server must keep serving; the cause goes to the log
            log.unexpected_request_error(scope["method"], routed.path_and_query)
            message = f"Internal error in the stand-in: {type(exc).__name__}: {exc}"
            return 500, encode_error(message), Code.INTERNAL.name
        return 200, answer, "OK"

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        declared = _header(scope, b"content-length")
        if declared and declared.isdigit() and int(declared) > self._max_body_bytes:
            raise _BodyTooLargeError
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body_bytes:
                raise _BodyTooLargeError
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    @staticmethod
    async def _send(
        send: Send,
        status: int,
        body: bytes,
        headers: list[tuple[bytes, bytes]],
        *,
        close: bool = False,
    ) -> None:
        all_headers = [*headers, (b"content-length", str(len(body)).encode())]
        if close:
            all_headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": all_headers})
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None
