"""The REST API's handlers: decode, ask the model manager, encode. Nothing else.

Each handler takes a routed request and its body and returns the response body, or raises
:class:`~fashion.serving.status.ServingStatusError` with TF Serving's code and text. They are
plain blocking functions: the HTTP layer runs them on its worker pool, so a TensorFlow session
run never blocks the event loop (TF releases the GIL while it computes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from fashion.serving.codec.examples_request import read_examples_request
from fashion.serving.codec.examples_response import (
    encode_classify_response,
    encode_regress_response,
)
from fashion.serving.codec.predict_request import decode_inputs, read_predict_request
from fashion.serving.codec.predict_response import encode_predict_response
from fashion.serving.codec.proto_json import encode_model_metadata, encode_model_status
from fashion.serving.models.manager import ModelManager
from fashion.serving.monitoring.metrics import Metrics
from fashion.serving.rest.routes import Route
from fashion.serving.runtime.example_inference import classify, regress
from fashion.serving.runtime.predict import run_predict
from fashion.serving.runtime.servable import Servable
from fashion.serving.status import Code, ServingStatusError

__all__ = ["RestHandlers"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class RestHandlers:
    """The handlers, bound to one model manager and the REST-related flags.

    Attributes:
        manager: resolves and holds the versions.
        metrics: where runtime latencies go.
        timeout_ms: ``--rest_api_timeout_in_ms`` (None or <= 0: no deadline).
        check_method_name: ``--enable_signature_method_name_check``.
    """

    manager: ModelManager[Servable]
    metrics: Metrics
    timeout_ms: int | None = None
    check_method_name: bool = False

    @property
    def _deadline(self) -> int | None:
        return self.timeout_ms if self.timeout_ms and self.timeout_ms > 0 else None

    def predict(self, route: Route, body: bytes) -> bytes:
        """``POST .../{model}[/versions/{v}|/labels/{l}]:predict``, in ``ProcessPredictRequest``'s
        order."""
        request = read_predict_request(body)
        with self.manager.acquire(route.model_name, route.version, route.label) as handle:
            info = handle.servable.signatures.get(request.signature_key)
            if info is None:
                raise ServingStatusError(
                    Code.INVALID_ARGUMENT,
                    f'Serving signature name: "{request.signature_key}" not found in signature def',
                )
            if not info.inputs:
                raise ServingStatusError(
                    Code.INVALID_ARGUMENT,
                    f"Failed to get input map for signature: {request.signature_name or 'DEFAULT'}",
                )
            decoded = decode_inputs(request, {key: t.dtype for key, t in info.inputs.items()})
            with self.metrics.runtime_latency(route.model_name, "Predict"):
                prediction = run_predict(
                    handle.servable,
                    request.signature_key,
                    decoded.tensors,
                    timeout_ms=self._deadline,
                    check_method_name=self.check_method_name,
                )
        return encode_predict_response(
            prediction.outputs, prediction.output_dtypes, decoded.row_format
        )

    def classify(self, route: Route, body: bytes) -> bytes:
        """``POST ...:classify``: the whole body is checked before the model is looked up."""
        return encode_classify_response(self._on_examples(route, body, classify, "Classify"))

    def regress(self, route: Route, body: bytes) -> bytes:
        """``POST ...:regress`` (``json_tensor.cc``, ``classifier.cc``, ``regressor.cc``)."""
        return encode_regress_response(self._on_examples(route, body, regress, "Regress"))

    def _on_examples(self, route: Route, body: bytes, infer: Callable[..., _T], api: str) -> _T:
        """Read an examples body, then run ``infer`` (classify or regress) on the version."""
        request = read_examples_request(body)
        with (
            self.manager.acquire(route.model_name, route.version, route.label) as handle,
            self.metrics.runtime_latency(route.model_name, api),
        ):
            return infer(
                handle.servable, request.signature_key, request.examples,
                timeout_ms=self._deadline, check_method_name=self.check_method_name,
            )  # fmt: skip

    def status(self, route: Route, body: bytes) -> bytes:
        """``GET /v1/models/{model}[/versions/{v}]``; a label in the path is ignored there."""
        return encode_model_status(self.manager.model_status(route.model_name, route.version))

    def metadata(self, route: Route, body: bytes) -> bytes:
        """``GET .../metadata`` (``get_model_metadata_impl.cc``)."""
        with self.manager.acquire(route.model_name, route.version, route.label) as handle:
            return encode_model_metadata(
                route.model_name, handle.version, handle.servable.signature_defs
            )
