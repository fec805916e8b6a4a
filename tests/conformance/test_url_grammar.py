"""The URL grammar, path by path, and the percent-decoding of names and labels.

The grammar is ``model_servers/http_rest_api_util.cc``'s (``kPredictionApiGegex``,
``kModelStatusApiRegex``, ``ParseModelInfo``, ``DecodeArg``), with the cases of
``http_rest_api_util_test.cc`` and ``http_rest_api_handler_test.cc``.

Model ``half`` of the zoo plays the configured model: configured, AVAILABLE at version 1, label
``stable`` → 1, ``y = 0.5 x + 2``. ``x`` and ``nope`` are not configured.
"""

from __future__ import annotations

import pytest

from tests.support.rest_probe import RestProbe

pytestmark = pytest.mark.server

PREDICT_BODY = {"instances": [1.0]}
HALF_OF_ONE = {"predictions": [2.5]}


def _is_status_of_half(body: object) -> bool:
    return body == {
        "model_version_status": [
            {
                "version": "1",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


@pytest.mark.parametrize(
    "target",
    [
        "/v1/models/half:predict",
        "/v1/models/half/versions/1:predict",
        "/v1/models/half/labels/stable:predict",
        "/V1/MODELS/half/VERSIONS/1:predict",
        "/v1/models/half/versions/001:predict",
    ],
)
def test_predict_paths_reach_version_1(zoo: RestProbe, target: str) -> None:
    reply = zoo.post(target, PREDICT_BODY)
    assert (reply.status, reply.json()) == (200, HALF_OF_ONE)


@pytest.mark.parametrize(
    ("target", "body", "expected"),
    [
        (
            "/v1/models/parser:classify",
            {"examples": [{"x": 1.0}]},
            {"results": [[["neg", 1.0], ["pos", 2.0]]]},
        ),
        (
            "/v1/models/parser/versions/1:regress",
            {"signature_name": "regress_x", "examples": [{"x": 2.0}]},
            {"results": [3.0]},
        ),
    ],
)
def test_classify_and_regress_paths_reach_their_apis(
    zoo: RestProbe, target: str, body: dict[str, object], expected: dict[str, object]
) -> None:
    reply = zoo.post(target, body)
    assert (reply.status, reply.json()) == (200, expected)


@pytest.mark.parametrize(
    "target",
    [
        "/v1/models/half",
        "/v1/models/half/versions/1",
        "/v1/models/half/labels/stable",
        "/v1/models/half/METADATA",
        "/v1/models/half/Metadata",
        "/V1/MODELS/half",
    ],
)
def test_status_paths_answer_the_status_of_half(zoo: RestProbe, target: str) -> None:
    reply = zoo.get(target)
    assert reply.status == 200, reply
    assert _is_status_of_half(reply.json()), reply


@pytest.mark.parametrize(
    "target",
    [
        "/v1/models/half/metadata",
        "/v1/models/half/versions/1/metadata",
        "/v1/models/half/labels/stable/metadata",
    ],
)
def test_metadata_paths_answer_metadata_of_version_1(zoo: RestProbe, target: str) -> None:
    reply = zoo.get(target)
    assert reply.status == 200, reply
    assert reply.json()["model_spec"] == {"name": "half", "signature_name": "", "version": "1"}


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "/v1/models/"),
        ("GET", "/v1/models/half/"),
        ("GET", "/v1/models/half:predict"),
        ("GET", "/v1/models/debug/model_name"),
        ("GET", "/v1/models/half/version/1"),
        ("GET", "/v1/models/half/versions/abc"),
        ("GET", "/v1/models/half/versions/-1"),
        ("GET", "/v1/models/half/versions/"),
        ("GET", "/v1/models/half/versions/1/labels/a"),
        ("GET", "/v1/models/half/versions/1?x=1"),
        ("GET", "/v1/foo"),
        ("POST", "/v1/models"),
        ("POST", "/v1/models/half"),
        ("POST", "/v1/models/half/metadata"),
        ("POST", "/v1/models/half:explain"),
        ("POST", "/v1/models/half:Predict"),
        ("POST", "/v1/models/half:PREDICT"),
        ("POST", "/v1/models/half/version/50:regress"),
        ("POST", "/v1/models/half/label/l:regress"),
        ("POST", "/v1/models/half/versions/HELLO:regress"),
        ("POST", "/v1/models/half/versions/50/labels/l:regress"),
        ("POST", "/v1/models/half/versions/some_label:regress"),
        ("POST", "/v1/models/half:predict?debug=1"),
        ("PUT", "/v1/models/half"),
        ("DELETE", "/v1/models/half"),
        ("PATCH", "/v1/models/half:predict"),
    ],
)
def test_paths_outside_the_grammar_are_malformed_requests(
    zoo: RestProbe, method: str, target: str
) -> None:
    reply = zoo.request(method, target, PREDICT_BODY if method != "GET" else None)
    assert (reply.status, reply.error) == (400, f"Malformed request: {method} {target}")


@pytest.mark.parametrize(
    "target", ["/v1/models", "/v1/models/versions/1", "/v1/models/versions/1/metadata"]
)
def test_get_without_a_model_name_is_missing_model_name(zoo: RestProbe, target: str) -> None:
    reply = zoo.get(target)
    assert (reply.status, reply.error) == (400, "Missing model name in request.")


def test_a_query_after_the_model_name_becomes_part_of_the_name(zoo: RestProbe) -> None:
    reply = zoo.get("/v1/models/half?x=1")
    assert (reply.status, reply.error) == (404, "Could not find any versions of model half?x=1")


def test_get_models_metadata_is_a_status_request_for_a_model_called_metadata(
    zoo: RestProbe,
) -> None:
    reply = zoo.get("/v1/models/metadata")
    assert (reply.status, reply.error) == (404, "Could not find any versions of model metadata")


def test_a_version_too_large_for_int64_gives_400_with_an_empty_body(zoo: RestProbe) -> None:
    reply = zoo.post("/v1/models/half/versions/99999999999999999999:predict", PREDICT_BODY)
    assert (reply.status, reply.body) == (400, b"")
    assert reply.header_values("Content-Type") == ["application/json"]


def test_predict_on_an_unconfigured_model_with_a_valid_body_is_servable_not_found(
    zoo: RestProbe,
) -> None:
    reply = zoo.post("/v1/models/x:predict", PREDICT_BODY)
    assert (reply.status, reply.error) == (404, "Servable not found for request: Latest(x)")


@pytest.mark.parametrize("target", ["/v1", "/", "/v2/models/half", "/healthz"])
def test_paths_outside_v1_get_the_html_404(zoo: RestProbe, target: str) -> None:
    reply = zoo.get(target)
    assert reply.status == 404
    assert reply.body == (
        b"<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n"
        b"<H1>Not Found</H1>\n</BODY></HTML>\n"
    )


def test_percent_encoded_model_names_are_decoded_and_plus_stays_plus(zoo: RestProbe) -> None:
    for target in ("/v1/models/my%20model+1:predict", "/v1/models/my%20model%2B1:predict"):
        reply = zoo.post(target, {"instances": [4.0]})
        assert (reply.status, reply.json()) == (200, {"predictions": [4.0]}), target
    assert zoo.get("/v1/models/my+model+1").error == (
        "Could not find any versions of model my+model+1"
    )


def test_reserved_characters_in_a_name_are_decoded_like_the_util_test(zoo: RestProbe) -> None:
    encoded = "modelname%21%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D"
    reply = zoo.post(f"/v1/models/{encoded}:predict", PREDICT_BODY)
    assert (reply.status, reply.error) == (
        404,
        "Servable not found for request: Latest(modelname!#$%&'()*+,/:;=?@[])",
    )


def test_percent_encoded_labels_are_decoded(zoo: RestProbe) -> None:
    reply = zoo.post("/v1/models/half/labels/%73table:predict", PREDICT_BODY)
    assert (reply.status, reply.json()) == (200, HALF_OF_ONE)


def test_model_names_are_case_sensitive(zoo: RestProbe) -> None:
    reply = zoo.post("/v1/models/HALF:predict", PREDICT_BODY)
    assert (reply.status, reply.error) == (404, "Servable not found for request: Latest(HALF)")
