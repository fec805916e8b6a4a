"""gRPC for the reliability tests: channels, hand-built Predict requests, the load's transport.

The tests speak to ``PredictionService`` through TF Serving's own stubs rather than
``fashion.clients.grpc.GrpcServingClient``, because they need what a client hides: requests built
field by field (a TensorProto no client would write) and the raw status of every answer.

Imports TensorFlow (TF Serving's message classes live in the ``tensorflow`` package) and grpcio.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from tests.support import QUICK_REQUEST_TIMEOUT
from tests.support.traffic import Outcome, Send, VersionMatcher
from tests.support.transports import Transport

__all__ = ["CHANNEL_OPTIONS", "GrpcPredict", "open_channel", "predict_request"]

#: Options of every test channel.
CHANNEL_OPTIONS: list[tuple[str, int]] = [
    # Requests of many megabytes are sent on purpose; TF Serving sets no limit either (server.cc).
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
    # A connection of its own: channels to one target otherwise share one TCP connection
    # through gRPC's global subchannel pool, and a load's clients would not be separate clients.
    ("grpc.use_local_subchannel_pool", 1),
]

#: The output of the fashion model's signature.
_OUTPUT = "probabilities"


@contextmanager
def open_channel(target: str) -> Iterator[grpc.Channel]:
    """A channel with :data:`CHANNEL_OPTIONS`, closed on exit."""
    channel = grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
    try:
        yield channel
    finally:
        channel.close()


def predict_request(
    model_name: str,
    inputs: Mapping[str, np.ndarray | tensor_pb2.TensorProto],
    *,
    signature_name: str = "",
) -> predict_pb2.PredictRequest:
    """A PredictRequest for the latest version of ``model_name``; arrays are converted with
    ``tf.make_tensor_proto`` (typed fields for small arrays, ``tensor_content`` for large ones)."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    for name, value in inputs.items():
        proto = value if isinstance(value, tensor_pb2.TensorProto) else tf.make_tensor_proto(value)
        request.inputs[name].CopyFrom(proto)
    return request


@dataclass(frozen=True)
class GrpcPredict:
    """Calls ``PredictionService/Predict`` with ``request`` on a channel per client thread.

    Attributes:
        target: ``host:port`` of the gRPC API.
        request: the request every call sends.
        matcher: judges the ``probabilities`` output of each answer.
        timeout: each call's deadline, in seconds.
    """

    target: str
    request: predict_pb2.PredictRequest
    matcher: VersionMatcher
    timeout: float = QUICK_REQUEST_TIMEOUT
    name: Transport = "grpc"

    @contextmanager
    def connect(self) -> Iterator[Send]:
        """A channel (so a TCP connection) of its own, closed when the thread is done."""
        with open_channel(self.target) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)

            def send() -> Outcome:
                try:
                    response = stub.Predict(self.request, timeout=self.timeout)
                except grpc.RpcError as exc:
                    code = exc.code().name if isinstance(exc, grpc.Call) else "?"
                    details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
                    return Outcome(failure=f"gRPC {code}: {details}")
                if _OUTPUT not in response.outputs:
                    return Outcome(failure=f"no {_OUTPUT!r} output: {sorted(response.outputs)}")
                snippet = str(response.outputs[_OUTPUT])[:200]
                return self.matcher.judge_rows(tf.make_ndarray(response.outputs[_OUTPUT]), snippet)

            yield send
