"""The REST handlers (``RestHandlers``): decode, ask a real model manager, encode.

Each handler gets a routed request and its body and returns the response body, or raises
``ServingStatusError`` with TF Serving's code and text: predict in the order of
``model_servers/http_rest_api_handler.cc`` (``ProcessPredictRequest``: the body before the
model, the signature before its inputs), classify and regress as ``util/json_tensor.cc`` and
``servables/tensorflow/classifier.cc`` / ``regressor.cc`` answer, status and metadata as
``ProcessModelStatusRequest`` and ``ProcessModelMetadataRequest`` print them. The deadline is
``--rest_api_timeout_in_ms``; the method-name check is ``--enable_signature_method_name_check``
(``servables/tensorflow/predict_util.cc``).
"""

from __future__ import annotations

import json

import pytest

from fashion.serving.models.manager import ModelManager
from fashion.serving.monitoring.metrics import Metrics
from fashion.serving.rest.handlers import RestHandlers
from fashion.serving.rest.routes import Route, route
from fashion.serving.status import Code
from tests.support.manager_kit import ODD_METHOD_NAME
from tests.support.status_errors import status_error

PREDICTIONS = b'{\n    "predictions": [2.5, 3.0, 4.5\n    ]\n}'
HALF_STATUS = (
    b'{\n "model_version_status": [\n  {\n   "version": "1",\n   "state": "AVAILABLE",\n'
    b'   "status": {\n    "error_code": "OK",\n    "error_message": ""\n   }\n  }\n ]\n}\n'
)


#: The HTTP method of each handler's routes.
_METHODS = {
    "predict": "POST",
    "classify": "POST",
    "regress": "POST",
    "status": "GET",
    "metadata": "GET",
}


def _route(method: str, target: str) -> Route:
    routed = route(method, target)
    assert routed.error is None, routed
    return routed


def _call(handlers: RestHandlers, handler: str, target: str, body: bytes) -> bytes:
    """``handlers.<handler>`` on the route of ``target`` (routed with that handler's method)."""
    return getattr(handlers, handler)(_route(_METHODS[handler], target), body)


def _refusal(
    handlers: RestHandlers, handler: str, target: str, body: bytes
) -> tuple[Code, int, str]:
    """The code, HTTP status and message of the error with which :func:`_call` fails."""
    error = status_error(_call, handlers, handler, target, body)
    return error.code, error.http_status, error.message


@pytest.fixture
def handlers(manager: ModelManager) -> RestHandlers:
    """The handlers with the server's default flags (no deadline, no method-name check)."""
    return RestHandlers(manager, Metrics())


# --- answers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler", "target", "body", "answer"),
    [
        pytest.param(
            "predict",
            "/v1/models/half:predict",
            b'{"instances": [1.0, 2.0, 5.0]}',
            PREDICTIONS,
            id="predict-in-row-format-answers-predictions",
        ),
        pytest.param(
            "predict",
            "/v1/models/half:predict",
            b'{"inputs": [1.0, 2.0]}',
            b'{\n    "outputs": [\n        2.5,\n        3.0\n    ]\n}',
            id="predict-in-columnar-format-answers-outputs-one-value-per-line",
        ),
        pytest.param(
            "predict",
            "/v1/models/half/versions/1:predict",
            b'{"instances": [1.0, 2.0, 5.0]}',
            PREDICTIONS,
            id="predict-on-a-version-answers-from-that-version",
        ),
        pytest.param(
            "predict",
            "/v1/models/odd_method:predict",
            b'{"instances": [1.0, 2.0, 5.0]}',
            PREDICTIONS,
            id="predict-runs-any-method-name-without-the-method-name-check",
        ),
        pytest.param(
            "classify",
            "/v1/models/parser:classify",
            b'{"signature_name": "classify_scores", "examples": [{"x": 2.0}]}',
            b'{\n    "results": [[["", 3.0]]\n    ]\n}',
            id="classify-answers-label-score-pairs",
        ),
        pytest.param(
            "regress",
            "/v1/models/parser:regress",
            b'{"signature_name": "regress_x", "examples": [{"x": 2.0}, {"x": 3.0}]}',
            b'{\n    "results": [3.0, 3.5]\n}',
            id="regress-answers-one-number-per-example",
        ),
        pytest.param(
            "status",
            "/v1/models/half",
            b"",
            HALF_STATUS,
            id="status-is-protobufs-json-of-every-version",
        ),
        pytest.param(
            "status",
            "/v1/models/half/labels/whatever",
            b"",
            HALF_STATUS,
            id="status-ignores-a-label",
        ),
    ],
)
def test_each_handler_answers_as_tf_serving_prints_it(
    handlers: RestHandlers, handler: str, target: str, body: bytes, answer: bytes
) -> None:
    assert _call(handlers, handler, target, body) == answer


# --- refusals: the order of the checks decides which error wins --------------------------------


@pytest.mark.parametrize(
    ("handler", "target", "body", "refusal"),
    [
        pytest.param(
            "predict",
            "/v1/models/nope:predict",
            b'{"instances": [1.0]}',
            (Code.NOT_FOUND, 404, "Servable not found for request: Latest(nope)"),
            id="predict-for-an-unknown-model-is-not-found",
        ),
        pytest.param(
            "predict",
            "/v1/models/nope:predict",
            b"",
            (Code.INVALID_ARGUMENT, 400, "JSON Parse error: The document is empty"),
            id="predict-reads-the-body-before-it-looks-for-the-model",
        ),
        pytest.param(
            "predict",
            "/v1/models/half:predict",
            b'{"signature_name": "nope", "instances": "not even a list"}',
            (
                Code.INVALID_ARGUMENT,
                400,
                'Serving signature name: "nope" not found in signature def',
            ),
            id="predict-with-an-unknown-signature-names-it-before-reading-the-inputs",
        ),
        pytest.param(
            "predict",
            "/v1/models/edge:predict",
            b'{"instances": [1.0]}',
            (Code.INVALID_ARGUMENT, 400, "Failed to get input map for signature: DEFAULT"),
            id="predict-on-the-default-signature-without-inputs-names-DEFAULT",
        ),
        pytest.param(
            "predict",
            "/v1/models/edge:predict",
            b'{"signature_name": "serving_default", "instances": [1.0]}',
            (Code.INVALID_ARGUMENT, 400, "Failed to get input map for signature: serving_default"),
            id="predict-on-a-named-signature-without-inputs-names-it",
        ),
        pytest.param(
            "classify",
            "/v1/models/nope:classify",
            b"{}",
            (
                Code.INVALID_ARGUMENT,
                400,
                "JSON Value: {} When method is classify, key 'examples' is expected and was not "
                "found",
            ),
            id="classify-checks-the-whole-body-before-it-looks-for-the-model",
        ),
        pytest.param(
            "status",
            "/v1/models/half/versions/2",
            b"",
            (Code.NOT_FOUND, 404, "Could not find version 2 of model half"),
            id="status-of-a-version-never-seen-is-not-found",
        ),
        pytest.param(
            "metadata",
            "/v1/models/half/labels/stable/metadata",
            b"",
            (Code.INVALID_ARGUMENT, 400, "Unrecognized servable version label: stable"),
            id="metadata-with-an-unknown-label-is-unrecognized",
        ),
    ],
)
def test_each_refusal_has_tf_servings_code_http_status_and_text(
    handlers: RestHandlers,
    handler: str,
    target: str,
    body: bytes,
    refusal: tuple[Code, int, str],
) -> None:
    assert _refusal(handlers, handler, target, body) == refusal


# --- the flags: the REST deadline and the method-name check ------------------------------------


def test_predict_past_the_rest_deadline_is_deadline_exceeded(manager: ModelManager) -> None:
    timed = RestHandlers(manager, Metrics(), timeout_ms=100)
    body = b'{"instances": [1.0]}'
    assert _refusal(timed, "predict", "/v1/models/blocking:predict", body) == (
        Code.DEADLINE_EXCEEDED,
        504,
        "Timed out waiting for notification",
    )


def test_predict_refuses_an_odd_method_name_with_the_check_as_an_internal_error(
    manager: ModelManager,
) -> None:
    checking = RestHandlers(manager, Metrics(), check_method_name=True)
    body = b'{"instances": [1.0]}'
    assert _refusal(checking, "predict", "/v1/models/odd_method:predict", body) == (
        Code.INTERNAL,
        500,
        "Expected prediction signature method_name to be one of {tensorflow/serving/predict, "
        f"tensorflow/serving/classify, tensorflow/serving/regress}}. Was: {ODD_METHOD_NAME}",
    )


def test_with_the_check_a_body_error_still_wins_over_the_method_name(
    manager: ModelManager,
) -> None:
    # predict_util.cc checks the method name only once the body became tensors.
    checking = RestHandlers(manager, Metrics(), check_method_name=True)
    body = b'{"instances": "nope"}'
    code, status, message = _refusal(checking, "predict", "/v1/models/odd_method:predict", body)
    assert (code, status) == (Code.INVALID_ARGUMENT, 400)
    assert message.endswith("Expecting 'instances' to be an list/array")


# --- metadata -----------------------------------------------------------------------------------


def test_metadata_describes_the_resolved_version_and_its_signatures(
    handlers: RestHandlers,
) -> None:
    answer = _call(handlers, "metadata", "/v1/models/half/metadata", b"")
    unknown_rank = {"dim": [], "unknown_rank": True}
    assert json.loads(answer) == {
        "model_spec": {"name": "half", "signature_name": "", "version": "1"},
        "metadata": {
            "signature_def": {
                "signature_def": {
                    "serving_default": {
                        "inputs": {
                            "x": {"dtype": "DT_FLOAT", "tensor_shape": unknown_rank, "name": "x:0"}
                        },
                        "outputs": {
                            "y": {"dtype": "DT_FLOAT", "tensor_shape": unknown_rank, "name": "y:0"}
                        },
                        "method_name": "tensorflow/serving/predict",
                        "defaults": {},
                    }
                }
            }
        },
    }
