"""``predictions`` vs ``outputs``, one output vs several, and the shape errors
(``util/json_tensor.cc``; every output is fetched, ``servables/tensorflow/predict_util.cc``).

``edge`` has one signature per edge case (see ``write_edge_signatures_model``).
"""

from __future__ import annotations

import numpy as np
import pytest
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc

from tests.support import REQUEST_TIMEOUT
from tests.support.grpc_predict import predict_request
from tests.support.rest_probe import RestProbe

pytestmark = pytest.mark.server


def test_one_output_drops_its_name_in_both_formats(zoo: RestProbe) -> None:
    row = zoo.predict("half", {"instances": [[1.0], [2.0]]})
    columnar = zoo.predict("half", {"inputs": [[1.0], [2.0]]})
    assert (row.status, row.json()) == (200, {"predictions": [[2.5], [3.0]]})
    assert (columnar.status, columnar.json()) == (200, {"outputs": [[2.5], [3.0]]})


def test_several_outputs_give_one_object_per_row_and_one_object_of_columns(
    zoo: RestProbe,
) -> None:
    row = zoo.predict("two_tensors", {"instances": [{"a": 1.0, "b": [1, 2]}]})
    columnar = zoo.predict("two_tensors", {"inputs": {"a": [1.0], "b": [[1, 2]]}})
    assert (row.status, row.json()) == (200, {"predictions": [{"a": 1.0, "b": [1, 2]}]})
    assert (columnar.status, columnar.json()) == (200, {"outputs": {"a": [1.0], "b": [[1, 2]]}})


def test_a_rank_0_output_has_no_shape_information_in_row_format(zoo: RestProbe) -> None:
    reply = zoo.predict("edge", {"signature_name": "scalar_output", "instances": [1.0, 2.0]})
    assert (reply.status, reply.error) == (400, "Tensor name: total has no shape information ")


def test_a_rank_0_output_is_written_bare_in_columnar_format(zoo: RestProbe) -> None:
    reply = zoo.predict("edge", {"signature_name": "scalar_output", "inputs": [1.0, 2.0]})
    assert (reply.status, reply.json()) == (200, {"outputs": 3.0})


def test_outputs_with_different_first_dimensions_are_an_inconsistent_batch_in_rows(
    zoo: RestProbe,
) -> None:
    reply = zoo.predict("edge", {"signature_name": "uneven_outputs", "instances": [1.0, 2.0]})
    assert reply.status == 400, reply
    # Which output is checked first follows the protobuf map's order, which is unspecified.
    assert reply.error in {
        "Tensor name: z has inconsistent batch size: 4 expecting: 2",
        "Tensor name: y has inconsistent batch size: 2 expecting: 4",
    }


def test_outputs_with_different_first_dimensions_are_fine_in_columns(zoo: RestProbe) -> None:
    reply = zoo.predict("edge", {"signature_name": "uneven_outputs", "inputs": [1.0, 2.0]})
    assert (reply.status, reply.json()) == (
        200,
        {"outputs": {"y": [1.0, 2.0], "z": [1.0, 2.0, 1.0, 2.0]}},
    )


def test_a_first_dimension_of_0_gives_empty_predictions_whatever_the_instances(
    zoo: RestProbe,
) -> None:
    reply = zoo.predict("edge", {"signature_name": "empty_output", "instances": [1.0, 2.0]})
    assert (reply.status, reply.json()) == (200, {"predictions": []})


def test_an_output_of_a_dtype_json_cannot_express_is_rejected(zoo: RestProbe) -> None:
    reply = zoo.predict("edge", {"signature_name": "half_output", "instances": [1.0]})
    assert (reply.status, reply.error) == (
        400,
        "Failed to write JSON value for tensor type: half",
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param(
            {"instances": [1.0, 2.0]},
            "Tensor name: list has no shape information ",
            id="row-format-refuses-the-rank-0-list-first",
        ),
        pytest.param(
            {"inputs": [1.0, 2.0]},
            "Failed to write JSON value for tensor type: variant",
            id="columnar-format-meets-the-dtype",
        ),
    ],
)
def test_a_variant_output_runs_then_cannot_be_written_as_json(
    zoo: RestProbe, body: dict[str, object], error: str
) -> None:
    # predict_util.cc copies the run's DT_VARIANT output into the response (AsProtoField);
    # json_tensor.cc then checks the row format's shapes, and its value writer has no case
    # for variant. (TensorFlow's Python session cannot fetch a variant; the stand-in fetches it
    # serialized, fashion/serving/runtime/variant_outputs.py.)
    reply = zoo.predict("edge", {"signature_name": "variant_output", **body})
    assert (reply.status, reply.error) == (400, error)


def test_a_variant_output_is_answered_over_grpc_as_a_variant_tensor(
    zoo_stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    # The same run over gRPC: the response carries the TensorList as variant_val.
    request = predict_request(
        "edge", {"x": np.array([1.0, 2.0], np.float32)}, signature_name="variant_output"
    )
    response = zoo_stub.Predict(request, timeout=REQUEST_TIMEOUT)
    output = response.outputs["list"]
    assert (output.dtype, len(output.tensor_shape.dim), output.tensor_content) == (
        types_pb2.DT_VARIANT,
        0,
        b"",
    )
    assert [value.type_name for value in output.variant_val] == ["tensorflow::TensorList"]


def test_a_signature_without_outputs_is_refused_by_the_session_before_anything_runs(
    zoo: RestProbe,
) -> None:
    # predict_util.cc hands Session::Run an empty fetch list, which TensorFlow's subgraph.cc
    # refuses; json_tensor.cc's "Cannot convert empty tensor map to JSON" is never reached.
    reply = zoo.predict("edge", {"signature_name": "no_outputs", "instances": [1.0]})
    assert (reply.status, reply.error) == (
        400,
        "Must specify at least one target to fetch or execute.",
    )
