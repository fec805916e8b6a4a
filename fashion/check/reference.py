"""What the server should answer: the same request run in-process, through the same code.

A version is loaded with the stand-in's :class:`~fashion.serving.runtime.servable.Servable`,
i.e. TensorFlow's TF1 session loader, the loader TF Serving's C++ server uses; a body is decoded
by the stand-in's codec exactly as TF Serving decodes JSON (``json_tensor.cc``), run by tensor
names, and encoded back as TF Serving writes its answers. The steps are those of the stand-in's
REST handlers, in their order, without the HTTP and the model manager around them. Each answer
also keeps what the run was fed and what it produced before JSON, which is what a gRPC request
sends and a gRPC answer carries; tensors no JSON can carry are run as they are
(:meth:`Reference.answer_tensors`, the steps of the gRPC Predict handler). Imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence

import numpy as np

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
from fashion.serving.runtime.servable import LoadOptions, Servable
from fashion.serving.status import Code, ServingStatusError

__all__ = ["Reference"]


class Reference:
    """One version loaded in-process; answers requests as TF Serving would.

    Use :meth:`load`; call :meth:`close` (or use it as a context manager) to free the session.
    """

    def __init__(self, servable: Servable) -> None:
        self.servable = servable

    @classmethod
    def load(cls, export_dir: str, tags: Sequence[str] = ("serve",)) -> Reference:
        """Load a version directory's ``tags`` MetaGraph with the session loader (no warm-up
        replay), as the server loads it under ``--saved_model_tags``.

        Raises:
            ServingStatusError: the load failed, with TensorFlow's code and text.
        """
        return cls(Servable.load(export_dir, LoadOptions(tags=tuple(tags))))

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
        fed = list(request.examples)
        try:
            results = infer(
                self.servable,
                request.signature_key,
                request.examples,
                timeout_ms=None,
                check_method_name=False,
            )
        except ServingStatusError as exc:
            return _with(Answer.failed(exc, "run"), inputs=fed)
        plain = _plain_results(api, results)
        try:
            encoded = (
                encode_classify_response(results)  # type: ignore[arg-type]
                if api == "classify"
                else encode_regress_response(results)  # type: ignore[arg-type]
            )
        except ServingStatusError as exc:
            return _with(Answer.failed(exc, "encode"), inputs=fed, results=plain)
        return Answer(body=json.loads(encoded), inputs=fed, results=plain)

    def answer_tensors(self, signature_name: str, tensors: Mapping[str, np.ndarray]) -> Answer:
        """Run a predict signature on tensors as they are, as the gRPC Predict handler does.

        For requests no JSON body can carry (half, bfloat16, complex, uint16 inputs, or a
        signature without inputs); the answer has no body.
        """
        feeds = dict(tensors)
        try:
            prediction = run_predict(self.servable, signature_name, feeds)
        except ServingStatusError as exc:
            return _with(Answer.failed(exc, "run"), inputs=feeds)
        return Answer(outputs=prediction.outputs, inputs=feeds)

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
        fed = decoded.tensors
        try:
            prediction = run_predict(self.servable, request.signature_key, fed)
        except ServingStatusError as exc:
            return _with(Answer.failed(exc, "run"), inputs=fed)
        try:
            encoded = encode_predict_response(
                prediction.outputs, prediction.output_dtypes, decoded.row_format
            )
        except ServingStatusError as exc:
            return _with(Answer.failed(exc, "encode"), outputs=prediction.outputs, inputs=fed)
        return Answer(body=json.loads(encoded), outputs=prediction.outputs, inputs=fed)


def _with(answer: Answer, **fields: object) -> Answer:
    return dataclasses.replace(answer, **fields)  # type: ignore[arg-type]


def _plain_results(api: str, results: object) -> list:
    """Classify: per example, ``[label, score]`` pairs (labels as a gRPC answer decodes them);
    regress: the values."""
    if api == "classify":
        return [
            [[label.decode("utf-8", "replace"), score] for label, score in classes]
            for classes in results  # type: ignore[attr-defined]
        ]
    return [float(value) for value in results]  # type: ignore[attr-defined]
