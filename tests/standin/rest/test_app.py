"""The stand-in's ASGI app (``RestApp``), in-process, in front of a real model manager.

It does what TF Serving's HTTP server and libevent do around the handlers: reads the whole body
(gunzipped when ``Content-Encoding`` says gzip, ``util/net_http/compression/gzip_zlib.h``),
routes on the raw request-target, sends exactly one ``Content-Type`` with every REST answer
(``http_rest_api_util.cc``, ``AddHeaders``) and the CORS headers when enabled
(``AddCORSHeaders``), answers OPTIONS preflights (``http_server.cc``) and turns every failure
into ``{"error": ...}`` (``util/json_tensor.cc``, ``MakeJsonFromStatus``). The body-size limit
(413) is the stand-in's own option. Every test asserts the whole answer: status, headers in
order, body bytes.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from fashion.serving.models.manager import ModelManager
from fashion.serving.monitoring.metrics import Metrics
from fashion.serving.rest.app import RestApp
from fashion.serving.rest.handlers import RestHandlers
from fashion.serving.rest.routes import Route
from tests.support.asgi import call_asgi
from tests.support.manager_kit import Recorder
from tests.support.rest_probe import Reply, error_body

PREDICT_BODY = b'{"instances": [1.0, 2.0, 5.0]}'
PREDICTIONS = b'{\n    "predictions": [2.5, 3.0, 4.5\n    ]\n}'
CORS = (
    ("access-control-allow-origin", "*"),
    ("access-control-allow-methods", "POST, GET"),
    ("access-control-allow-headers", "Content-Type"),
)
#: What libevent adds to an answer whose handler set no Content-Type (the OPTIONS answers).
LIBEVENT_DEFAULT_TYPE = ("content-type", "text/html; charset=ISO-8859-1")


def _json_headers(body: bytes, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return (("content-type", "application/json"), *extra, ("content-length", str(len(body))))


@pytest.fixture(scope="module")
def executor() -> Iterator[ThreadPoolExecutor]:
    """The REST worker pool (``--rest_api_num_threads``)."""
    pool = ThreadPoolExecutor(2, thread_name_prefix="rest-test")
    try:
        yield pool
    finally:
        pool.shutdown(wait=True)


@pytest.fixture
def app(manager: ModelManager, executor: ThreadPoolExecutor) -> RestApp:
    """The app as the stand-in builds it with its default flags."""
    return RestApp(RestHandlers(manager, Metrics()), executor, Metrics())


def test_a_predict_answers_200_with_the_json_body_and_only_its_type_and_length(
    app: RestApp,
) -> None:
    reply = call_asgi(app, "POST", "/v1/models/half:predict", PREDICT_BODY)
    assert reply == Reply(200, _json_headers(PREDICTIONS), PREDICTIONS)


def test_an_unknown_model_is_404_with_the_error_body(app: RestApp) -> None:
    reply = call_asgi(app, "POST", "/v1/models/nope:predict", PREDICT_BODY)
    body = error_body("Servable not found for request: Latest(nope)")
    assert reply == Reply(404, _json_headers(body), body)


def test_a_body_that_is_not_json_is_400_with_the_parse_error(app: RestApp) -> None:
    reply = call_asgi(app, "POST", "/v1/models/half:predict", b"instances = [1, 2]")
    body = error_body("JSON Parse error: Invalid value. at offset: 0")
    assert reply == Reply(400, _json_headers(body), body)


def test_a_malformed_path_is_400_naming_method_and_path(app: RestApp) -> None:
    reply = call_asgi(app, "GET", "/v1/models/half/")
    body = error_body("Malformed request: GET /v1/models/half/")
    assert reply == Reply(400, _json_headers(body), body)


def test_a_version_too_large_for_int64_is_400_with_an_empty_body(app: RestApp) -> None:
    reply = call_asgi(app, "POST", "/v1/models/half/versions/99999999999999999999:predict")
    assert reply == Reply(400, _json_headers(b""), b"")


def test_a_path_outside_v1_is_libevents_html_404_and_closes_the_connection(app: RestApp) -> None:
    reply = call_asgi(app, "GET", "/healthz")
    page = (
        b"<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n"
        b"<H1>Not Found</H1>\n</BODY></HTML>\n"
    )
    headers = (
        ("content-type", "text/html"),
        ("content-length", str(len(page))),
        ("connection", "close"),
    )
    assert reply == Reply(404, headers, page)


# --- the body-size limit (the stand-in's --rest_api_max_body_bytes) -----------------------------


@pytest.fixture
def limited_app(manager: ModelManager, executor: ThreadPoolExecutor) -> RestApp:
    """The app with a body limit of exactly the predict body's size."""
    return RestApp(
        RestHandlers(manager, Metrics()), executor, Metrics(), max_body_bytes=len(PREDICT_BODY)
    )


@pytest.mark.parametrize(
    ("headers", "chunk_size"),
    [({"Content-Length": str(len(PREDICT_BODY) + 1)}, None), ({}, 8)],
    ids=["declared-length", "streamed-chunks"],
)
def test_a_body_over_the_limit_is_413_with_the_error_body_and_closes_the_connection(
    limited_app: RestApp, headers: dict[str, str], chunk_size: int | None
) -> None:
    reply = call_asgi(
        limited_app,
        "POST",
        "/v1/models/half:predict",
        PREDICT_BODY + b" ",
        headers,
        chunk_size=chunk_size,
    )
    body = error_body(
        f"Request body exceeds the stand-in's limit of {len(PREDICT_BODY)} bytes "
        "(--rest_api_max_body_bytes)"
    )
    assert reply == Reply(413, (*_json_headers(body), ("connection", "close")), body)


def test_a_body_of_exactly_the_limit_is_served(limited_app: RestApp) -> None:
    reply = call_asgi(limited_app, "POST", "/v1/models/half:predict", PREDICT_BODY, chunk_size=8)
    assert reply == Reply(200, _json_headers(PREDICTIONS), PREDICTIONS)


# --- gzip request bodies ------------------------------------------------------------------------


def test_a_gzip_body_is_inflated_before_the_handler_reads_it(app: RestApp) -> None:
    packed = gzip.compress(PREDICT_BODY)
    reply = call_asgi(app, "POST", "/v1/models/half:predict", packed, {"Content-Encoding": "gzip"})
    assert reply == Reply(200, _json_headers(PREDICTIONS), PREDICTIONS)


def test_a_truncated_gzip_body_is_dropped_as_evhttp_drops_it(app: RestApp) -> None:
    # evhttp_request.cc: a body that does not inflate reaches the handler empty.
    cut = gzip.compress(PREDICT_BODY)[:-8]  # without the CRC and size trailer
    reply = call_asgi(app, "POST", "/v1/models/half:predict", cut, {"Content-Encoding": "gzip"})
    body = error_body("JSON Parse error: The document is empty")
    assert reply == Reply(400, _json_headers(body), body)


def test_a_gzip_header_on_a_get_without_body_changes_nothing(app: RestApp) -> None:
    reply = call_asgi(app, "GET", "/v1/models/half", b"", {"Content-Encoding": "gzip"})
    assert reply.status == 200, reply


def test_gzip_is_matched_case_sensitively_as_evhttp_does(app: RestApp) -> None:
    packed = gzip.compress(PREDICT_BODY)
    reply = call_asgi(app, "POST", "/v1/models/half:predict", packed, {"Content-Encoding": "GZIP"})
    assert reply.status == 400, reply
    assert b"JSON Parse error: Invalid value. at offset: 0" in reply.body


# --- CORS and OPTIONS ---------------------------------------------------------------------------


@pytest.fixture
def cors_app(manager: ModelManager, executor: ThreadPoolExecutor) -> RestApp:
    """The app with ``--rest_api_enable_cors_support``."""
    return RestApp(RestHandlers(manager, Metrics()), executor, Metrics(), enable_cors=True)


def test_a_preflight_with_an_origin_is_200_empty_with_the_cors_headers(cors_app: RestApp) -> None:
    reply = call_asgi(cors_app, "OPTIONS", "/v1/models/half", headers={"Origin": "http://a.b"})
    headers = (LIBEVENT_DEFAULT_TYPE, *CORS, ("content-length", "0"))
    assert reply == Reply(200, headers, b"")


def test_a_preflight_without_an_origin_is_400_empty_with_the_cors_headers(
    cors_app: RestApp,
) -> None:
    reply = call_asgi(cors_app, "OPTIONS", "/v1/models/half")
    headers = (LIBEVENT_DEFAULT_TYPE, *CORS, ("content-length", "0"))
    assert reply == Reply(400, headers, b"")


def test_a_preflight_is_answered_without_cors_headers_when_cors_is_off(app: RestApp) -> None:
    reply = call_asgi(app, "OPTIONS", "/v1/models/half", headers={"Origin": "https://a.b"})
    assert reply == Reply(200, (LIBEVENT_DEFAULT_TYPE, ("content-length", "0")), b"")


def test_with_cors_on_answers_and_errors_carry_the_cors_headers(cors_app: RestApp) -> None:
    served = call_asgi(cors_app, "POST", "/v1/models/half:predict", PREDICT_BODY)
    failed = call_asgi(cors_app, "POST", "/v1/models/nope:predict", PREDICT_BODY)
    error = error_body("Servable not found for request: Latest(nope)")
    assert served == Reply(200, _json_headers(PREDICTIONS, *CORS), PREDICTIONS)
    assert failed == Reply(404, _json_headers(error, *CORS), error)


# --- what no handler planned for ----------------------------------------------------------------


class _FailingHandlers:
    """Handlers whose predict raises an exception the HTTP layer does not know."""

    def predict(self, route: Route, body: bytes) -> bytes:
        raise RuntimeError("the handler broke")

    classify = regress = status = metadata = predict


def test_an_unexpected_handler_exception_is_a_logged_500_with_the_error_body(
    executor: ThreadPoolExecutor,
) -> None:
    app = RestApp(_FailingHandlers(), executor, Metrics())  # type: ignore[arg-type]
    logger = logging.getLogger("fashion.serving")
    recorder = Recorder()
    logger.addHandler(recorder)
    try:
        reply = call_asgi(app, "POST", "/v1/models/half:predict", PREDICT_BODY)
    finally:
        logger.removeHandler(recorder)
    body = error_body("Internal error in the stand-in: RuntimeError: the handler broke")
    assert reply == Reply(500, _json_headers(body), body)
    assert recorder.messages == ["Unexpected error handling POST /v1/models/half:predict"]


def test_a_lifespan_scope_is_ignored(app: RestApp) -> None:
    """uvicorn runs the app with ``lifespan="off"``; any other scope type gets no answer."""
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent == []
