"""TF Serving's own published requests to its test model ``half_plus_two``, replayed.

The model is built by the project's own code with the structure TF Serving's
``servables/tensorflow/testdata/saved_model_half_plus_two.py`` gives it (see
``write_half_plus_two_model``): ``x`` is an Identity of a ``ParseExample`` output declared
``[-1, 1]``, not a placeholder, and the real server feeds it whatever shape the request has.
Each test names the upstream file (in the ``tensorflow/serving`` repository) that publishes the
request and the answer; the expected answers are theirs, not ours.

Served (in the shared zoo) under the names those sources use: ``default``
(``tensorflow_model_server_test.py``), ``half_plus_two`` (``README.md``, ``g3doc/docker.md``),
``saved_model_half_plus_two_cpu`` (the image tests), ``saved_model_half_plus_two_2_versions``
with label ``Version_Label`` (``http_rest_api_handler_test.cc``) and
``saved_model_half_plus_three`` (``g3doc/api_rest.md``); all as version 123.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.rest_probe import RestProbe

pytestmark = pytest.mark.server

HANDLER_TEST_MODEL = "saved_model_half_plus_two_2_versions"


def _sorted_json(value: Any) -> Any:
    """TF Serving's ``SortedObject`` comparison: dicts as sorted pairs, lists sorted, nested."""
    if isinstance(value, dict):
        return sorted((key, _sorted_json(item)) for key, item in value.items())
    if isinstance(value, list):
        return sorted((_sorted_json(item) for item in value), key=repr)
    return value


# --- tensorflow_serving/model_servers/tensorflow_model_server_test.py (model "default") -------


def test_predict_rest(zoo: RestProbe) -> None:
    """testPredictREST."""
    reply = zoo.predict("default", {"instances": [2.0, 3.0, 4.0]})
    assert (reply.status, reply.json()) == (200, {"predictions": [3.0, 3.5, 4.0]})


def test_predict_columnar_rest(zoo: RestProbe) -> None:
    """testPredictColumnarREST."""
    reply = zoo.predict("default", {"inputs": [2.0, 3.0, 4.0]})
    assert (reply.status, reply.json()) == (200, {"outputs": [3.0, 3.5, 4.0]})


def test_classify_rest(zoo: RestProbe) -> None:
    """testClassifyREST."""
    body = {"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]}
    reply = zoo.call("default", "classify", body)
    assert (reply.status, reply.json()) == (200, {"results": [[["", 3.0]]]})


def test_regress_rest(zoo: RestProbe) -> None:
    """testRegressREST."""
    reply = zoo.call(
        "default", "regress", {"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]}
    )
    assert (reply.status, reply.json()) == (200, {"results": [3.0]})


def _one_version_available(version: str) -> dict[str, Any]:
    return {
        "model_version_status": [
            {
                "version": version,
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


def test_get_status_rest(zoo: RestProbe) -> None:
    """testGetStatusREST."""
    reply = zoo.status("default")
    assert (reply.status, reply.json()) == (200, _one_version_available("123"))


def _float_column(name: str) -> dict[str, Any]:
    dims = [{"size": "-1", "name": ""}, {"size": "1", "name": ""}]
    return {
        "dtype": "DT_FLOAT",
        "tensor_shape": {"dim": dims, "unknown_rank": False},
        "name": name,
    }


_EXAMPLES = {
    "dtype": "DT_STRING",
    "tensor_shape": {"dim": [], "unknown_rank": True},
    "name": "tf_example:0",
}


def _signature(inputs: dict[str, Any], outputs: dict[str, Any], method: str) -> dict[str, Any]:
    return {
        "inputs": inputs,
        "outputs": outputs,
        "method_name": f"tensorflow/serving/{method}",
        "defaults": {},
    }


def _half_plus_two_metadata(model: str, *, classify_x2_to_y3: bool) -> dict[str, Any]:
    """The metadata TF Serving's testdata publishes for this model (its structure, rebuilt)."""
    signatures = {
        "serving_default": _signature(
            {"x": _float_column("x:0")}, {"y": _float_column("y:0")}, "predict"
        ),
        "regress_x_to_y": _signature(
            {"inputs": _EXAMPLES}, {"outputs": _float_column("y:0")}, "regress"
        ),
        "regress_x_to_y2": _signature(
            {"inputs": _EXAMPLES}, {"outputs": _float_column("y2:0")}, "regress"
        ),
        "regress_x2_to_y3": _signature(
            {"inputs": _float_column("x2:0")}, {"outputs": _float_column("y3:0")}, "regress"
        ),
        "classify_x_to_y": _signature(
            {"inputs": _EXAMPLES}, {"scores": _float_column("y:0")}, "classify"
        ),
    }
    if classify_x2_to_y3:
        signatures["classify_x2_to_y3"] = _signature(
            {"inputs": _float_column("x2:0")}, {"scores": _float_column("y3:0")}, "classify"
        )
    return {
        "model_spec": {"name": model, "signature_name": "", "version": "123"},
        "metadata": {"signature_def": {"signature_def": signatures}},
    }


def test_get_model_metadata_rest(zoo: RestProbe) -> None:
    """testGetModelMetadataREST: equal to half_plus_two_model_metadata.json, compared sorted."""
    reply = zoo.metadata("default")
    assert reply.status == 200, reply
    expected = _half_plus_two_metadata("default", classify_x2_to_y3=False)
    assert _sorted_json(reply.json()) == _sorted_json(expected)


# --- README.md and g3doc/docker.md (model "half_plus_two") -------------------------------------


def test_the_readme_hello_world_request(zoo: RestProbe) -> None:
    """README.md and g3doc/docker.md: a (3,) tensor fed to an ``x`` declared [-1, 1]."""
    reply = zoo.predict("half_plus_two", b'{"instances": [1.0, 2.0, 5.0]}')
    assert (reply.status, reply.json()) == (200, {"predictions": [2.5, 3.0, 4.5]})


# --- tensorflow_serving/tools/docker/tests/ ----------------------------------------------------


@pytest.mark.parametrize(
    ("script", "request_body", "expected"),
    [
        (
            "dockerfile_test.sh",
            b'{"instances": [1.0,2.0,5.0]}',
            b'{"predictions":[2.5,3.0,4.5]}',
        ),
        (
            "dockerfile_gpu_trt_test.sh",
            b'{"instances": [[1.0],[2.0],[5.0]]}',
            b'{"predictions":[[2.5],[3.0],[4.5]]}',
        ),
    ],
)
def test_the_image_tests_request(
    zoo: RestProbe, script: str, request_body: bytes, expected: bytes
) -> None:
    """docker_test_lib.sh deletes spaces and newlines, then looks for the expected text."""
    reply = zoo.predict("saved_model_half_plus_two_cpu", request_body)
    assert reply.status == 200, (script, reply)
    assert expected in reply.body.replace(b"\n", b"").replace(b" ", b""), script


# --- tensorflow_serving/model_servers/http_rest_api_handler_test.cc ----------------------------

_M = f"/v1/models/{HANDLER_TEST_MODEL}"


@pytest.mark.parametrize(
    ("method", "path", "substring"),
    [
        ("GET", "/v1/foo", "Malformed request"),
        ("POST", "/v1/foo", "Malformed request"),
        ("GET", "/v1/models", "Missing model name"),
        ("GET", "/v1/models/debug/model_name", "Malformed request"),
        ("POST", "/v1/models", "Malformed request"),
        ("GET", "/v1/models/foo:predict", "Malformed request"),
        ("GET", "/v1/models/foo/version/50:predict", "Malformed request"),
        ("POST", "/v1/models/foo/version/50:regress", "Malformed request"),
        ("POST", "/v1/models/foo/versions/HELLO:regress", "Malformed request"),
        ("POST", "/v1/models/foo/metadata", "Malformed request"),
        ("POST", "/v1/models/foo/label/some_label:regress", "Malformed request"),
        ("POST", "/v1/models/foo/versions/50/labels/some_label:regress", "Malformed request"),
        ("POST", "/v1/models/foo/versions/some_label:regress", "Malformed request"),
    ],
)
def test_unsupported_api_calls(zoo: RestProbe, method: str, path: str, substring: str) -> None:
    """UnsupportedApiCalls: empty bodies, all INVALID_ARGUMENT."""
    reply = zoo.request(method, path, b"")
    assert reply.status == 400, reply
    assert substring in reply.error


def test_a_version_beyond_int64_is_refused(zoo: RestProbe) -> None:
    """UnsupportedApiCalls' uint64-max version: the handler test reads ``Failed to convert
    version`` from the status; over HTTP the handler returns before writing a body."""
    reply = zoo.post("/v1/models/foo/versions/18446744073709551615:regress", b"")
    assert (reply.status, reply.body) == (400, b"")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/models/foo:predict",
        "/v1/models/foo/versions/50:predict",
        f"{_M}99:predict",
    ],
)
def test_predict_model_name_version_errors(zoo: RestProbe, path: str) -> None:
    """PredictModelNameVersionErrors: NOT_FOUND."""
    assert zoo.post(path, b'{ "instances": [1] }').status == 404


@pytest.mark.parametrize(
    ("path", "body", "substring"),
    [
        (f"{_M}:predict", b"", "JSON Parse error: The document is empty"),
        (f"{_M}:predict", b"instances = [1, 2]", "JSON Parse error: Invalid value"),
        (f"{_M}:predict", b'{ "instances": ["x", "y"] }', "not of expected type: float"),
        (
            f"{_M}/labels/Version_Nonexistent:predict",
            b'{ "instances": ["x", "y"] }',
            "Unrecognized servable version label",
        ),
        (
            f"{_M}:predict",
            b'{ "signature_name": 100 }',
            "'signature_name' key must be a string value.",
        ),
    ],
)
def test_predict_request_errors(zoo: RestProbe, path: str, body: bytes, substring: str) -> None:
    """PredictRequestErrors: INVALID_ARGUMENT."""
    reply = zoo.post(path, body)
    assert reply.status == 400, reply
    assert substring in reply.error


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        (
            f"{_M}:predict",
            b'{"instances": [[1.0, 2.0], [3.0, 4.0]]}',
            {"predictions": [[2.5, 3.0], [3.5, 4.0]]},
        ),
        (f"{_M}/versions/123:predict", b'{"instances": [1.0, 2.0]}', {"predictions": [2.5, 3.0]}),
        (
            f"{_M}/labels/Version_Label:predict",
            b'{"instances": [1.0, 2.0]}',
            {"predictions": [2.5, 3.0]},
        ),
        (
            f"{_M}/versions/123:predict",
            b'{"signature_name": "serving_default", "instances": [3.0, 4.0]}',
            {"predictions": [3.5, 4.0]},
        ),
        (
            f"{_M}/versions/123:predict",
            b'{"signature_name": "serving_default", "inputs": [3.0, 4.0]}',
            {"outputs": [3.5, 4.0]},
        ),
    ],
)
def test_predict(zoo: RestProbe, path: str, body: bytes, expected: dict[str, Any]) -> None:
    """Predict: a [2, 2] and a [2] tensor into an ``x`` declared [-1, 1]; version and label."""
    reply = zoo.post(path, body)
    assert (reply.status, reply.json()) == (200, expected)


@pytest.mark.parametrize(
    "path", [f"{_M}:regress", f"{_M}/versions/123:regress", f"{_M}/labels/Version_Label:regress"]
)
def test_regress(zoo: RestProbe, path: str) -> None:
    """Regress."""
    reply = zoo.post(path, b'{"signature_name": "regress_x_to_y", "examples": [ { "x": 80.0 } ] }')
    assert (reply.status, reply.json()) == (200, {"results": [42]})


@pytest.mark.parametrize(
    ("path", "x", "score"),
    [(f"{_M}:classify", "20.0", 12), (f"{_M}/labels/Version_Label:classify", "10.0", 7)],
)
def test_classify(zoo: RestProbe, path: str, x: str, score: int) -> None:
    """Classify."""
    body = '{"signature_name": "classify_x_to_y", "examples": [ { "x": ' + x + " } ] }"
    reply = zoo.post(path, body)
    assert (reply.status, reply.json()) == (200, {"results": [[["", score]]]})


@pytest.mark.parametrize("path", [_M, f"{_M}/versions/123", f"{_M}/labels/Version_Label"])
def test_get_status(zoo: RestProbe, path: str) -> None:
    """GetStatus."""
    reply = zoo.get(path)
    assert (reply.status, reply.json()) == (200, _one_version_available("123"))


def test_get_model_metadata(zoo: RestProbe) -> None:
    """GetModelMetadata: saved_model_half_plus_two_2_versions_metadata.json's six signatures."""
    reply = zoo.get(f"{_M}/metadata")
    assert reply.status == 200, reply
    expected = _half_plus_two_metadata(HANDLER_TEST_MODEL, classify_x2_to_y3=True)
    assert _sorted_json(reply.json()) == _sorted_json(expected)


# --- servables/tensorflow/predict_impl_test.cc: predict on the regress and classify signatures --


@pytest.mark.parametrize(
    ("signature", "output"),
    [("regress_x2_to_y3", "outputs"), ("classify_x2_to_y3", "scores")],
)
def test_predict_with_named_regression_and_classification_signatures(
    zoo: RestProbe, signature: str, output: str
) -> None:
    """PredictionWithNamedRegressionSignature / ...ClassificationSignature: 2.0 gives 4."""
    reply = zoo.predict(
        HANDLER_TEST_MODEL, {"signature_name": signature, "inputs": {"inputs": 2.0}}
    )
    assert (reply.status, reply.json()) == (200, {"outputs": 4.0})
    assert output  # the one output's name is dropped in the answer


# --- g3doc/api_rest.md's example (model "saved_model_half_plus_three") ------------------------


# Its fourth request, to a model named "half", is not replayed: the zoo serves a model by that
# name. The 404 for an unknown model is tested in test_url_grammar.py and in
# tests/suite/test_errors.py.


def test_api_rest_status_example(zoo: RestProbe) -> None:
    """The status request of the example."""
    reply = zoo.status("saved_model_half_plus_three")
    assert (reply.status, reply.json()) == (200, _one_version_available("123"))


def test_api_rest_predict_example(zoo: RestProbe) -> None:
    """The predict request of the example."""
    reply = zoo.predict("saved_model_half_plus_three", b'{"instances": [1.0,2.0,5.0]}')
    assert (reply.status, reply.json()) == (200, {"predictions": [3.5, 4.0, 5.5]})


def test_api_rest_regress_example(zoo: RestProbe) -> None:
    """The regress request of the example; the signature declares its string input DT_FLOAT."""
    body = b'{"signature_name": "tensorflow/serving/regress", "examples": [{"x": 1.0}, {"x": 2.0}]}'
    reply = zoo.call("saved_model_half_plus_three", "regress", body)
    assert (reply.status, reply.json()) == (200, {"results": [3.5, 4.0]})
