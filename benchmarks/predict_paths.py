"""The ways :mod:`benchmarks.serving_bench` answers one predict, each a call that raises on failure.

Only the benchmark's main process imports this module (it needs TensorFlow and the stand-in's
runtime); load-client processes import :mod:`benchmarks.load_clients` alone.

gRPC requests are built once per request size, as a ``tensorflow-serving-api`` user builds them
by default: ``request.inputs[key].CopyFrom(tf.make_tensor_proto(array))``, which writes the
array's bytes to ``tensor_content``. ``--grpc-encoding=float_val`` writes the typed field
instead (one packed float per value), which some hand-written clients send.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from benchmarks.load_clients import MODEL_NAME, GrpcClient, RestClient

if TYPE_CHECKING:
    import numpy as np

    from fashion.serving.runtime.servable import Servable

__all__ = ["GRPC_ENCODINGS", "Case", "GrpcEncoding", "Paths", "make_case"]

GrpcEncoding = Literal["tensor_content", "float_val"]
GRPC_ENCODINGS: tuple[GrpcEncoding, ...] = ("tensor_content", "float_val")
_SIGNATURE = "serving_default"
_BACKGROUND = 40  # pixels darker than this become 0: a black background, as in Fashion-MNIST


@dataclass(frozen=True)
class Case:
    """One request size: the array, and the bodies the REST and gRPC clients send for it.

    Attributes:
        array: the images, float32 ``[N, 28, 28, 1]``.
        json_body: the row-format ``{"instances": ...}`` REST body.
        grpc_body: the serialized ``PredictRequest``.
    """

    array: np.ndarray
    json_body: bytes
    grpc_body: bytes


def make_case(count: int, input_key: str, encoding: GrpcEncoding) -> Case:
    """``count`` synthetic Fashion-MNIST-like images and their REST and gRPC requests."""
    import numpy as np
    import tensorflow as tf
    from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorflow_serving.apis import predict_pb2

    from fashion.preprocess import instances_body, scale_images
    from fashion.synthetic import make_synthetic_split

    raw, _ = make_synthetic_split(count, seed=3)
    images = scale_images(np.where(raw < _BACKGROUND, 0, raw).astype(np.uint8))
    if encoding == "tensor_content":
        tensor = tf.make_tensor_proto(images)
    else:
        tensor = tensor_pb2.TensorProto(
            dtype=types_pb2.DT_FLOAT,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(
                dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=size) for size in images.shape]
            ),
        )
        tensor.float_val.extend(images.reshape(-1).tolist())
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.model_spec.signature_name = _SIGNATURE
    request.inputs[input_key].CopyFrom(tensor)
    return Case(images, json.dumps(instances_body(images)).encode(), request.SerializeToString())


class Paths:
    """In-process calls, the two front doors' handler work without transport, and the stand-in
    over REST and over gRPC.

    Args:
        servable: the version loaded in this process with the stand-in's own loader.
        rest_port: the stand-in's ``--rest_api_port``.
        grpc_port: the stand-in's ``--port``.
    """

    def __init__(self, servable: Servable, rest_port: int, grpc_port: int) -> None:
        signature = servable.signatures[_SIGNATURE]
        self._servable = servable
        self._inputs = {key: tensor.dtype for key, tensor in signature.inputs.items()}
        self._outputs = {key: tensor.dtype for key, tensor in signature.outputs.items()}
        self.input_key = next(iter(self._inputs))
        self._rest = RestClient(rest_port)
        self._grpc = GrpcClient(grpc_port)

    def in_process(self, case: Case) -> dict[str, np.ndarray]:
        """The signature called with the array, as a Python program holding the model would."""
        return self._servable.run(_SIGNATURE, {self.input_key: case.array})

    def json_call(self, case: Case) -> dict[str, np.ndarray]:
        """The REST handler's decode (the stand-in's JSON codec), then the signature call."""
        from fashion.serving.codec.predict_request import decode_inputs, read_predict_request

        request = read_predict_request(case.json_body)
        decoded = decode_inputs(request, self._inputs)
        return self._servable.run(request.signature_key, decoded.tensors)

    def json_call_encode(self, case: Case) -> bytes:
        """:meth:`json_call` plus the REST handler's response encoder: REST minus HTTP."""
        from fashion.serving.codec.predict_response import encode_predict_response

        return encode_predict_response(self.json_call(case), self._outputs, True)

    def proto_call_encode(self, case: Case) -> bytes:
        """What the gRPC ``Predict`` handler does, minus gRPC: parse the ``PredictRequest``,
        TensorProtos to arrays, ``run_predict``, arrays to TensorProtos, serialize the response.

        The session runs without a deadline here; the server's run has the client's.
        """
        from tensorflow_serving.apis import predict_pb2

        from fashion.serving.runtime.predict import run_predict
        from fashion.serving.runtime.tensor_proto import tensor_from_proto, tensor_to_proto

        request = predict_pb2.PredictRequest.FromString(case.grpc_body)
        feeds = {alias: tensor_from_proto(proto, alias) for alias, proto in request.inputs.items()}
        prediction = run_predict(
            self._servable,
            request.model_spec.signature_name,
            feeds,
            output_filter=list(request.output_filter),
        )
        response = predict_pb2.PredictResponse()
        response.model_spec.CopyFrom(request.model_spec)
        for alias, tensor in prediction.outputs.items():
            response.outputs[alias].CopyFrom(tensor_to_proto(tensor))
        return response.SerializeToString()

    def rest(self, case: Case) -> bytes:
        """The stand-in over HTTP: one keep-alive ``http.client`` POST."""
        return self._rest.send(case.json_body)

    def grpc(self, case: Case) -> bytes:
        """The stand-in over gRPC: the pre-serialized request, the response left as bytes."""
        return self._grpc.send(case.grpc_body)

    def check_answers(self, case: Case) -> None:
        """Both front doors must answer what the in-process call answers before their timings
        mean anything.

        Raises:
            RuntimeError: naming the front door whose outputs differ.
        """
        import numpy as np
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        expected = self.in_process(case)
        predictions = json.loads(self.rest(case))["predictions"]
        if len(expected) == 1:  # row format: one output is written bare, several as objects
            predictions = [{next(iter(expected)): row} for row in predictions]
        grpc = predict_pb2.PredictResponse.FromString(self.grpc(case))
        answers = {
            "REST": {key: np.asarray([row[key] for row in predictions]) for key in expected},
            "gRPC": {key: tf.make_ndarray(proto) for key, proto in grpc.outputs.items()},
        }
        for door, outputs in answers.items():
            if sorted(outputs) != sorted(expected) or not all(
                np.allclose(outputs[key], value, rtol=1e-5, atol=1e-6)
                for key, value in expected.items()
            ):
                raise RuntimeError(
                    f"the stand-in's {door} outputs differ from the in-process call "
                    f"({len(case.array)} instances)"
                )

    def close(self) -> None:
        self._rest.close()
        self._grpc.close()
