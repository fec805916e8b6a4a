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
from collections.abc import Callable
from typing import Any

import pytest

from fashion.serving.models.manager import ModelManager
from fashion.serving.monitoring.metrics import Metrics
from fashion.serving.rest.handlers import RestHandlers
from fashion.serving.rest.routes import Route, route
from fashion.serving.status import Code, ServingStatusError
from tests.support.manager_kit import ODD_METHOD_NAME

PREDICTIONS = b'{\n    "predictions": [2.5, 3.0, 4.5\n    ]\n}'
HALF_STATUS = (
    b'{\n "model_version_status": [\n  {\n   "version": "1",\n   "state": "AVAILABLE",\n'
    b'   "status": {\n    "error_code": "OK",\n    "error_message": ""\n   }\n  }\n ]\n}\n'
)


def _route(method: str, target: str) -> Route:
    routed = route(method, target)
    assert routed.error is None, routed
    return routed


def _failure(call: Callable[[Route, bytes], bytes], *args: Any) -> tuple[Code, int, str]:
    """The code, HTTP status and message of the error ``call(*args)`` raises."""
    with pytest.raises(ServingStatusError) as info:
        call(*args)
    return info.value.code, info.value.http_status, info.value.message


@pytest.fixture
def handlers(manager: ModelManager) -> RestHandlers:
    """The handlers with the server's default flags (no deadline, no method-name check)."""
    return RestHandlers(manager, Metrics())


# --- predict --------------------------------------------------------------------------------------


def test_predict_in_row_format_answers_predictions(handlers: RestHandlers) -> None:
    body = b'{"instances": [1.0, 2.0, 5.0]}'
    assert handlers.predict(_route("POST", "/v1/models/half:predict"), body) == PREDICTIONS


def test_predict_in_columnar_format_answers_outputs_one_value_per_line(
    handlers: RestHandlers,
) -> None:
    answer = handlers.predict(_route("POST", "/v1/models/half:predict"), b'{"inputs": [1.0, 2.0]}')
    assert answer == b'{\n    "outputs": [\n        2.5,\n        3.0\n    ]\n}'


def test_predict_on_a_version_answers_from_that_version(handlers: RestHandlers) -> None:
    routed = _route("POST", "/v1/models/half/versions/1:predict")
    assert handlers.predict(routed, b'{"instances": [1.0, 2.0, 5.0]}') == PREDICTIONS


def test_predict_for_an_unknown_model_is_not_found(handlers: RestHandlers) -> None:
    routed = _route("POST", "/v1/models/nope:predict")
    assert _failure(handlers.predict, routed, b'{"instances": [1.0]}') == (
        Code.NOT_FOUND,
        404,
        "Servable not found for request: Latest(nope)",
    )


def test_predict_reads_the_body_before_it_looks_for_the_model(handlers: RestHandlers) -> None:
    routed = _route("POST", "/v1/models/nope:predict")
    assert _failure(handlers.predict, routed, b"") == (
        Code.INVALID_ARGUMENT,
        400,
        "JSON Parse error: The document is empty",
    )


def test_predict_with_an_unknown_signature_names_it(handlers: RestHandlers) -> None:
    routed = _route("POST", "/v1/models/half:predict")
    body = b'{"signature_name": "nope", "instances": "not even a list"}'
    assert _failure(handlers.predict, routed, body) == (
        Code.INVALID_ARGUMENT,
        400,
        'Serving signature name: "nope" not found in signature def',
    )


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"instances": [1.0]}', "DEFAULT"),
        (b'{"signature_name": "serving_default", "instances": [1.0]}', "serving_default"),
    ],
)
def test_predict_on_a_signature_without_inputs_fails_to_get_the_input_map(
    handlers: RestHandlers, body: bytes, named: str
) -> None:
    routed = _route("POST", "/v1/models/edge:predict")
    assert _failure(handlers.predict, routed, body) == (
        Code.INVALID_ARGUMENT,
        400,
        f"Failed to get input map for signature: {named}",
    )


def test_predict_past_the_rest_deadline_is_deadline_exceeded(manager: ModelManager) -> None:
    timed = RestHandlers(manager, Metrics(), timeout_ms=100)
    routed = _route("POST", "/v1/models/blocking:predict")
    assert _failure(timed.predict, routed, b'{"instances": [1.0]}') == (
        Code.DEADLINE_EXCEEDED,
        504,
        "Timed out waiting for notification",
    )


def test_predict_runs_any_method_name_without_the_method_name_check(
    handlers: RestHandlers,
) -> None:
    routed = _route("POST", "/v1/models/odd_method:predict")
    assert handlers.predict(routed, b'{"instances": [1.0, 2.0, 5.0]}') == PREDICTIONS


def test_predict_refuses_an_odd_method_name_with_the_check_as_an_internal_error(
    manager: ModelManager,
) -> None:
    checking = RestHandlers(manager, Metrics(), check_method_name=True)
    routed = _route("POST", "/v1/models/odd_method:predict")
    assert _failure(checking.predict, routed, b'{"instances": [1.0]}') == (
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
    routed = _route("POST", "/v1/models/odd_method:predict")
    code, status, message = _failure(checking.predict, routed, b'{"instances": "nope"}')
    assert (code, status) == (Code.INVALID_ARGUMENT, 400)
    assert message.endswith("Expecting 'instances' to be an list/array")


# --- classify and regress -----------------------------------------------------------------------


def test_classify_answers_label_score_pairs(handlers: RestHandlers) -> None:
    routed = _route("POST", "/v1/models/parser:classify")
    body = b'{"signature_name": "classify_scores", "examples": [{"x": 2.0}]}'
    assert handlers.classify(routed, body) == b'{\n    "results": [[["", 3.0]]\n    ]\n}'


def test_regress_answers_one_number_per_example(handlers: RestHandlers) -> None:
    routed = _route("POST", "/v1/models/parser:regress")
    body = b'{"signature_name": "regress_x", "examples": [{"x": 2.0}, {"x": 3.0}]}'
    assert handlers.regress(routed, body) == b'{\n    "results": [3.0, 3.5]\n}'


def test_classify_checks_the_whole_body_before_it_looks_for_the_model(
    handlers: RestHandlers,
) -> None:
    routed = _route("POST", "/v1/models/nope:classify")
    assert _failure(handlers.classify, routed, b"{}") == (
        Code.INVALID_ARGUMENT,
        400,
        "JSON Value: {} When method is classify, key 'examples' is expected and was not found",
    )


# --- status and metadata ------------------------------------------------------------------------


def test_status_is_protobufs_json_of_every_version(handlers: RestHandlers) -> None:
    assert handlers.status(_route("GET", "/v1/models/half"), b"") == HALF_STATUS


def test_status_ignores_a_label(handlers: RestHandlers) -> None:
    assert handlers.status(_route("GET", "/v1/models/half/labels/whatever"), b"") == HALF_STATUS


def test_status_of_a_version_never_seen_is_not_found(handlers: RestHandlers) -> None:
    routed = _route("GET", "/v1/models/half/versions/2")
    assert _failure(handlers.status, routed, b"") == (
        Code.NOT_FOUND,
        404,
        "Could not find version 2 of model half",
    )


def test_metadata_describes_the_resolved_version_and_its_signatures(
    handlers: RestHandlers,
) -> None:
    answer = handlers.metadata(_route("GET", "/v1/models/half/metadata"), b"")
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


def test_metadata_with_an_unknown_label_is_unrecognized(handlers: RestHandlers) -> None:
    routed = _route("GET", "/v1/models/half/labels/stable/metadata")
    assert _failure(handlers.metadata, routed, b"") == (
        Code.INVALID_ARGUMENT,
        400,
        "Unrecognized servable version label: stable",
    )
