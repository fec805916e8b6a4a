"""The gRPC server: TF Serving's ``PredictionService`` and ``ModelService`` on grpcio.

Built as ``Server::BuildAndStart`` (``server.cc``) builds its ``grpc::ServerBuilder``: a TCP
port unless ``--port=0``, a UNIX socket with ``--grpc_socket_path``, messages of any size
(``SetMaxMessageSize(INT32_MAX)``), the user's ``--grpc_channel_arguments`` on top (a value that
reads as an int32 is passed as an int, anything else as a string), at most
``--grpc_max_threads`` RPCs at once (more wait for a thread: grpcio's own concurrency cap
would refuse some with RESOURCE_EXHAUSTED before the pool is even full), and the standard
health service with ``--enable_grpc_healthcheck_service`` (``ModelService`` and
``PredictionService`` SERVING).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from fashion.serving.grpc.model_service import ModelService
from fashion.serving.grpc.prediction_service import PredictionService
from fashion.serving.logs import texts as log
from fashion.serving.models.manager import ModelManager
from fashion.serving.models.reload import ConfigReloader
from fashion.serving.monitoring.metrics import Metrics
from fashion.serving.runtime.servable import Servable
from fashion.serving.status import Code, ServingStatusError

__all__ = ["GrpcOptions", "parse_channel_arguments", "start_grpc_server"]

_INT32_MAX = 2**31 - 1
# absl::SimpleAtoi: ASCII whitespace around, an optional sign, ASCII decimal digits only.
_INT32 = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*")
_MESSAGE_SIZE_DEFAULTS = {
    "grpc.max_send_message_length": _INT32_MAX,
    "grpc.max_receive_message_length": _INT32_MAX,
}
_HEALTH_SERVICES = ("", "ModelService", "PredictionService")
_MAX_SERVICE_NAME_LENGTH = 200  # default_health_check_service.cc: longer names are refused


@dataclasses.dataclass(frozen=True)
class GrpcOptions:
    """The gRPC flags of the server.

    Attributes:
        port: ``--port``; 0 opens no TCP port.
        socket_path: ``--grpc_socket_path``; empty opens no UNIX socket.
        bind_address: the stand-in's ``--grpc_bind_address`` for the TCP port.
        max_threads: ``--grpc_max_threads``: RPCs served at once.
        channel_arguments: ``--grpc_channel_arguments``.
        enable_health: ``--enable_grpc_healthcheck_service``.
        check_method_name: ``--enable_signature_method_name_check``.
        serialize_as_tensor_content: ``--enable_serialization_as_tensor_content``.
    """

    port: int
    socket_path: str = ""
    bind_address: str = "127.0.0.1"
    max_threads: int = 4
    channel_arguments: str = ""
    enable_health: bool = False
    check_method_name: bool = False
    serialize_as_tensor_content: bool = False


def parse_channel_arguments(text: str) -> list[tuple[str, int | str]]:
    """``parseGrpcChannelArgs``: comma-separated ``key=value``; int32-looking values as ints.

    Empty pieces are skipped. A piece without ``=`` is refused (the real server reads past the
    end of its split there, undefined behaviour).

    Raises:
        ServingStatusError: INVALID_ARGUMENT naming the piece.
    """
    arguments: list[tuple[str, int | str]] = []
    for piece in text.split(","):
        if not piece:
            continue
        if "=" not in piece:
            raise ServingStatusError(
                Code.INVALID_ARGUMENT,
                f"--grpc_channel_arguments entry {piece!r} is not key=value",
            )
        key, value = piece.split("=")[:2]
        if _INT32.fullmatch(value) and -(2**31) <= int(value) <= _INT32_MAX:
            arguments.append((key, int(value)))
        else:
            arguments.append((key, value))
    return arguments


def _server_options(channel_arguments: str) -> list[tuple[str, int | str]]:
    """Message sizes unlimited, then the user's arguments, which replace a default they name."""
    user = parse_channel_arguments(channel_arguments)
    named = {key for key, _ in user}
    defaults = [(key, value) for key, value in _MESSAGE_SIZE_DEFAULTS.items() if key not in named]
    return [*defaults, *user]


class _HealthServicer(health.HealthServicer):
    """grpcio's health service answering as gRPC C++'s default one does
    (``default_health_check_service.cc``), which the real server registers: a service name of
    more than 200 bytes is INVALID_ARGUMENT ``could not parse request``, and ``Check`` of an
    unknown name is NOT_FOUND ``service name unknown`` (grpcio's sends no text)."""

    def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        _check_service_name(request, context)
        response = super().Check(request, context)
        if context.code() == grpc.StatusCode.NOT_FOUND:
            context.abort(grpc.StatusCode.NOT_FOUND, "service name unknown")
        return response

    def Watch(
        self,
        request: health_pb2.HealthCheckRequest,
        context: grpc.ServicerContext,
        send_response_callback: Callable[..., Any] | None = None,
    ) -> Any:
        _check_service_name(request, context)
        return super().Watch(request, context, send_response_callback)


def _check_service_name(
    request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext
) -> None:
    if len(request.service.encode("utf-8")) > _MAX_SERVICE_NAME_LENGTH:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "could not parse request")


def _tcp_address(bind_address: str, port: int) -> str:
    host = f"[{bind_address}]" if ":" in bind_address else bind_address
    return f"{host}:{port}"


def _add_port(server: grpc.Server, address: str) -> bool:
    try:
        return server.add_insecure_port(address) != 0
    except RuntimeError:
        return False


def start_grpc_server(
    options: GrpcOptions,
    manager: ModelManager[Servable],
    reloader: ConfigReloader[Servable],
    metrics: Metrics,
) -> grpc.Server:
    """Build, bind and start the gRPC server, and log where it listens.

    Raises:
        ServingStatusError: INVALID_ARGUMENT ``Failed to BuildAndStart gRPC server`` when a port
            or the socket cannot be bound (the caller prints it and exits 255), or a bad
            ``--grpc_channel_arguments`` entry.
    """
    server = grpc.server(
        ThreadPoolExecutor(max_workers=max(options.max_threads, 1), thread_name_prefix="grpc"),
        options=_server_options(options.channel_arguments),
    )
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(
        ModelService(manager, reloader), server
    )
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(
            manager,
            metrics,
            check_method_name=options.check_method_name,
            serialize_as_tensor_content=options.serialize_as_tensor_content,
        ),
        server,
    )
    if options.enable_health:
        servicer = _HealthServicer()
        for service in _HEALTH_SERVICES:
            servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    addresses = []
    if options.port:
        log.using_insecure_server_credentials()
        addresses.append(_tcp_address(options.bind_address, options.port))
    if options.socket_path:
        log.using_insecure_server_credentials()
        addresses.append(f"unix:{options.socket_path}")
    if not all(_add_port(server, address) for address in addresses):
        server.stop(None)
        raise ServingStatusError(Code.INVALID_ARGUMENT, "Failed to BuildAndStart gRPC server")
    server.start()
    if options.port:
        log.running_grpc_server(options.port)
    if options.socket_path:
        log.running_grpc_server_on_socket(options.socket_path)
    return server
