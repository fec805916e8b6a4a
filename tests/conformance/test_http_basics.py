"""Transport, which handler answers, response headers, CORS and OPTIONS.

``model_servers/http_server.cc`` (``RestApiRequestDispatcher``), ``http_rest_api_util.cc``
(``AddHeaders``, ``AddCORSHeaders``), ``http_rest_api_handler.cc`` and, below them, libevent
(``util/net_http/server/internal/evhttp_server.cc``); ``http_rest_api_handler_test.cc`` asserts
the one header the handler sends.

The zoo runs without ``--rest_api_enable_cors_support``; the watching server runs with it.
"""

from __future__ import annotations

import gzip

import pytest

from tests.support.rest_probe import Reply, RestProbe
from tests.support.watched_server import WatchedServer

pytestmark = pytest.mark.server

HTML_404 = (
    b"<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n"
    b"<H1>Not Found</H1>\n</BODY></HTML>\n"
)
CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "POST, GET",
    "access-control-allow-headers": "Content-Type",
}
#: Headers libevent may add around the handler's one header (evhttp_server.cc).
TRANSPORT_HEADERS = {"content-length", "date"}


def _cors_headers(reply: Reply) -> dict[str, str]:
    return {
        key.lower(): value
        for key, value in reply.headers
        if key.lower().startswith("access-control-")
    }


def _assert_rest_headers(reply: Reply) -> None:
    assert reply.header_values("Content-Type") == ["application/json"], reply.headers
    assert reply.header_names() <= {"content-type", *TRANSPORT_HEADERS}, reply.headers
    assert reply.header("Content-Length") == str(len(reply.body))


@pytest.mark.parametrize(
    ("method", "target", "body", "status"),
    [
        ("POST", "/v1/models/half:predict", {"instances": [1.0]}, 200),
        ("GET", "/v1/models/half", None, 200),
        ("GET", "/v1/models/half/metadata", None, 200),
        ("POST", "/v1/models/nope:predict", {"instances": [1.0]}, 404),
        ("POST", "/v1/models/half:predict", "", 400),
        ("GET", "/v1/models", None, 400),
        ("PUT", "/v1/models/half", None, 400),
    ],
)
def test_rest_answers_carry_exactly_content_type_application_json(
    zoo: RestProbe, method: str, target: str, body: object, status: int
) -> None:
    reply = zoo.request(method, target, body)  # type: ignore[arg-type]
    assert reply.status == status, reply
    _assert_rest_headers(reply)


def test_head_on_a_v1_path_is_a_malformed_request_without_a_body(zoo: RestProbe) -> None:
    reply = zoo.request("HEAD", "/v1/models/half")
    assert (reply.status, reply.body) == (400, b"")
    assert reply.header_values("Content-Type") == ["application/json"]


def test_trace_is_refused_by_the_transport_with_501_html(zoo: RestProbe) -> None:
    reply = zoo.request("TRACE", "/v1/models/half")
    assert reply.status == 501
    assert (reply.header("Content-Type") or "").startswith("text/html")
    assert reply.body.startswith(b"<HTML>")
    assert b"501" in reply.body


@pytest.mark.parametrize(
    ("method", "target"),
    [("GET", "/"), ("GET", "/v1"), ("GET", "/v2/models/half"), ("POST", "/v2/models/x:predict")],
)
def test_paths_outside_v1_get_libevents_html_404_with_connection_close(
    zoo: RestProbe, method: str, target: str
) -> None:
    reply = zoo.request(method, target, {"instances": [1.0]} if method == "POST" else None)
    assert (reply.status, reply.body) == (404, HTML_404)
    assert reply.header_values("Content-Type") == ["text/html"]
    assert reply.header("Connection") == "close"


@pytest.mark.parametrize(
    "target",
    [
        "/v1/models/half%zz",
        "/v1/models/half%4",
        '/v1/models/"half"',
        "/v1/models/<half>",
        "/v1/models/{half}",
        "/v1/models/half|x",
        "/v1/models/half^x",
        "/v1/models/half`x",
        "/v1/models/half\\x",
        "/v1/models/[half]",
    ],
)
def test_request_targets_the_strict_uri_parser_rejects_get_an_html_400(
    zoo: RestProbe, target: str
) -> None:
    reply = zoo.get(target)
    assert (reply.status, reply.body) == (
        400,
        b"<HTML><HEAD>\n<TITLE>400 Bad Request</TITLE>\n</HEAD><BODY>\n"
        b"<H1>Bad Request</H1>\n</BODY></HTML>\n",
    )
    assert (reply.header("Content-Type") or "").startswith("text/html")


def test_the_v1_prefix_is_matched_case_insensitively(zoo: RestProbe) -> None:
    reply = zoo.get("/V1/models/half")
    assert reply.status == 200, reply
    _assert_rest_headers(reply)


def test_the_request_content_type_is_never_inspected(zoo: RestProbe) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "nonsense"):
        reply = zoo.request(
            "POST",
            "/v1/models/half:predict",
            {"instances": [1.0]},
            headers={"Content-Type": content_type},
        )
        assert (reply.status, reply.json()) == (200, {"predictions": [2.5]}), content_type


def test_a_gzip_content_encoding_body_is_decompressed(zoo: RestProbe) -> None:
    body = gzip.compress(b'{"instances": [1.0, 2.0]}')
    reply = zoo.request(
        "POST", "/v1/models/half:predict", body, headers={"Content-Encoding": "gzip"}
    )
    assert (reply.status, reply.json()) == (200, {"predictions": [2.5, 3.0]})


@pytest.mark.parametrize(
    "body",
    [gzip.compress(b'{"instances": [1.0, 2.0]}')[:-6], b"\x1f\x8b\x08\x00garbage", b"plain"],
    ids=["truncated", "header-then-garbage", "not-gzip"],
)
def test_a_gzip_body_that_does_not_inflate_reaches_the_handler_empty(
    zoo: RestProbe, body: bytes
) -> None:
    """``evhttp_request.cc``: ``ReadRequestGzipBytes`` logs the failure and returns no body."""
    reply = zoo.request(
        "POST", "/v1/models/half:predict", body, headers={"Content-Encoding": "gzip"}
    )
    assert (reply.status, reply.error) == (400, "JSON Parse error: The document is empty")


def test_a_gzip_body_inflating_past_100_mib_is_400_and_serving_goes_on(zoo: RestProbe) -> None:
    """TF Serving's gunzip stops at 100 MiB (``kMaxUncompressedBytes``): a small bomb is refused."""
    body = gzip.compress(b" " * (100 * 1024 * 1024 + 1), compresslevel=9)
    assert len(body) < 200_000
    reply = zoo.request(
        "POST", "/v1/models/half:predict", body, headers={"Content-Encoding": "gzip"}
    )
    assert (reply.status, reply.error) == (400, "JSON Parse error: The document is empty")
    reply = zoo.post("/v1/models/half:predict", {"instances": [1.0]})
    assert (reply.status, reply.json()) == (200, {"predictions": [2.5]})


_UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


def test_websocket_upgrade_headers_change_nothing_for_a_get(zoo: RestProbe) -> None:
    """libevent has no WebSocket support: the request is answered as if the headers were absent."""
    status = zoo.request("GET", "/v1/models/half", headers=_UPGRADE)
    assert status.status == 200
    assert status.json()["model_version_status"][0]["state"] == "AVAILABLE"


def test_a_post_with_upgrade_headers_is_refused_at_once_and_serving_goes_on(
    zoo: RestProbe,
) -> None:
    """A documented deviation: uvicorn's HTTP parser stops reading at an upgrade request's
    headers, so the body is lost and the answer is a 400 (the real server would predict). What
    matters is that it comes at once and the server keeps serving."""
    predict = zoo.request("POST", "/v1/models/half:predict", b'{"instances": [1.0]}', _UPGRADE)
    assert predict.status == 400
    assert zoo.predict("half", b'{"instances": [1.0]}').status == 200


def test_without_the_cors_flag_no_access_control_header_is_sent(zoo: RestProbe) -> None:
    replies = [
        zoo.get("/v1/models/half"),
        zoo.post("/v1/models/nope:predict", {"instances": [1.0]}),
        zoo.request("OPTIONS", "/v1/models/half", headers={"Origin": "http://example.com"}),
    ]
    for reply in replies:
        assert _cors_headers(reply) == {}, reply.headers


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        ("http://example.com", 200),
        ("https://example.com", 200),
        ("null; see https://example.com", 200),
        ("example.com", 400),
        (None, 400),
    ],
)
def test_options_preflight_needs_an_http_origin_whatever_the_cors_flag(
    zoo: RestProbe, origin: str | None, status: int
) -> None:
    headers = {"Origin": origin} if origin is not None else {}
    reply = zoo.request("OPTIONS", "/v1/models/anything/at/all", headers=headers)
    assert (reply.status, reply.body) == (status, b"")
    assert reply.header_values("Content-Type") == ["text/html; charset=ISO-8859-1"]


def test_with_the_cors_flag_every_rest_answer_carries_the_cors_headers(
    watching: WatchedServer,
) -> None:
    rest = watching.rest
    replies = [
        rest.get("/v1/models/kept"),
        rest.post("/v1/models/kept:predict", {"instances": [1.0]}),
        rest.post("/v1/models/nope:predict", {"instances": [1.0]}),
        rest.get("/v1/models"),
        rest.request("OPTIONS", "/v1/models/kept", headers={"Origin": "http://example.com"}),
        rest.request("OPTIONS", "/v1/models/kept"),
    ]
    assert [reply.status for reply in replies] == [200, 200, 404, 400, 200, 400]
    for reply in replies:
        assert _cors_headers(reply) == CORS, reply.headers
    for reply in replies[:4]:
        assert reply.header_values("Content-Type") == ["application/json"]


def test_with_the_cors_flag_html_404s_still_carry_no_cors_header(
    watching: WatchedServer,
) -> None:
    reply = watching.rest.get("/v2/models/kept")
    assert (reply.status, reply.body) == (404, HTML_404)
    assert _cors_headers(reply) == {}
