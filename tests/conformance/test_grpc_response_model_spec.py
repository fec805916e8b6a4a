"""The ``model_spec`` of a gRPC answer names the version that ran, never the label asked for.

As ``MakeModelSpec`` writes it for Predict, Classify, Regress and GetModelMetadata (notes 1.4):
the name asked for, the version that answered (also when asked by label or for the latest) and,
except for metadata, the signature that ran. Against the shared zoo
(tests/conformance/conftest.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tensorflow.core.example import example_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    model_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from tests.support import REQUEST_TIMEOUT
from tests.support.grpc_predict import ask_for_version, parsed_tensor, predict_request

pytestmark = pytest.mark.server


def _spec(name: str, version: int, signature_name: str = "") -> dict[str, Any]:
    return {"name": name, "version": version, "signature_name": signature_name}


def _as_dict(spec: model_pb2.ModelSpec) -> dict[str, Any]:
    assert spec.WhichOneof("version_choice") == "version"  # never a label
    return {"name": spec.name, "version": spec.version.value, "signature_name": spec.signature_name}


@pytest.mark.parametrize(
    ("asked", "version"),
    [({}, 3), ({"version": 1}, 1), ({"version_label": "second"}, 2)],
    ids=["latest", "version-1", "label-second"],
)
@pytest.mark.parametrize("signature", ["", "serving_default"])
def test_predict_answers_with_the_version_that_ran_and_its_signature(
    zoo_stub: prediction_service_pb2_grpc.PredictionServiceStub,
    asked: dict[str, Any],
    version: int,
    signature: str,
) -> None:
    inputs = {"x": np.array([1.0], np.float32)}
    request = predict_request("policy_all", inputs, signature_name=signature, **asked)
    response = zoo_stub.Predict(request, timeout=REQUEST_TIMEOUT)
    assert _as_dict(response.model_spec) == _spec("policy_all", version, "serving_default")
    np.testing.assert_array_equal(parsed_tensor(response.outputs["y"]), [float(version)])


def _examples_input(x: float) -> Any:
    example = example_pb2.Example()
    example.features.feature["x"].float_list.value.append(x)
    request = classification_pb2.ClassificationRequest()
    request.input.example_list.examples.append(example)
    return request.input


@pytest.mark.parametrize(
    ("model", "asked"),
    [
        ("default", {}),
        ("default", {"version": 123}),
        ("saved_model_half_plus_two_2_versions", {"version_label": "Version_Label"}),
    ],
    ids=["latest", "version", "label"],
)
def test_classify_and_regress_answer_with_the_version_and_the_signature_asked_for(
    zoo_stub: prediction_service_pb2_grpc.PredictionServiceStub,
    model: str,
    asked: dict[str, Any],
) -> None:
    """testClassify / testRegress (tensorflow_model_server_test.py) check the same three."""
    classify = classification_pb2.ClassificationRequest(input=_examples_input(2.0))
    regress = regression_pb2.RegressionRequest(input=_examples_input(2.0))
    for request, signature in ((classify, "classify_x_to_y"), (regress, "regress_x_to_y")):
        request.model_spec.name = model
        request.model_spec.signature_name = signature
        ask_for_version(request.model_spec, **asked)
    classified = zoo_stub.Classify(classify, timeout=REQUEST_TIMEOUT)
    regressed = zoo_stub.Regress(regress, timeout=REQUEST_TIMEOUT)
    assert _as_dict(classified.model_spec) == _spec(model, 123, "classify_x_to_y")
    assert _as_dict(regressed.model_spec) == _spec(model, 123, "regress_x_to_y")
    assert classified.result.classifications[0].classes[0].score == 3.0
    assert regressed.result.regressions[0].value == 3.0


@pytest.mark.parametrize(
    ("asked", "version"),
    [({}, 3), ({"version": 2}, 2), ({"version_label": "first"}, 1)],
    ids=["latest", "version-2", "label-first"],
)
def test_metadata_answers_with_the_version_and_no_signature_name(
    zoo_stub: prediction_service_pb2_grpc.PredictionServiceStub,
    asked: dict[str, Any],
    version: int,
) -> None:
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = "policy_all"
    request.model_spec.signature_name = "serving_default"  # not echoed
    ask_for_version(request.model_spec, **asked)
    response = zoo_stub.GetModelMetadata(request, timeout=REQUEST_TIMEOUT)
    assert _as_dict(response.model_spec) == _spec("policy_all", version)
    assert list(response.metadata) == ["signature_def"]
