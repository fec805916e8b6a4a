"""A gRPC client for TensorFlow Serving with the REST client's surface and error family.

Built on TF Serving's own stubs (``tensorflow_serving.apis``: ``PredictionServiceStub``,
``ModelServiceStub``), so it speaks to the real ``tensorflow_model_server`` and the stand-in
alike. It answers in the REST client's terms, so a test can run one scenario over both
transports and compare: state and error-code names as strings (``"AVAILABLE"``, ``"OK"``),
metadata as the JSON dict REST returns, and a failed RPC as a
:class:`~fashion.clients.errors.ServingError` whose ``status_code`` is the HTTP status REST
answers for the same TF status code.

The channel, the deadline on each RPC and the translation of ``grpc.RpcError`` (which never
leaks; it is the ``__cause__``) belong to the base class, in
:mod:`fashion.clients.grpc_connection`, whose docstring lists what each failure raises; this
module keeps to the model's RPCs.

Importing this module imports TensorFlow: the message classes live in the ``tensorflow``
package. So nothing imports it until gRPC is used: the CLI, the demo and
``ServedModelServer.grpc_client`` import it inside the call, and :mod:`fashion.clients` hands
out :class:`GrpcServingClient` on first access.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from tensorflow.core.framework import tensor_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_pb2,
    predict_pb2,
    regression_pb2,
)
from tensorflow_serving.config import model_server_config_pb2

from fashion.clients.arguments import (
    DEFAULT_TIMEOUT,
    check_grpc_target,
    check_timeout,
    check_version_choice,
)
from fashion.clients.errors import ServingProtocolError
from fashion.clients.grpc_connection import GrpcConnection
from fashion.clients.grpc_messages import (
    DEFAULT_SIGNATURE,
    Example,
    Result,
    as_rest_json,
    classes,
    example_input,
    feeds,
    inference_results,
    output_arrays,
    predict_request,
    regression_values,
    reload_config_request,
    version_statuses,
)
from fashion.clients.version_status import VersionStatus, wait_until_version_available

__all__ = ["GrpcServingClient"]

_SIGNATURE_DEF = "signature_def"
_METHODS = {"classify": "tensorflow/serving/classify", "regress": "tensorflow/serving/regress"}


class GrpcServingClient(GrpcConnection):
    """Talks to one model on one TF Serving gRPC endpoint.

    Args:
        target: ``host:port`` (TF Serving's ``--port``) or ``unix:/path``
            (``--grpc_socket_path``).
        model_name: the served model's name.
        timeout: seconds for each RPC (its gRPC deadline).

    Use as a context manager, or call :meth:`close`, to close the channel.

    Raises:
        ValueError: a bad ``target``, an empty ``model_name`` or a ``timeout`` that is not a
            positive number of seconds (found here, not at the first call).
    """

    def __init__(self, target: str, model_name: str, *, timeout: float = DEFAULT_TIMEOUT):
        check_grpc_target(target)
        if not model_name:
            raise ValueError("the model name is empty")
        check_timeout(timeout)
        super().__init__(target, timeout)
        self.model_name = model_name
        # Signatures by version number, to name a lone input tensor without asking each time. A
        # version's signatures do not change while it is served; what the latest version or a
        # label names does (a hot load, a config reload), so those are asked every time.
        self._signatures: dict[int, dict[str, meta_graph_pb2.SignatureDef]] = {}

    def model_spec(
        self,
        *,
        version: int | None = None,
        label: str | None = None,
        signature_name: str | None = None,
    ) -> model_pb2.ModelSpec:
        """This model's ``ModelSpec``, optionally pinned to a version or a label."""
        check_version_choice(version, label)
        spec = model_pb2.ModelSpec(name=self.model_name, signature_name=signature_name or "")
        if version is not None:
            spec.version.value = version
        elif label is not None:
            spec.version_label = label
        return spec

    def predict(
        self,
        inputs: Any | Mapping[str, Any],
        *,
        version: int | None = None,
        label: str | None = None,
        signature_name: str | None = None,
        output_filter: Sequence[str] | None = None,
    ) -> np.ndarray | dict[str, np.ndarray]:
        """``PredictionService/Predict``.

        Args:
            inputs: an array for a signature with one input (its name is read from the model's
                metadata), or a dict of arrays by input name. As REST does with JSON numbers,
                values are cast to the dtype the signature declares when the cast is of the
                same kind (float64 to float32, int to float).
            version: ask this version (default: the latest).
            label: ask the version with this label.
            signature_name: default ``serving_default``.
            output_filter: fetch only these outputs.

        Returns:
            The output as an array (its own dtype; strings as bytes) when one output answered,
            else a dict of arrays by output name.

        Raises:
            ValueError: an array for a signature without exactly one input.
            ServingError: any failure of the RPCs (see :mod:`~fashion.clients.grpc_connection`).
                ``GetModelMetadata`` is asked first, so an unknown model, version or label fails
                there, with the same status and text Predict gives (both resolve the spec alike,
                ``server_core.cc``). It is asked on every call for the latest version or a
                label, whose signatures a hot load or a config reload may change; a version's
                are kept once an answer has named it (a pinned call, the latest, a label or
                :meth:`metadata`), so a pinned version is asked at most once.
        """
        self.model_spec(version=version, label=label)  # a bad choice fails before any RPC
        signature = self._signature(signature_name or DEFAULT_SIGNATURE, version, label)
        response = self.predict_response(
            feeds(inputs, signature, signature_name),
            version=version,
            label=label,
            signature_name=signature_name,
            output_filter=output_filter,
        )
        if not response.outputs:
            raise ServingProtocolError(f"Predict at {self.target} answered no outputs")
        try:
            arrays = output_arrays(response.outputs)
        except ValueError as exc:
            raise ServingProtocolError(
                f"Predict at {self.target} answered a tensor that does not decode ({exc})"
            ) from exc
        return next(iter(arrays.values())) if len(arrays) == 1 else arrays

    def predict_response(
        self,
        inputs: Mapping[str, tensor_pb2.TensorProto | Any],
        *,
        version: int | None = None,
        label: str | None = None,
        signature_name: str | None = None,
        output_filter: Sequence[str] | None = None,
    ) -> predict_pb2.PredictResponse:
        """``PredictionService/Predict`` as it is: one RPC, the whole response.

        Unlike :meth:`predict`, nothing is asked first and nothing is cast: each input goes as
        the TensorProto given, or as ``tf.make_tensor_proto`` makes it of an array (its own
        dtype), which is what a production client sends. The response keeps each output's
        dtype and shape, and the ``model_spec`` the server answered with.

        Raises:
            ServingError: the RPC failed (see :mod:`~fashion.clients.grpc_connection`).
        """
        spec = self.model_spec(version=version, label=label, signature_name=signature_name)
        request = predict_request(spec, inputs, output_filter)
        return self._call("Predict", self._prediction.Predict, request)

    def _signature(
        self, signature_name: str, version: int | None, label: str | None
    ) -> meta_graph_pb2.SignatureDef | None:
        if version is not None and version in self._signatures:
            return self._signatures[version].get(signature_name)
        return self._signature_map(version, label)[1].get(signature_name)

    def _signature_map(
        self, version: int | None, label: str | None
    ) -> tuple[
        get_model_metadata_pb2.GetModelMetadataResponse, dict[str, meta_graph_pb2.SignatureDef]
    ]:
        request = get_model_metadata_pb2.GetModelMetadataRequest(
            model_spec=self.model_spec(version=version, label=label),
            metadata_field=[_SIGNATURE_DEF],
        )
        response = self._call("GetModelMetadata", self._prediction.GetModelMetadata, request)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        packed = response.metadata
        if _SIGNATURE_DEF not in packed or not packed[_SIGNATURE_DEF].Unpack(signatures):
            raise ServingProtocolError(
                f"GetModelMetadata at {self.target} answered no SignatureDefMap under "
                f"{_SIGNATURE_DEF!r}: {sorted(response.metadata)}"
            )
        answered = version if version is not None else response.model_spec.version.value
        if answered:  # kept under the version that answered, whatever named it
            self._signatures[answered] = dict(signatures.signature_def)
        return response, dict(signatures.signature_def)

    def metadata(self, *, version: int | None = None, label: str | None = None) -> dict[str, Any]:
        """``GetModelMetadata``, as the dict REST's ``GET .../metadata`` answers.

        ``{"model_spec": {...}, "metadata": {"signature_def": {"signature_def": {...}}}}``,
        printed as TF Serving's REST layer prints it (proto field names, fields without presence
        included, int64 as strings), so the two transports' answers compare equal.
        """
        response, signatures = self._signature_map(version, label)
        signature_map = get_model_metadata_pb2.SignatureDefMap(signature_def=signatures)
        return {
            "model_spec": as_rest_json(response.model_spec),
            "metadata": {_SIGNATURE_DEF: as_rest_json(signature_map)},
        }

    def metadata_response(
        self, *, version: int | None = None, label: str | None = None
    ) -> tuple[
        get_model_metadata_pb2.GetModelMetadataResponse, get_model_metadata_pb2.SignatureDefMap
    ]:
        """``GetModelMetadata`` as it is: the response, and the ``SignatureDefMap`` unpacked.

        Raises:
            ServingError: the RPC failed, or the answer has no ``signature_def`` map.
        """
        response, signatures = self._signature_map(version, label)
        return response, get_model_metadata_pb2.SignatureDefMap(signature_def=signatures)

    def status(self, version: int | None = None) -> list[VersionStatus]:
        """``ModelService/GetModelStatus``: the versions as the server orders them."""
        request = get_model_status_pb2.GetModelStatusRequest(
            model_spec=self.model_spec(version=version)
        )
        response = self._call("GetModelStatus", self._models.GetModelStatus, request)
        try:
            return version_statuses(response)
        except (KeyError, ValueError) as exc:
            raise ServingProtocolError(
                f"GetModelStatus at {self.target} answered an unknown state or code: {exc}"
            ) from exc

    def wait_until_available(
        self, version: int | None = None, *, timeout: float = 60.0, interval: float = 0.1
    ) -> VersionStatus:
        """Poll GetModelStatus until ``version`` (or any) is AVAILABLE; REST's rules.

        See :func:`fashion.clients.version_status.wait_until_version_available`.
        """
        return wait_until_version_available(
            self.status, self.model_name, version, timeout=timeout, interval=interval
        )

    def reload_config(self, config: model_server_config_pb2.ModelServerConfig | str) -> None:
        """``ModelService/HandleReloadConfigRequest``: replace the server's model list.

        Args:
            config: the new configuration, or its text format (a model config file's content).

        Raises:
            ValueError: ``config`` text that does not parse (before any RPC).
            ServingError: the server refused or failed the reload.
        """
        request = reload_config_request(config)
        response = self._call(
            "HandleReloadConfigRequest", self._models.HandleReloadConfigRequest, request
        )
        if response.status.error_code:  # TF Serving fails the RPC instead: a contradiction
            raise ServingProtocolError(
                f"HandleReloadConfigRequest at {self.target} answered OK with the status "
                f"{response.status.error_code}: {response.status.error_message}"
            )

    def classify(
        self,
        examples: Sequence[Example],
        *,
        signature_name: str | None = None,
        context: Example | None = None,
        version: int | None = None,
        label: str | None = None,
    ) -> list[list[tuple[str, float]]]:
        """``Classify``: per example, its ``(label, score)`` classes (REST's ``results``).

        Args:
            examples: ``tf.train.Example`` protos, or dicts of feature values as REST's JSON
                gives them (a float or floats: ``float_list``; ints: ``int64_list``; str or
                bytes: ``bytes_list``).
            signature_name: default ``serving_default``.
            context: features shared by every example.
            version: ask this version (default: the latest).
            label: ask the version with this label.
        """
        response = self.classify_response(
            examples, signature_name=signature_name, context=context, version=version, label=label
        )
        return classes(response.result)

    def classify_response(
        self,
        examples: Sequence[Example],
        *,
        signature_name: str | None = None,
        context: Example | None = None,
        version: int | None = None,
        label: str | None = None,
    ) -> classification_pb2.ClassificationResponse:
        """``Classify`` as it is: the whole response, with its ``model_spec``."""
        request = classification_pb2.ClassificationRequest(
            model_spec=self.model_spec(version=version, label=label, signature_name=signature_name),
            input=example_input(examples, context),
        )
        return self._call("Classify", self._prediction.Classify, request)

    def regress(
        self,
        examples: Sequence[Example],
        *,
        signature_name: str | None = None,
        context: Example | None = None,
        version: int | None = None,
        label: str | None = None,
    ) -> list[float]:
        """``Regress``: one value per example (REST's ``results``); arguments as ``classify``'s."""
        response = self.regress_response(
            examples, signature_name=signature_name, context=context, version=version, label=label
        )
        return regression_values(response.result)

    def regress_response(
        self,
        examples: Sequence[Example],
        *,
        signature_name: str | None = None,
        context: Example | None = None,
        version: int | None = None,
        label: str | None = None,
    ) -> regression_pb2.RegressionResponse:
        """``Regress`` as it is: the whole response, with its ``model_spec``."""
        request = regression_pb2.RegressionRequest(
            model_spec=self.model_spec(version=version, label=label, signature_name=signature_name),
            input=example_input(examples, context),
        )
        return self._call("Regress", self._prediction.Regress, request)

    def multi_inference(
        self,
        examples: Sequence[Example],
        tasks: Sequence[tuple[str, str]],
        *,
        context: Example | None = None,
        version: int | None = None,
        label: str | None = None,
    ) -> list[Result]:
        """``MultiInference``: several classify/regress signatures in one session run.

        Args:
            examples: as :meth:`classify`.
            tasks: ``(signature_name, method)`` pairs; method ``"classify"``, ``"regress"``, or a
                full method name, sent as is (the server refuses others with UNIMPLEMENTED).
            context: as :meth:`classify`.
            version: ask this version (TF Serving reads it from the first task only).
            label: ask the version with this label.

        Returns:
            One result per task, in order: :meth:`classify`'s or :meth:`regress`'s shape.
        """
        request = inference_pb2.MultiInferenceRequest(input=example_input(examples, context))
        for signature_name, method in tasks:
            request.tasks.add(
                model_spec=self.model_spec(
                    version=version, label=label, signature_name=signature_name
                ),
                method_name=_METHODS.get(method, method),
            )
        response = self._call("MultiInference", self._prediction.MultiInference, request)
        return inference_results(response)
