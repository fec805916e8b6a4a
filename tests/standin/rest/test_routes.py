"""Which handler gets a request: TF Serving's URL grammar and libevent's front door.

The grammar is ``model_servers/http_rest_api_util.cc``'s (``kPredictionApiGegex``,
``kModelStatusApiRegex``, ``ParseModelInfo``, ``DecodeArg``) with the cases of
``http_rest_api_util_test.cc`` and ``http_rest_api_handler_test.cc``; dispatch, CORS and OPTIONS
are ``http_server.cc``'s (``RestApiRequestDispatcher``) and ``http_rest_api_handler.cc``'s
(``ProcessRequest``); what never reaches the handler is refused by libevent
(``util/net_http/server/internal/evhttp_server.cc``, ``evhttp_request.cc``).
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from fashion.serving.rest.routes import (
    CORS_HEADERS,
    HTML_400_BAD_REQUEST,
    HTML_404_NOT_FOUND,
    HTML_501_NOT_IMPLEMENTED,
    Route,
    RouteKind,
    preflight_allowed,
    route,
    unescape,
)
from fashion.serving.status import Code


class Outcome(NamedTuple):
    """What a route means: the handler, the model, its version or label, the status and error."""

    kind: RouteKind
    model: str = ""
    version: int | None = None
    label: str | None = None
    http_status: int = 200
    error: str | None = None


def _outcome(result: Route) -> Outcome:
    return Outcome(
        result.kind,
        result.model_name,
        result.version,
        result.label,
        result.http_status,
        result.error.message if result.error is not None else None,
    )


def _predict(model: str, version: int | None = None, label: str | None = None) -> Outcome:
    return Outcome(RouteKind.PREDICT, model, version, label)


def _status(model: str, version: int | None = None) -> Outcome:
    return Outcome(RouteKind.STATUS, model, version)


def _metadata(model: str, version: int | None = None, label: str | None = None) -> Outcome:
    return Outcome(RouteKind.METADATA, model, version, label)


def _malformed(method: str, target: str) -> Outcome:
    return Outcome(
        RouteKind.JSON_ERROR, http_status=400, error=f"Malformed request: {method} {target}"
    )


def _malformed_row(method: str, target: str) -> tuple[str, str, Outcome]:
    """A row of :data:`_TABLE` for a request outside the grammar: its error names the request."""
    return method, target, _malformed(method, target)


_MISSING_MODEL = Outcome(
    RouteKind.JSON_ERROR, http_status=400, error="Missing model name in request."
)
_HTML_404 = Outcome(RouteKind.HTML_ERROR, http_status=404)

# Method, request-target and outcome, for a configured model m and an unknown x (the rows
# asserted by http_rest_api_handler_test.cc among them).
_TABLE: list[tuple[str, str, Outcome]] = [
    ("POST", "/v1/models/m:predict", _predict("m")),
    ("POST", "/v1/models/m/versions/1:predict", _predict("m", version=1)),
    ("POST", "/v1/models/m/labels/stable:predict", _predict("m", label="stable")),
    ("POST", "/v1/models/m:classify", Outcome(RouteKind.CLASSIFY, "m")),
    ("POST", "/v1/models/m:regress", Outcome(RouteKind.REGRESS, "m")),
    ("GET", "/v1/models/m", _status("m")),
    ("GET", "/v1/models/m/versions/1", _status("m", 1)),
    ("GET", "/v1/models/m/labels/stable", _status("m")),
    ("GET", "/v1/models/m/metadata", _metadata("m")),
    ("GET", "/v1/models/m/versions/1/metadata", _metadata("m", version=1)),
    ("GET", "/v1/models/m/labels/stable/metadata", _metadata("m", label="stable")),
    ("GET", "/v1/models", _MISSING_MODEL),
    _malformed_row("GET", "/v1/models/"),
    _malformed_row("GET", "/v1/models/m/"),
    _malformed_row("GET", "/v1/models/m:predict"),
    _malformed_row("GET", "/v1/models/debug/model_name"),
    _malformed_row("GET", "/v1/models/m/version/1"),
    _malformed_row("GET", "/v1/models/m/versions/abc"),
    _malformed_row("GET", "/v1/models/m/versions/-1"),
    _malformed_row("GET", "/v1/models/m/versions/"),
    _malformed_row("GET", "/v1/models/m/versions/1/labels/a"),
    _malformed_row("GET", "/v1/models/m/versions/1?x=1"),
    ("GET", "/v1/models/m?x=1", _status("m?x=1")),
    ("GET", "/v1/models/versions/1", _MISSING_MODEL),
    ("GET", "/v1/models/metadata", _status("metadata")),
    ("GET", "/v1/models/m/METADATA", _status("m")),
    ("GET", "/V1/MODELS/m", _status("m")),
    _malformed_row("GET", "/v1/foo"),
    _malformed_row("POST", "/v1/models"),
    _malformed_row("POST", "/v1/models/m"),
    _malformed_row("POST", "/v1/models/m/metadata"),
    _malformed_row("POST", "/v1/models/m:explain"),
    _malformed_row("POST", "/v1/models/m:Predict"),
    ("POST", "/V1/MODELS/m/VERSIONS/1:predict", _predict("m", version=1)),
    _malformed_row("POST", "/v1/models/m/version/50:regress"),
    _malformed_row("POST", "/v1/models/m/label/l:regress"),
    _malformed_row("POST", "/v1/models/m/versions/HELLO:regress"),
    _malformed_row("POST", "/v1/models/m/versions/50/labels/l:regress"),
    _malformed_row("POST", "/v1/models/m/versions/some_label:regress"),
    _malformed_row("POST", "/v1/models/m:predict?debug=1"),
    (
        "POST",
        "/v1/models/m/versions/99999999999999999999:predict",
        Outcome(
            RouteKind.EMPTY_ERROR,
            http_status=400,
            error="Failed to convert version: 99999999999999999999 to numeric.",
        ),
    ),
    # The 404 "Servable not found for request: Latest(x)" comes from the manager, not routing.
    ("POST", "/v1/models/x:predict", _predict("x")),
    _malformed_row("PUT", "/v1/models/m"),
    ("GET", "/v1", _HTML_404),
    ("GET", "/", _HTML_404),
    ("GET", "/v2/models/x", _HTML_404),
]


@pytest.mark.parametrize(
    ("method", "target", "expected"),
    _TABLE,
    ids=[f"{method} {target}" for method, target, _ in _TABLE],
)
def test_each_request_target_is_routed_as_tf_serving_routes_it(
    method: str, target: str, expected: Outcome
) -> None:
    assert _outcome(route(method, target)) == expected


def test_html_404_carries_libevents_not_found_page() -> None:
    result = route("GET", "/healthz")

    assert result.html_body == (
        "<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n<H1>Not Found</H1>\n"
        "</BODY></HTML>\n"
    )
    assert result.html_body == HTML_404_NOT_FOUND
    assert not result.is_rest_api


def test_html_pages_for_400_and_501_follow_the_same_pattern() -> None:
    assert HTML_400_BAD_REQUEST == (
        "<HTML><HEAD>\n<TITLE>400 Bad Request</TITLE>\n</HEAD><BODY>\n<H1>Bad Request</H1>\n"
        "</BODY></HTML>\n"
    )
    assert HTML_501_NOT_IMPLEMENTED == (
        "<HTML><HEAD>\n<TITLE>501 Not Implemented</TITLE>\n</HEAD><BODY>\n"
        "<H1>Not Implemented</H1>\n</BODY></HTML>\n"
    )


# --- methods (evhttp_server.cc, http_server.cc, http_rest_api_handler.cc) ---------------------


@pytest.mark.parametrize("method", ["TRACE", "CONNECT"])
def test_trace_and_connect_are_refused_with_501(method: str) -> None:
    result = route(method, "/v1/models/m")

    assert (result.kind, result.http_status, result.html_body) == (
        RouteKind.HTML_ERROR,
        501,
        HTML_501_NOT_IMPLEMENTED,
    )


@pytest.mark.parametrize("method", ["HEAD", "PUT", "DELETE", "PATCH"])
def test_other_methods_on_v1_paths_are_malformed_requests(method: str) -> None:
    assert _outcome(route(method, "/v1/models/m:predict")) == _malformed(
        method, "/v1/models/m:predict"
    )


@pytest.mark.parametrize("method", ["HEAD", "PUT", "DELETE", "PATCH", "POST"])
def test_other_methods_outside_v1_get_the_html_404(method: str) -> None:
    assert _outcome(route(method, "/index.html")) == _HTML_404


@pytest.mark.parametrize("target", ["/v1/models/m:predict", "/v1/anything/at/all", "/V1/x"])
def test_options_on_any_v1_path_is_a_cors_preflight(target: str) -> None:
    result = route("OPTIONS", target)

    assert result.kind is RouteKind.PREFLIGHT
    assert result.is_rest_api


def test_options_outside_v1_gets_the_html_404() -> None:
    assert _outcome(route("OPTIONS", "/")) == _HTML_404


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:3000", True),
        ("https://example.com", True),
        ("see http://x", True),
        ("null", False),
        ("example.com", False),
        ("", False),
        (None, False),
    ],
)
def test_preflight_needs_an_origin_containing_http_or_https(
    origin: str | None, allowed: bool
) -> None:
    assert preflight_allowed(origin) is allowed


def test_cors_headers_are_the_three_http_rest_api_util_adds() -> None:
    assert CORS_HEADERS == (
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", "POST, GET"),
        ("Access-Control-Allow-Headers", "Content-Type"),
    )


def test_rest_errors_are_rest_api_routes_with_code_invalid_argument() -> None:
    result = route("GET", "/v1/foo")

    assert result.is_rest_api
    assert result.error is not None
    assert result.error.code is Code.INVALID_ARGUMENT


# --- percent-decoding (http_rest_api_util.cc, DecodeArg) ---------------------------------------


def test_model_name_is_percent_decoded() -> None:
    assert route("GET", "/v1/models/my%20model").model_name == "my model"


def test_reserved_characters_can_be_used_in_names_when_encoded() -> None:
    target = "/v1/models/modelname%21%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D"

    assert route("GET", target).model_name == "modelname!#$%&'()*+,/:;=?@[]"


def test_plus_stays_plus() -> None:
    assert route("POST", "/v1/models/a+b:predict").model_name == "a+b"


def test_label_is_percent_decoded() -> None:
    result = route("POST", "/v1/models/m/labels/my%2Flabel:predict")

    assert (result.model_name, result.label) == ("m", "my/label")


def test_encoded_utf8_decodes_to_the_unicode_name() -> None:
    assert route("GET", "/v1/models/caf%C3%A9").model_name == "café"


def test_unescape_leaves_text_without_escapes_alone() -> None:
    assert unescape("a%2x%") == "a%2x%"


# --- versions -------------------------------------------------------------------------------


def test_leading_zeros_in_versions_are_allowed() -> None:
    assert route("GET", "/v1/models/m/versions/007").version == 7


def test_the_largest_int64_version_is_accepted_and_one_more_is_not() -> None:
    largest = route("POST", "/v1/models/m/versions/9223372036854775807:predict")
    too_big = route("GET", "/v1/models/m/versions/9223372036854775808")

    assert largest.version == 2**63 - 1
    assert _outcome(too_big) == Outcome(
        RouteKind.EMPTY_ERROR,
        http_status=400,
        error="Failed to convert version: 9223372036854775808 to numeric.",
    )


# --- the strict URI parser (evhttp_request.cc, ParsedEvRequest::decode) ----------------------


@pytest.mark.parametrize(
    "target",
    [
        "/v1/models/m%",
        "/v1/models/m%2",
        "/v1/models/m%zz",
        '/v1/models/"m"',
        "/v1/models/<m>",
        "/v1/models/[m]",
        "/v1/models/{m}",
        "/v1/models/m|n",
        "/v1/models/m^n",
        "/v1/models/m`n",
        "/v1/models/m\\n",
        "/v1/models/m n",
        "/v1/models/caf\u00e9",
        "/v1/models/m#a#b",
    ],
)
def test_targets_the_strict_uri_parser_rejects_get_the_html_400(target: str) -> None:
    result = route("GET", target)

    assert (result.kind, result.http_status, result.html_body) == (
        RouteKind.HTML_ERROR,
        400,
        HTML_400_BAD_REQUEST,
    )


def test_slash_colon_and_question_mark_pass_the_uri_parser_in_the_query() -> None:
    # They reach the REST handler, whose grammar then rejects "/" and ":" in the name segment.
    result = route("GET", "/v1/models/m?a=/b?c:d@e")

    assert _outcome(result) == _malformed("GET", "/v1/models/m?a=/b?c:d@e")


def test_a_fragment_is_part_of_the_matched_text() -> None:
    result = route("GET", "/v1/models/m#frag")

    assert (result.path_and_query, result.model_name) == ("/v1/models/m#frag", "m#frag")


def test_an_absolute_form_target_is_reduced_to_its_path() -> None:
    result = route("GET", "http://localhost:8501/v1/models/m")

    assert (result.path_and_query, _outcome(result)) == ("/v1/models/m", _status("m"))


# --- Prometheus (http_server.cc, ProcessPrometheusRequest) -------------------------------------

_METRICS = "/monitoring/prometheus/metrics"


def test_the_configured_metrics_path_goes_to_prometheus() -> None:
    result = route("GET", _METRICS, metrics_path=_METRICS)

    assert (result.kind, result.http_status, result.error) == (RouteKind.PROMETHEUS, 200, None)
    assert not result.is_rest_api


def test_the_metrics_path_with_a_query_is_a_plain_text_400() -> None:
    result = route("GET", f"{_METRICS}?x=1", metrics_path=_METRICS)

    assert _outcome(result) == Outcome(
        RouteKind.PROMETHEUS,
        http_status=400,
        error=f"Unexpected path: {_METRICS}?x=1. Should be {_METRICS}",
    )


def test_the_metrics_path_is_checked_before_the_rest_api() -> None:
    assert route("GET", "/v1/metrics", metrics_path="/v1/metrics").kind is RouteKind.PROMETHEUS


def test_without_prometheus_the_metrics_path_is_an_html_404() -> None:
    assert _outcome(route("GET", _METRICS)) == _HTML_404
