"""What the gRPC client sends and reads back, against a scripted in-process gRPC server.

Predict: a lone array goes under the signature's only input, cast to its declared dtype, the
signature read from GetModelMetadata (kept for a pinned version, asked again for the latest and
a label); Classify and Regress: Examples built from plain dicts; the ``*_response`` methods: one
RPC, inputs sent as given, the whole response; ReloadConfig: a config in text format. Failures
are test_grpc_client.py's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import classification_pb2, model_management_pb2, regression_pb2

from fashion.clients import ServingRPCError
from fashion.clients.grpc import GrpcServingClient
from tests.support.scripted_grpc import ScriptedServing, metadata_answer, predict_answer, signature


@pytest.fixture
def client(scripted_server: tuple[ScriptedServing, int]) -> Iterator[GrpcServingClient]:
    with GrpcServingClient(f"127.0.0.1:{scripted_server[1]}", "m", timeout=5.0) as instance:
        yield instance


def test_predict_sends_an_array_under_the_only_input_in_the_declared_dtype(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    script.answers["GetModelMetadata"] = metadata_answer(serving_default=signature("images"))
    script.answers["Predict"] = predict_answer(scores=[[0.25, 0.75]])
    for _ in range(2):
        result = client.predict([[1, 2]], version=3, output_filter=["scores"])
        np.testing.assert_array_equal(result, np.array([[0.25, 0.75]], np.float32))
    assert len(script.requests("GetModelMetadata")) == 1  # learnt once per version
    request = script.requests("Predict")[0]
    assert (request.model_spec.name, request.model_spec.version.value) == ("m", 3)
    assert list(request.output_filter) == ["scores"]
    assert list(request.inputs) == ["images"]
    sent = tf.make_ndarray(request.inputs["images"])
    assert sent.dtype == np.float32  # ints cast to the declared DT_FLOAT, as REST does
    np.testing.assert_array_equal(sent, [[1.0, 2.0]])


@pytest.mark.parametrize("pin", [{}, {"label": "stable"}], ids=["latest", "label"])
def test_the_latest_version_or_a_label_is_asked_again_after_a_hot_load_renames_the_input(
    script: ScriptedServing, client: GrpcServingClient, pin: dict[str, Any]
) -> None:
    script.answers["Predict"] = predict_answer(y=[2.0])
    script.answers["GetModelMetadata"] = metadata_answer(1, serving_default=signature("x"))
    client.predict([1.0], **pin)
    # Version 2 is hot-loaded (or the label moved to it) and names its input "z".
    script.answers["GetModelMetadata"] = metadata_answer(2, serving_default=signature("z"))
    client.predict([1.0], **pin)
    assert [list(request.inputs) for request in script.requests("Predict")] == [["x"], ["z"]]


def test_a_version_the_latest_resolved_to_is_not_asked_again_when_pinned(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    script.answers["Predict"] = predict_answer(y=[2.0])
    script.answers["GetModelMetadata"] = metadata_answer(4, serving_default=signature("x"))
    client.predict([1.0])  # the latest: the answer says it is version 4
    client.predict([1.0], version=4)
    client.predict([1.0], version=4)
    assert len(script.requests("GetModelMetadata")) == 1
    assert [request.model_spec.version.value for request in script.requests("Predict")] == [
        0, 4, 4
    ]  # fmt: skip


def test_predict_of_a_signature_with_several_inputs_needs_a_dict_by_name(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    script.answers["GetModelMetadata"] = metadata_answer(serving_default=signature("a", "b"))
    script.answers["Predict"] = predict_answer(y=[1.0], z=[2.0])
    with pytest.raises(ValueError, match=r"has inputs \['a', 'b'\]; pass a dict"):
        client.predict([1.0])
    answer = client.predict({"a": [1.0], "b": [2.0]})
    assert isinstance(answer, dict)
    assert {name: value.tolist() for name, value in answer.items()} == {"y": [1.0], "z": [2.0]}
    assert sorted(script.requests("Predict")[0].inputs) == ["a", "b"]


def test_predict_with_an_unknown_signature_lets_the_server_say_so(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    script.answers["GetModelMetadata"] = metadata_answer(serving_default=signature("x"))
    script.answers["Predict"] = (
        grpc.StatusCode.FAILED_PRECONDITION,
        'Serving signature key "nope" not found.',
    )
    with pytest.raises(ServingRPCError) as info:
        client.predict([1.0], signature_name="nope")
    assert (info.value.status_code, info.value.error) == (
        400, 'Serving signature key "nope" not found.'
    )  # fmt: skip
    assert script.requests("Predict")[0].model_spec.signature_name == "nope"


def test_reload_config_sends_text_format_as_the_config_and_refuses_what_does_not_parse(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    script.answers["HandleReloadConfigRequest"] = model_management_pb2.ReloadConfigResponse()
    client.reload_config('model_config_list { config { name: "a" base_path: "/models/a" } }')
    (request,) = script.requests("HandleReloadConfigRequest")
    assert [(c.name, c.base_path) for c in request.config.model_config_list.config] == [
        ("a", "/models/a")
    ]
    with pytest.raises(ValueError, match="not a ModelServerConfig in text format"):
        client.reload_config("model_config_list { nonsense")
    assert len(script.received) == 1


def test_classify_and_regress_send_examples_as_tf_examples_and_return_plain_values(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    classified = classification_pb2.ClassificationResponse()
    classified.result.classifications.add().classes.add(label="cat", score=0.5)
    regressed = regression_pb2.RegressionResponse()
    regressed.result.regressions.add(value=3.0)
    script.answers["Classify"] = classified
    script.answers["Regress"] = regressed
    example = {"x": 2.0, "ids": [1, 2], "tag": "a"}
    assert client.classify([example], signature_name="c") == [[("cat", 0.5)]]
    assert client.regress([example], signature_name="r", context={"x2": b"z"}) == [3.0]
    features = script.requests("Classify")[0].input.example_list.examples[0].features.feature
    assert list(features["x"].float_list.value) == [2.0]
    assert list(features["ids"].int64_list.value) == [1, 2]
    assert list(features["tag"].bytes_list.value) == [b"a"]
    regress = script.requests("Regress")[0]
    assert regress.model_spec.signature_name == "r"
    context = regress.input.example_list_with_context.context.features.feature
    assert list(context["x2"].bytes_list.value) == [b"z"]


def test_the_response_methods_send_one_rpc_as_given_and_return_the_whole_response(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    answer = predict_answer(y=[2.0])
    answer.model_spec.version.value = 3
    script.answers["Predict"] = answer
    classified = classification_pb2.ClassificationResponse()
    classified.model_spec.signature_name = "c"
    script.answers["Classify"] = classified
    script.answers["GetModelMetadata"] = metadata_answer(3, serving_default=signature("x"))

    response = client.predict_response(
        {"x": np.array([1], np.int64), "s": tf.make_tensor_proto([b"a"])},
        version=3,
        signature_name="serving_default",
    )
    _, signatures = client.metadata_response(version=3)

    assert response.model_spec.version.value == 3
    assert list(signatures.signature_def["serving_default"].inputs) == ["x"]
    assert len(script.requests("GetModelMetadata")) == 1  # only metadata_response asked
    request = script.requests("Predict")[0]
    assert tf.make_ndarray(request.inputs["x"]).dtype == np.int64  # not cast: sent as given
    assert request.inputs["s"].string_val == [b"a"]
    assert request.model_spec.signature_name == "serving_default"
    assert client.classify_response([{"x": 1.0}]).model_spec.signature_name == "c"


def _tensor_list_answer(values: list[float], *, as_content: bool) -> Any:
    """A Predict answer whose ``list`` output is a TensorList of ``values``, as TensorFlow writes
    it: ``SerializeTensor`` gives the content form; its elements, moved, the ``variant_val`` one."""
    from tensorflow.core.framework import tensor_pb2, types_pb2
    from tensorflow.core.framework.tensor_pb2 import VariantTensorDataProto

    from fashion.serving.runtime.encoded_lists import decode_list

    listed = tf.raw_ops.TensorListFromTensor(
        tensor=tf.constant(values), element_shape=tf.constant([], tf.int32)
    )
    proto = tensor_pb2.TensorProto.FromString(tf.io.serialize_tensor(listed).numpy())
    assert proto.dtype == types_pb2.DT_VARIANT
    assert proto.tensor_content
    if not as_content:
        for encoded in decode_list(proto.tensor_content, 1):
            proto.variant_val.append(VariantTensorDataProto.FromString(encoded))
        proto.ClearField("tensor_content")
    answer = predict_answer()
    answer.outputs["list"].CopyFrom(proto)
    return answer


@pytest.mark.parametrize("as_content", [False, True], ids=["variant_val", "tensor_content"])
def test_a_variant_output_is_read_as_its_variant_protos_in_either_form_tf_serving_writes(
    script: ScriptedServing, client: GrpcServingClient, as_content: bool
) -> None:
    # tf.make_ndarray has no numpy type for DT_VARIANT (a KeyError, before any reading).
    script.answers["GetModelMetadata"] = metadata_answer(serving_default=signature("x"))
    script.answers["Predict"] = _tensor_list_answer([1.5, -2.0], as_content=as_content)
    result = client.predict([1.5, -2.0])
    assert result.shape == ()
    assert result.dtype == object
    element = result[()]
    assert element.type_name == "tensorflow::TensorList"
    assert [tf.make_ndarray(tensor).item() for tensor in element.tensors] == [1.5, -2.0]


def test_strings_packed_into_tensor_content_are_read_back_as_bytes(
    script: ScriptedServing, client: GrpcServingClient
) -> None:
    # What TF Serving answers under --enable_serialization_as_tensor_content
    # (AsProtoTensorContent's string list), which tf.make_ndarray cannot read.
    from tensorflow.core.framework import types_pb2

    from fashion.serving.runtime.encoded_lists import encode_list

    script.answers["GetModelMetadata"] = metadata_answer(serving_default=signature("x"))
    answer = predict_answer()
    words = answer.outputs["words"]
    words.dtype = types_pb2.DT_STRING
    words.tensor_shape.dim.add(size=2)
    words.tensor_shape.dim.add(size=2)
    words.tensor_content = encode_list([b"ab", b"", b"\xff", b"xyz"])
    script.answers["Predict"] = answer
    result = client.predict([1.0])
    assert result.tolist() == [[b"ab", b""], [b"\xff", b"xyz"]]
