"""gRPC for the process-level tests: channels and stubs, hand-built Predict requests, the raw
reading of an answer (its error, its tensors), the reliability load's transport.

The tests speak to ``PredictionService`` through TF Serving's own stubs rather than
``fashion.clients.grpc.GrpcServingClient``, because they need what a client hides: requests built
field by field (a TensorProto no client would write) and the raw status of every answer.

Imports TensorFlow (TF Serving's message classes live in the ``tensorflow`` package) and grpcio.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2
from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_service_pb2_grpc

from tests.support import QUICK_REQUEST_TIMEOUT, REQUEST_TIMEOUT
from tests.support.traffic import Outcome, Send, VersionMatcher
from tests.support.transports import Transport

if TYPE_CHECKING:
    from fashion.testing.served import ServedModelServer

__all__ = [
    "CHANNEL_OPTIONS",
    "GrpcPredict",
    "ask_for_version",
    "live_stub",
    "open_channel",
    "parsed_tensor",
    "predict_request",
    "rpc_error",
]

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


def ask_for_version(
    spec: model_pb2.ModelSpec, *, version: int | None = None, version_label: str = ""
) -> None:
    """Points ``spec`` at ``version`` or at ``version_label``; neither leaves it on the latest."""
    if version is not None:
        spec.version.value = version
    if version_label:
        spec.version_label = version_label


def predict_request(
    model_name: str,
    inputs: Mapping[str, np.ndarray | tensor_pb2.TensorProto],
    *,
    signature_name: str = "",
    version: int | None = None,
    version_label: str = "",
) -> predict_pb2.PredictRequest:
    """A PredictRequest for ``model_name``: its latest version unless ``version`` or
    ``version_label`` names one. Arrays are converted with ``tf.make_tensor_proto`` (typed fields
    for small arrays, ``tensor_content`` for large ones)."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    ask_for_version(request.model_spec, version=version, version_label=version_label)
    for name, value in inputs.items():
        proto = value if isinstance(value, tensor_pb2.TensorProto) else tf.make_tensor_proto(value)
        request.inputs[name].CopyFrom(proto)
    return request


def live_stub(
    server: ServedModelServer, channel: grpc.Channel
) -> prediction_service_pb2_grpc.PredictionServiceStub:
    """A PredictionService stub on ``channel``; fails at once, with the log, if ``server`` died."""
    server.assert_alive()
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


def rpc_error(call: Callable[..., Any], request: Any) -> grpc.RpcError:
    """The error ``call(request)`` fails with; the test fails if it answers instead."""
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=REQUEST_TIMEOUT)
    return caught.value


def parsed_tensor(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """TensorFlow's own reading of an output proto: either encoding (typed fields or
    ``tensor_content``), strings included, so a test need not know which one the server chose."""
    dtype = tf.dtypes.as_dtype(proto.dtype)
    value = tf.raw_ops.ParseTensor(serialized=proto.SerializeToString(), out_type=dtype)
    return np.array(value.numpy(), dtype=object) if dtype == tf.string else value.numpy()


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
