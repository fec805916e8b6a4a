"""What the server should answer: the same request run in-process, through the same code.

A version is loaded with the stand-in's :class:`~fashion.serving.runtime.servable.Servable`,
i.e. TensorFlow's TF1 session loader, the loader TF Serving's C++ server uses; a body is decoded
by the stand-in's codec exactly as TF Serving decodes JSON (``json_tensor.cc``), run by tensor
names, and encoded back as TF Serving writes its answers. The steps are those of the stand-in's
REST handlers, in their order, without the HTTP and the model manager around them. Imports
TensorFlow.
"""

from __future__ import annotations

import json

from fashion.check.compare import Answer
from fashion.serving.codec.examples_request import read_examples_request
from fashion.serving.codec.examples_response import (
    encode_classify_response,
    encode_regress_response,
)
from fashion.serving.codec.predict_request import decode_inputs, read_predict_request
from fashion.serving.codec.predict_response import encode_predict_response
from fashion.serving.runtime.example_inference import classify, regress
from fashion.serving.runtime.predict import run_predict
from fashion.serving.runtime.servable import Servable
from fashion.serving.status import Code, ServingStatusError

__all__ = ["Reference"]


class Reference:
    """One version loaded in-process; answers requests as TF Serving would.

    Use :meth:`load`; call :meth:`close` (or use it as a context manager) to free the session.
    """

    def __init__(self, servable: Servable) -> None:
        self.servable = servable

    @classmethod
    def load(cls, export_dir: str) -> Reference:
        """Load a version directory with the session loader (no warm-up replay).

        Raises:
            ServingStatusError: the load failed, with TensorFlow's code and text.
        """
        return cls(Servable.load(export_dir))

    def __enter__(self) -> Reference:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the session."""
        self.servable.close()

    def output_dtypes(self, signature_name: str) -> dict[str, str]:
        """Output alias -> dtype of the tensor the graph produces (not the declared one)."""
        return dict(self.servable.output_dtypes(signature_name))

    def answer(self, api: str, body: bytes) -> Answer:
        """Answer a ``predict``, ``classify`` or ``regress`` body."""
        if api == "predict":
            return self._predict(body)
        try:
            request = read_examples_request(body)
        except ServingStatusError as exc:
            return Answer.failed(exc, "decode")
        infer = classify if api == "classify" else regress
        try:
            results = infer(
                self.servable,
                request.signature_key,
                request.examples,
                timeout_ms=None,
                check_method_name=False,
            )
        except ServingStatusError as exc:
            return Answer.failed(exc, "run")
        try:
            encoded = (
                encode_classify_response(results)  # type: ignore[arg-type]
                if api == "classify"
                else encode_regress_response(results)  # type: ignore[arg-type]
            )
        except ServingStatusError as exc:
            return Answer.failed(exc, "encode")
        return Answer(body=json.loads(encoded))

    def _predict(self, body: bytes) -> Answer:
        try:
            request = read_predict_request(body)
            info = self.servable.signatures.get(request.signature_key)
            if info is None:
                raise ServingStatusError(
                    Code.INVALID_ARGUMENT,
                    f'Serving signature name: "{request.signature_key}" not found in signature def',
                )
            decoded = decode_inputs(request, {key: t.dtype for key, t in info.inputs.items()})
        except ServingStatusError as exc:
            return Answer.failed(exc, "decode")
        try:
            prediction = run_predict(self.servable, request.signature_key, decoded.tensors)
        except ServingStatusError as exc:
            return Answer.failed(exc, "run")
        try:
            encoded = encode_predict_response(
                prediction.outputs, prediction.output_dtypes, decoded.row_format
            )
        except ServingStatusError as exc:
            failed = Answer.failed(exc, "encode")
            return Answer(
                status=failed.status, error=failed.error, stage="encode", outputs=prediction.outputs
            )
        return Answer(body=json.loads(encoded), outputs=prediction.outputs)
