"""The REST client against a scripted HTTP server: parsing, URLs and every kind of failure.

``client`` (``conftest.py`` of this folder) asks for model ``fashion model``: its space shows
the quoting of URLs.
"""

from __future__ import annotations

import json
import socket
import threading

import numpy as np
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from fashion.clients import (
    ServingClient,
    ServingConnectionError,
    ServingError,
    ServingHTTPError,
    ServingProtocolError,
    ServingTimeoutError,
    VersionStatus,
)


def _status_body(*entries: tuple[str, str, str, str]) -> dict:
    return {
        "model_version_status": [
            {"version": v, "state": s, "status": {"error_code": c, "error_message": m}}
            for v, s, c, m in entries
        ]
    }


def test_predict_posts_row_format_and_returns_float32_array(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request(
        "/v1/models/fashion model:predict",
        method="POST",
        json={"instances": [[0.5], [0.25]]},
    ).respond_with_json({"predictions": [[0.1, 0.9], [0.7, 0.3]]})
    result = client.predict(np.array([[0.5], [0.25]], np.float32))
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, np.array([[0.1, 0.9], [0.7, 0.3]], np.float32))


def test_predict_routes_to_version_or_label_and_sends_signature_name(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request(
        "/v1/models/fashion model/versions/2:predict",
        json={"signature_name": "serving_default", "instances": [1.0]},
    ).respond_with_json({"predictions": [2.0]})
    raw_uris: list[str] = []

    def record(request: Request) -> Response:
        raw_uris.append(request.environ["REQUEST_URI"])
        return Response(json.dumps({"predictions": [3.0]}), content_type="application/json")

    httpserver.expect_oneshot_request(
        "/v1/models/fashion model/labels/can/ary:predict", json={"instances": [1.0]}
    ).respond_with_handler(record)
    assert client.predict([1.0], version=2, signature_name="serving_default").tolist() == [2.0]
    assert client.predict([1.0], label="can/ary").tolist() == [3.0]
    assert raw_uris == ["/v1/models/fashion%20model/labels/can%2Fary:predict"]
    httpserver.check_assertions()


def test_version_and_label_together_are_refused(client: ServingClient) -> None:
    with pytest.raises(ValueError, match="a version or a label, not both"):
        client.model_url(version=1, label="stable")


def test_columnar_predict_returns_outputs_and_named_outputs(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request(
        "/v1/models/fashion model:predict", json={"inputs": [1.0]}
    ).respond_with_json({"outputs": [2.5]})
    httpserver.expect_oneshot_request(
        "/v1/models/fashion model:predict", json={"inputs": [2.0]}
    ).respond_with_json({"outputs": {"a": [1.0], "b": ["x"]}})
    assert client.predict([1.0], columnar=True).tolist() == [2.5]
    named = client.predict([2.0], columnar=True)
    assert named["a"].tolist() == [1.0]
    assert named["b"].tolist() == ["x"]


def test_row_predict_with_several_outputs_returns_a_dict(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request("/v1/models/fashion model:predict").respond_with_json(
        {"predictions": [{"p": [0.5, 0.5], "c": 1}, {"p": [0.2, 0.8], "c": 1}]}
    )
    result = client.predict([[0.0], [1.0]])
    assert result["p"].shape == (2, 2)
    assert result["c"].tolist() == [1, 1]


def test_non_finite_tokens_in_answers_are_understood(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request("/v1/models/fashion model:predict").respond_with_data(
        '{\n    "predictions": [NaN, Infinity, -Infinity]\n}', content_type="application/json"
    )
    result = client.predict([1.0, 2.0, 3.0])
    assert np.isnan(result[0])
    assert result[1:].tolist() == [np.inf, -np.inf]


def test_http_error_carries_status_code_and_server_error_text(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    text = "Servable not found for request: Specific(fashion model, 3)"
    httpserver.expect_oneshot_request(
        "/v1/models/fashion model/versions/3:predict"
    ).respond_with_json({"error": text}, status=404)
    with pytest.raises(ServingHTTPError) as info:
        client.predict([1.0], version=3)
    assert info.value.status_code == 404
    assert info.value.error == text
    assert str(info.value).endswith(f"answered 404: {text}")
    assert isinstance(info.value, ServingError)


def test_http_error_without_json_keeps_the_status_and_body_snippet(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request("/v1/models/fashion model").respond_with_data(
        "<HTML>Not Found</HTML>", status=404, content_type="text/html"
    )
    with pytest.raises(ServingHTTPError) as info:
        client.status()
    assert info.value.status_code == 404
    assert info.value.error is None
    assert "<HTML>Not Found</HTML>" in str(info.value)


def test_non_json_success_body_is_a_protocol_error(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request("/v1/models/fashion model").respond_with_data(
        "OK", status=200
    )
    with pytest.raises(
        ServingProtocolError, match="answered 200 with a body that is not JSON: 'OK'"
    ):
        client.status()


def test_unexpected_json_shape_is_a_protocol_error(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request("/v1/models/fashion model:predict").respond_with_json(
        {"outputs": []}
    )
    with pytest.raises(ServingProtocolError, match="predict answer has no 'predictions' key"):
        client.predict([1.0])


def test_refused_connection_is_a_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        ServingClient(f"http://127.0.0.1:{port}", "m", timeout=2.0) as client,
        pytest.raises(ServingConnectionError) as info,
    ):
        client.status()
    # The operating system's reason, not urllib3's nested reprs.
    assert str(info.value).endswith(": cannot connect (Connection refused)")


def test_an_error_answer_with_an_empty_body_says_so(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request("/v1/models/fashion model").respond_with_data("", status=404)
    with pytest.raises(ServingHTTPError) as info:
        client.status()
    assert str(info.value).endswith("answered 404: (empty body; NOT FOUND)")


@pytest.mark.parametrize(
    "url",
    ["notaurl", "127.0.0.1:8501", "ftp://h:21", "http://", "http://h:99999", "http://h:x",
     "http://h:8501?q=1"],
)  # fmt: skip
def test_a_url_that_is_not_a_server_is_refused_at_construction(url: str) -> None:
    with pytest.raises(ValueError, match="not a server URL"):
        ServingClient(url, "m")


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "5", True])
def test_a_timeout_that_is_not_positive_seconds_is_refused_at_construction(timeout) -> None:
    with pytest.raises(ValueError, match="the timeout must be"):
        ServingClient("http://127.0.0.1:8501", "m", timeout=timeout)


def test_urls_with_a_path_prefix_or_https_are_accepted() -> None:
    for url in ("https://models.example:443", "http://[::1]:8501/", "http://h/serving/"):
        ServingClient(url, "m").close()


def test_server_that_does_not_answer_in_time_is_a_timeout(httpserver: HTTPServer) -> None:
    release = threading.Event()

    def stall(request: Request) -> Response:
        release.wait(5)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/v1/models/m").respond_with_handler(stall)
    with ServingClient(httpserver.url_for("/"), "m", timeout=0.3) as client:
        try:
            with pytest.raises(ServingTimeoutError, match=r"no answer within 0\.3 s"):
                client.status()
        finally:
            release.set()


def test_status_parses_versions_as_integers(client: ServingClient, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/v1/models/fashion model").respond_with_json(
        _status_body(("2", "AVAILABLE", "OK", ""), ("1", "END", "OK", ""))
    )
    assert client.status() == [
        VersionStatus(2, "AVAILABLE", "OK", ""),
        VersionStatus(1, "END", "OK", ""),
    ]


def test_metadata_is_fetched_from_the_metadata_route(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request(
        "/v1/models/fashion model/versions/1/metadata"
    ).respond_with_json({"model_spec": {"version": "1"}, "metadata": {}})
    assert client.metadata(version=1) == {"model_spec": {"version": "1"}, "metadata": {}}


def test_wait_until_available_polls_through_404_and_loading(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    answers = iter(
        [
            Response(
                json.dumps({"error": "Could not find any versions of model fashion model"}), 404
            ),
            Response(json.dumps(_status_body(("1", "LOADING", "OK", "")))),
            Response(json.dumps(_status_body(("1", "AVAILABLE", "OK", "")))),
        ]
    )
    httpserver.expect_request("/v1/models/fashion model").respond_with_handler(
        lambda _: next(answers)
    )
    assert client.wait_until_available(timeout=5, interval=0.01) == VersionStatus(
        1, "AVAILABLE", "OK", ""
    )


@pytest.mark.parametrize(
    ("entry", "waiting", "error", "match"),
    [
        pytest.param(
            ("2", "END", "NOT_FOUND", "Could not find SavedModel .pb"),
            {"timeout": 30},
            ServingError,
            "version 2 failed to load: NOT_FOUND: Could not find SavedModel",
            id="at-once-when-the-load-failed",
        ),
        pytest.param(
            ("2", "LOADING", "OK", ""),
            {"timeout": 0.3, "interval": 0.05},
            ServingTimeoutError,
            "version 2 to be AVAILABLE; last seen: 2:LOADING",
            id="at-the-timeout-saying-what-it-last-saw",
        ),
    ],
)
def test_wait_until_available_gives_up_saying_why(
    client: ServingClient,
    httpserver: HTTPServer,
    entry: tuple[str, str, str, str],
    waiting: dict[str, float],
    error: type[ServingError],
    match: str,
) -> None:
    httpserver.expect_request("/v1/models/fashion model/versions/2").respond_with_json(
        _status_body(entry)
    )
    with pytest.raises(error, match=match):
        client.wait_until_available(2, **waiting)


@pytest.mark.parametrize(
    "predictions",
    [5, {"a": [1.0]}, [[1.0, 2.0], [3.0]], [{"a": 1.0}, {"b": 2.0}], [{"a": 1.0}, 2.0]],
    ids=["number", "map", "ragged", "rows-name-different-outputs", "row-map-then-value"],
)
def test_a_predictions_value_that_is_not_rows_is_a_protocol_error(
    client: ServingClient, httpserver: HTTPServer, predictions: object
) -> None:
    httpserver.expect_oneshot_request("/v1/models/fashion model:predict").respond_with_json(
        {"predictions": predictions}
    )
    with pytest.raises(ServingProtocolError, match="'predictions' is not a tensor"):
        client.predict([1.0])


def test_a_ragged_columnar_output_is_a_protocol_error(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request("/v1/models/fashion model:predict").respond_with_json(
        {"outputs": {"y": [[1.0], [2.0, 3.0]]}}
    )
    with pytest.raises(ServingProtocolError, match="'outputs' is not a tensor"):
        client.predict([1.0], columnar=True)


def test_metadata_without_its_two_keys_is_a_protocol_error(
    client: ServingClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request("/v1/models/fashion model/metadata").respond_with_json([])
    with pytest.raises(ServingProtocolError, match="lacks 'model_spec' or 'metadata'"):
        client.metadata()


@pytest.mark.parametrize("version", [1.7, "2", True])
def test_a_version_that_is_not_an_integer_is_refused(client: ServingClient, version) -> None:
    with pytest.raises(ValueError, match="a version is an integer"):
        client.model_url(version=version)


def test_zero_and_negative_versions_go_to_the_server_as_they_are(client: ServingClient) -> None:
    assert client.model_url(version=0).endswith("/versions/0")
    assert client.model_url(version=-1).endswith("/versions/-1")
