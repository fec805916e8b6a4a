"""Model status and metadata bodies are protobuf's JSON printer output.

As ``model_servers/http_rest_api_util.cc`` (``ToJsonString``) prints ``GetModelStatusResponse``
(``apis/get_model_status.proto``) and ``http_rest_api_handler.cc``
(``ProcessModelMetadataRequest``) glues the metadata together.
"""

from __future__ import annotations

import json

from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import get_model_status_pb2

from fashion.serving.codec.proto_json import encode_model_metadata, encode_model_status
from tests.support.scripted_grpc import status_answer

ModelVersionStatus = get_model_status_pb2.ModelVersionStatus


def status_response(*versions: tuple[int, int, int, str]) -> bytes:
    return encode_model_status(status_answer(*versions))


def _float_column(info: meta_graph_pb2.TensorInfo, name: str) -> None:
    """Make ``info`` a float tensor ``name`` of shape ``[-1, 1]``, as half_plus_two declares."""
    info.name = name
    info.dtype = types_pb2.DT_FLOAT
    info.tensor_shape.dim.add(size=-1)
    info.tensor_shape.dim.add(size=1)


def half_plus_two_signature() -> meta_graph_pb2.SignatureDef:
    signature = meta_graph_pb2.SignatureDef(method_name="tensorflow/serving/predict")
    _float_column(signature.inputs["x"], "serving_default_x:0")
    _float_column(signature.outputs["y"], "StatefulPartitionedCall:0")
    return signature


def _printed_float_column(alias: str, name: str) -> str:
    """How protobuf's printer writes a :func:`_float_column` under ``alias``, four levels deep."""
    return (
        f'    "{alias}": {{\n'
        '     "dtype": "DT_FLOAT",\n'
        '     "tensor_shape": {\n'
        '      "dim": [\n'
        "       {\n"
        '        "size": "-1",\n'
        '        "name": ""\n'
        "       },\n"
        "       {\n"
        '        "size": "1",\n'
        '        "name": ""\n'
        "       }\n"
        "      ],\n"
        '      "unknown_rank": false\n'
        "     },\n"
        f'     "name": "{name}"\n'
        "    }\n"
    )


def test_status_body_of_two_versions_is_protobufs_json_byte_for_byte() -> None:
    body = status_response(
        (2, ModelVersionStatus.AVAILABLE, 0, ""), (1, ModelVersionStatus.END, 0, "")
    )
    assert body.decode() == (
        "{\n"
        ' "model_version_status": [\n'
        "  {\n"
        '   "version": "2",\n'
        '   "state": "AVAILABLE",\n'
        '   "status": {\n'
        '    "error_code": "OK",\n'
        '    "error_message": ""\n'
        "   }\n"
        "  },\n"
        "  {\n"
        '   "version": "1",\n'
        '   "state": "END",\n'
        '   "status": {\n'
        '    "error_code": "OK",\n'
        '    "error_message": ""\n'
        "   }\n"
        "  }\n"
        " ]\n"
        "}\n"
    )


def test_status_is_printed_even_when_left_unset() -> None:
    parsed = json.loads(encode_model_status(status_answer((3, ModelVersionStatus.LOADING))))
    assert parsed == {
        "model_version_status": [
            {
                "version": "3",
                "state": "LOADING",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


def test_failed_version_reports_the_code_name_and_message() -> None:
    body = status_response((1, ModelVersionStatus.END, 5, "Could not find SavedModel"))
    status = json.loads(body)["model_version_status"][0]["status"]
    assert status == {"error_code": "NOT_FOUND", "error_message": "Could not find SavedModel"}


def test_metadata_body_is_glued_from_two_printed_messages() -> None:
    body = encode_model_metadata("default", 123, {"serving_default": half_plus_two_signature()})
    assert body.decode() == (
        "{\n"
        '"model_spec":{\n'
        ' "name": "default",\n'
        ' "signature_name": "",\n'
        ' "version": "123"\n'
        "}\n"
        ",\n"
        '"metadata": {"signature_def": {\n'
        ' "signature_def": {\n'
        '  "serving_default": {\n'
        '   "inputs": {\n' + _printed_float_column("x", "serving_default_x:0") + "   },\n"
        '   "outputs": {\n' + _printed_float_column("y", "StatefulPartitionedCall:0") + "   },\n"
        '   "method_name": "tensorflow/serving/predict",\n'
        '   "defaults": {}\n'
        "  }\n"
        " }\n"
        "}\n"
        "}\n"
        "}\n"
    )


def test_metadata_lists_the_init_op_signature_like_any_other() -> None:
    init = meta_graph_pb2.SignatureDef()
    output = init.outputs["__saved_model_init_op"]
    output.name = "NoOp"
    output.tensor_shape.unknown_rank = True
    signatures = {"serving_default": half_plus_two_signature(), "__saved_model_init_op": init}
    parsed = json.loads(encode_model_metadata("m", 1, signatures))
    assert parsed["model_spec"] == {"name": "m", "signature_name": "", "version": "1"}
    assert parsed["metadata"]["signature_def"]["signature_def"]["__saved_model_init_op"] == {
        "inputs": {},
        "outputs": {
            "__saved_model_init_op": {
                "dtype": "DT_INVALID",
                "tensor_shape": {"dim": [], "unknown_rank": True},
                "name": "NoOp",
            }
        },
        "method_name": "",
        "defaults": {},
    }


def test_tensor_info_without_shape_omits_tensor_shape() -> None:
    signature = meta_graph_pb2.SignatureDef(method_name="tensorflow/serving/predict")
    signature.inputs["s"].name = "s:0"
    signature.inputs["s"].dtype = types_pb2.DT_STRING
    parsed = json.loads(encode_model_metadata("m", 7, {"serving_default": signature}))
    inputs = parsed["metadata"]["signature_def"]["signature_def"]["serving_default"]["inputs"]
    assert inputs == {"s": {"dtype": "DT_STRING", "name": "s:0"}}
