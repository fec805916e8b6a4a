"""``tensorflow.serving.PredictionService`` over the stand-in's model manager and runtime.

Each RPC follows its TF Serving counterpart (``prediction_service_impl.cc``): check the
``ModelSpec``, resolve the version, run the same code REST runs (``runtime.predict``,
``runtime.example_inference``, ``runtime.multi_inference``), and answer with the
``model_spec`` that ``MakeModelSpec`` fills in. The client's deadline becomes the session run's
timeout, as ``enforce_session_run_timeout`` does in the binary.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

import grpc
import numpy as np
from tensorflow.core.framework import tensor_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    inference_pb2,
    model_pb2,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from fashion.serving.grpc.model_specs import DEFAULT_SIGNATURE, acquire, response_spec
from fashion.serving.grpc.status import abort_with
from fashion.serving.models.manager import ModelManager
from fashion.serving.monitoring.metrics import Metrics
from fashion.serving.runtime.example_inference import classify, regress
from fashion.serving.runtime.multi_inference import InferenceTask, multi_inference
from fashion.serving.runtime.predict import run_predict
from fashion.serving.runtime.servable import Servable
from fashion.serving.runtime.tensor_proto import tensor_from_proto, tensor_to_proto
from fashion.serving.runtime.variant_outputs import VARIANT
from fashion.serving.status import Code, ServingStatusError

__all__ = ["PredictionService"]

_T = TypeVar("_T")
_R = TypeVar("_R")
_INT32_MAX = 2**31 - 1
_SIGNATURE_DEF = "signature_def"


def _session_timeout(context: grpc.ServicerContext) -> int:
    """The session run's timeout from the client's deadline (``DeadlineToTimeoutMillis``).

    No deadline gives INT32_MAX ms. The value is rounded up to a power of two: a session
    callable is made per timeout, and the client's own deadline ends the RPC on time anyway.
    """
    remaining = context.time_remaining()
    if remaining is None or remaining * 1000 >= _INT32_MAX:
        return _INT32_MAX
    millis = int(remaining * 1000)
    if millis <= 0:
        return 0
    return min(1 << (millis - 1).bit_length(), _INT32_MAX)


def _missing_spec() -> ServingStatusError:
    return ServingStatusError(Code.INVALID_ARGUMENT, "Missing ModelSpec")


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Predict, Classify, Regress, MultiInference and GetModelMetadata.

    Args:
        manager: resolves and holds the versions.
        metrics: where request counts and latencies go.
        check_method_name: ``--enable_signature_method_name_check``.
        serialize_as_tensor_content: ``--enable_serialization_as_tensor_content``.
    """

    def __init__(
        self,
        manager: ModelManager[Servable],
        metrics: Metrics,
        *,
        check_method_name: bool = False,
        serialize_as_tensor_content: bool = False,
    ) -> None:
        self._manager = manager
        self._metrics = metrics
        self._check = check_method_name
        self._as_content = serialize_as_tensor_content

    def _counted(
        self, api: str, model_name: str, context: grpc.ServicerContext, call: Callable[[], _T]
    ) -> _T:
        """Run ``call``; count it and time it as ``prediction_service_impl.cc`` does."""
        start = time.monotonic()
        try:
            response = call()
        except ServingStatusError as exc:
            self._metrics.count_request(model_name, exc.code.name)
            abort_with(context, exc)
            raise  # not reached: abort raises
        self._metrics.count_request(model_name, "OK")
        self._metrics.observe_request_latency(model_name, api, "GRPC", time.monotonic() - start)
        return response

    def Predict(
        self, request: predict_pb2.PredictRequest, context: grpc.ServicerContext
    ) -> predict_pb2.PredictResponse:
        """``TensorflowPredictor::Predict`` (``predict_impl.cc``, ``predict_util.cc``)."""

        def call() -> predict_pb2.PredictResponse:
            if not request.HasField("model_spec"):
                raise _missing_spec()
            spec = request.model_spec
            with acquire(self._manager, spec) as handle:
                feeds = _ProtoFeeds(request.inputs)
                with self._metrics.runtime_latency(spec.name, "Predict"):
                    prediction = run_predict(
                        handle.servable,
                        spec.signature_name,
                        feeds,
                        output_filter=list(request.output_filter),
                        timeout_ms=_session_timeout(context),
                        check_method_name=self._check,
                    )
                version = handle.version
            response = predict_pb2.PredictResponse(
                model_spec=response_spec(spec.name, version, prediction.signature_key)
            )
            for alias, tensor in prediction.outputs.items():
                tensor_to_proto(
                    tensor,
                    as_content=self._as_content,
                    into=response.outputs[alias],
                    variant=prediction.output_dtypes[alias] == VARIANT,
                )
            return response

        return self._counted("Predict", request.model_spec.name, context, call)

    def Classify(
        self, request: classification_pb2.ClassificationRequest, context: grpc.ServicerContext
    ) -> classification_pb2.ClassificationResponse:
        """``TensorflowClassificationServiceImpl::Classify`` (``classifier.cc``)."""

        def respond(
            spec: model_pb2.ModelSpec, results: list[list[tuple[bytes, float]]]
        ) -> classification_pb2.ClassificationResponse:
            response = classification_pb2.ClassificationResponse(model_spec=spec)
            _fill_classifications(response.result, results)
            return response

        return self._examples_rpc("Classify", classify, request, context, respond)

    def Regress(
        self, request: regression_pb2.RegressionRequest, context: grpc.ServicerContext
    ) -> regression_pb2.RegressionResponse:
        """``TensorflowRegressionServiceImpl::Regress`` (``regressor.cc``)."""

        def respond(
            spec: model_pb2.ModelSpec, values: list[float]
        ) -> regression_pb2.RegressionResponse:
            response = regression_pb2.RegressionResponse(model_spec=spec)
            for value in values:
                response.result.regressions.add(value=value)
            return response

        return self._examples_rpc("Regress", regress, request, context, respond)

    def _examples_rpc(
        self,
        api: str,
        infer: Callable[..., _R],
        request: classification_pb2.ClassificationRequest | regression_pb2.RegressionRequest,
        context: grpc.ServicerContext,
        respond: Callable[[model_pb2.ModelSpec, _R], _T],
    ) -> _T:
        """Classify and Regress alike: resolve, run the signature on the request's examples
        (``runtime.example_inference``), answer with the resolved ``model_spec``."""

        def call() -> _T:
            if not request.HasField("model_spec"):
                raise _missing_spec()
            spec = request.model_spec
            with acquire(self._manager, spec) as handle:
                with self._metrics.runtime_latency(spec.name, api):
                    results = infer(
                        handle.servable,
                        spec.signature_name or DEFAULT_SIGNATURE,
                        request.input,
                        timeout_ms=_session_timeout(context),
                        check_method_name=self._check,
                    )
                version = handle.version
            return respond(response_spec(spec.name, version, spec.signature_name), results)

        return self._counted(api, request.model_spec.name, context, call)

    def MultiInference(
        self, request: inference_pb2.MultiInferenceRequest, context: grpc.ServicerContext
    ) -> inference_pb2.MultiInferenceResponse:
        """``RunMultiInferenceWithServerCore``: the version comes from the first task's spec;
        nothing is counted in the request metrics (as in TF Serving)."""
        first = request.tasks[0].model_spec if request.tasks else None
        try:
            with acquire(self._manager, first or _EMPTY_SPEC) as handle:
                tasks = [
                    InferenceTask(t.model_spec.name, t.model_spec.signature_name, t.method_name)
                    for t in request.tasks
                ]
                results = multi_inference(
                    handle.servable,
                    tasks,
                    request.input,
                    timeout_ms=_session_timeout(context),
                    check_method_name=self._check,
                )
                version = handle.version
        except ServingStatusError as exc:
            abort_with(context, exc)
            raise
        self._metrics.count_examples(first.name if first else "", _example_count(request.input))
        response = inference_pb2.MultiInferenceResponse()
        for result in results:
            item = response.results.add(
                model_spec=response_spec(
                    result.task.model_name, version, result.task.signature_name
                )
            )
            if result.classifications is not None:
                _fill_classifications(item.classification_result, result.classifications)
            else:
                for value in result.regressions or ():
                    item.regression_result.regressions.add(value=value)
        return response

    def GetModelMetadata(
        self, request: get_model_metadata_pb2.GetModelMetadataRequest, context: grpc.ServicerContext
    ) -> get_model_metadata_pb2.GetModelMetadataResponse:
        """``GetModelMetadataImpl::GetModelMetadata``: fields checked before the model."""
        try:
            if not request.HasField("model_spec"):
                raise _missing_spec()
            if not request.metadata_field:
                raise ServingStatusError(
                    Code.INVALID_ARGUMENT,
                    "GetModelMetadataRequest must specify at least one metadata_field",
                )
            for field in request.metadata_field:
                if field != _SIGNATURE_DEF:
                    raise ServingStatusError(
                        Code.INVALID_ARGUMENT, f"Metadata field {field} is not supported"
                    )
            with acquire(self._manager, request.model_spec) as handle:
                signatures = get_model_metadata_pb2.SignatureDefMap()
                for name, signature in handle.servable.signature_defs.items():
                    signatures.signature_def[name].CopyFrom(signature)
                version = handle.version
        except ServingStatusError as exc:
            abort_with(context, exc)
            raise
        response = get_model_metadata_pb2.GetModelMetadataResponse(
            model_spec=response_spec(request.model_spec.name, version)
        )
        response.metadata[_SIGNATURE_DEF].Pack(signatures)
        return response


_EMPTY_SPEC = predict_pb2.PredictRequest().model_spec


class _ProtoFeeds(Mapping[str, np.ndarray]):
    """A request's inputs, each turned into a tensor when the signature check reaches it.

    ``predict_util.cc`` checks the signature, its method name and the number of inputs before
    ``GetInputValues`` parses any TensorProto, so a malformed input must not be reported first.
    """

    def __init__(self, protos: Mapping[str, tensor_pb2.TensorProto]) -> None:
        self._protos = protos
        self._tensors: dict[str, np.ndarray] = {}

    def __getitem__(self, alias: str) -> np.ndarray:
        if alias not in self._protos:  # a protobuf map would insert an empty proto instead
            raise KeyError(alias)
        tensor = self._tensors.get(alias)
        if tensor is None:
            tensor = self._tensors[alias] = tensor_from_proto(self._protos[alias], alias)
        return tensor

    def __iter__(self) -> Iterator[str]:
        return iter(self._protos)

    def __len__(self) -> int:
        return len(self._protos)


def _example_count(model_input: object) -> int:
    kind = model_input.WhichOneof("kind")  # type: ignore[attr-defined]
    if kind is None:
        return 0
    return len(getattr(model_input, kind).examples)


def _fill_classifications(
    result: classification_pb2.ClassificationResult,
    classifications: list[list[tuple[bytes, float]]],
) -> None:
    for classes in classifications:
        entry = result.classifications.add()
        for label, score in classes:
            entry.classes.add(label=label.decode("utf-8", "replace"), score=score)
