"""``tensorflow.serving.ModelService``: model status and config reloads over gRPC.

``GetModelStatus`` answers from the same state record as REST's status API
(``get_model_status_impl.cc``); a version label in the spec is ignored, as there. A config
reload (``model_service_impl.cc``) accepts only a ``model_config_list`` and goes through the
same reloader as the config-file poller; a failed reload is the RPC's error status, so its
response is not sent.
"""

from __future__ import annotations

import grpc
from tensorflow_serving.apis import (
    get_model_status_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    status_pb2,
)

from fashion.serving.grpc.status import abort_with
from fashion.serving.logs import texts as log
from fashion.serving.models.manager import ModelManager
from fashion.serving.models.model_config import config_from_proto
from fashion.serving.models.reload import ConfigReloader
from fashion.serving.runtime.servable import Servable
from fashion.serving.status import Code, ServingStatusError

__all__ = ["ModelService"]


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    """GetModelStatus and HandleReloadConfigRequest.

    Args:
        manager: the state record of every version.
        reloader: applies new model configurations.
    """

    def __init__(self, manager: ModelManager[Servable], reloader: ConfigReloader[Servable]):
        self._manager = manager
        self._reloader = reloader

    def GetModelStatus(
        self, request: get_model_status_pb2.GetModelStatusRequest, context: grpc.ServicerContext
    ) -> get_model_status_pb2.GetModelStatusResponse:
        """Every version ever tracked (or the one asked for), highest first."""
        try:
            if not request.HasField("model_spec"):
                raise ServingStatusError(Code.INVALID_ARGUMENT, "Missing ModelSpec")
            spec = request.model_spec
            version = spec.version.value if spec.WhichOneof("version_choice") == "version" else None
            return self._manager.model_status(spec.name, version)
        except ServingStatusError as exc:
            abort_with(context, exc)
            raise

    def HandleReloadConfigRequest(
        self, request: model_management_pb2.ReloadConfigRequest, context: grpc.ServicerContext
    ) -> model_management_pb2.ReloadConfigResponse:
        """Replace the model configuration; wait for the models it adds."""
        try:
            if request.config.WhichOneof("config") != "model_config_list":
                raise ServingStatusError(
                    Code.INVALID_ARGUMENT,
                    "ServerModelConfig type not supported by HandleReloadConfigRequest. Only "
                    "ModelConfigList is currently supported",
                )
            for index, entry in enumerate(request.config.model_config_list.config):
                log.config_entry(index, entry.base_path, entry.name, entry.model_platform)
            try:
                self._reloader.reload(config_from_proto(request.config))
            except ServingStatusError as exc:
                log.reload_config_rpc_failed(exc.message)
                raise
        except ServingStatusError as exc:
            abort_with(context, exc)
            raise
        return model_management_pb2.ReloadConfigResponse(status=status_pb2.StatusProto())
