"""A scripted in-process gRPC server with TF Serving's two services and no model behind them.

Each test scripts what an RPC answers (a message, a status, raw bytes, or a function) and reads
what the client sent, so the gRPC client's requests and its handling of every answer are tested
without a server process. Imports TensorFlow (TF Serving's messages live in its package).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import Any

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf.message import Message
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_management_pb2,
    predict_pb2,
    regression_pb2,
)

__all__ = [
    "ScriptedServing",
    "metadata_answer",
    "predict_answer",
    "serving",
    "signature",
    "status_answer",
]

_REQUESTS: dict[str, tuple[str, type[Message]]] = {
    "Predict": ("PredictionService", predict_pb2.PredictRequest),
    "GetModelMetadata": ("PredictionService", get_model_metadata_pb2.GetModelMetadataRequest),
    "Classify": ("PredictionService", classification_pb2.ClassificationRequest),
    "Regress": ("PredictionService", regression_pb2.RegressionRequest),
    "MultiInference": ("PredictionService", inference_pb2.MultiInferenceRequest),
    "GetModelStatus": ("ModelService", get_model_status_pb2.GetModelStatusRequest),
    "HandleReloadConfigRequest": ("ModelService", model_management_pb2.ReloadConfigRequest),
}


class ScriptedServing:
    """What each RPC answers, and every request received, in order.

    An answer is a message, raw bytes (sent as they are), a ``(grpc.StatusCode, text)`` status,
    or a function of ``(request, context)`` returning one of those.
    """

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.received: list[tuple[str, Message]] = []

    def handle(self, rpc: str, request: Message, context: grpc.ServicerContext) -> Any:
        """Record ``request`` and answer it as scripted (UNIMPLEMENTED when not scripted)."""
        self.received.append((rpc, request))
        answer = self.answers.get(rpc, (grpc.StatusCode.UNIMPLEMENTED, f"no {rpc} scripted"))
        if callable(answer):
            answer = answer(request, context)
        if isinstance(answer, tuple):
            context.abort(*answer)
        return answer

    def requests(self, rpc: str) -> list[Any]:
        """The requests ``rpc`` received, in order."""
        return [request for name, request in self.received if name == rpc]


def _handlers(script: ScriptedServing) -> list[grpc.GenericRpcHandler]:
    by_service: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
    for rpc, (service, request_type) in _REQUESTS.items():
        by_service.setdefault(f"tensorflow.serving.{service}", {})[rpc] = (
            grpc.unary_unary_rpc_method_handler(
                lambda request, context, rpc=rpc: script.handle(rpc, request, context),
                request_deserializer=request_type.FromString,
                response_serializer=lambda m: m if isinstance(m, bytes) else m.SerializeToString(),
            )
        )
    return [grpc.method_handlers_generic_handler(s, m) for s, m in by_service.items()]


@contextmanager
def serving(script: ScriptedServing) -> Iterator[int]:
    """Serve ``script`` on 127.0.0.1, on a port picked by binding port 0; yields the port."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=_handlers(script))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port
    finally:
        server.stop(None)


def metadata_answer(version: int = 1, **signatures: meta_graph_pb2.SignatureDef) -> Any:
    """A GetModelMetadataResponse of model ``m``: these signatures, at this version."""
    answer = get_model_metadata_pb2.GetModelMetadataResponse()
    answer.model_spec.name = "m"
    answer.model_spec.version.value = version
    answer.metadata["signature_def"].Pack(
        get_model_metadata_pb2.SignatureDefMap(signature_def=signatures)
    )
    return answer


def signature(*inputs: str, dtype: int = tf.float32.as_datatype_enum) -> Any:
    """A predict SignatureDef with these inputs, all of one dtype."""
    return meta_graph_pb2.SignatureDef(
        inputs={name: meta_graph_pb2.TensorInfo(name=f"{name}:0", dtype=dtype) for name in inputs},
        method_name="tensorflow/serving/predict",
    )


def predict_answer(**outputs: Any) -> predict_pb2.PredictResponse:
    """A PredictResponse with these outputs, as float32 tensors."""
    answer = predict_pb2.PredictResponse()
    for name, value in outputs.items():
        answer.outputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(value, np.float32)))
    return answer


def status_answer(*versions: tuple[int, int] | tuple[int, int, int, str]) -> Any:
    """A GetModelStatusResponse: one entry per ``(version, state)`` or ``(version, state, error
    code, error message)``, in the order given (states and codes as the protos number them)."""
    answer = get_model_status_pb2.GetModelStatusResponse()
    for version, state, *error in versions:
        entry = answer.model_version_status.add(version=version, state=state)
        if error:
            entry.status.error_code, entry.status.error_message = error
    return answer
