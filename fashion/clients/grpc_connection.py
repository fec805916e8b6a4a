"""The gRPC client's connection: one channel, TF Serving's two stubs, and what a failed RPC raises.

Apart from :mod:`fashion.clients.grpc` so that the client there reads as requests and answers,
while how the channel is set up, the deadline every RPC carries and the translation of
``grpc.RpcError`` into the clients' exception family live at one boundary, as ``requests``'
exceptions do in :mod:`fashion.clients.rest`. A failed RPC (``grpc.RpcError`` never leaks; it is
the ``__cause__``) is raised as:

- ``UNAVAILABLE`` (cannot connect, connection lost): :class:`ServingConnectionError`;
- ``DEADLINE_EXCEEDED`` once this client's own deadline has passed: :class:`ServingTimeoutError`;
- an answer that is not the promised message: :class:`ServingProtocolError`;
- any other status: :class:`ServingRPCError` with ``code`` (``"NOT_FOUND"``), ``error`` (the
  server's text, cut at 1024 bytes + ``...TRUNCATED`` by TF Serving's ``grpc_status_util.cc``;
  REST sends it whole) and ``status_code`` (404).

Importing this module imports grpcio and TensorFlow Serving's stubs (and so TensorFlow).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import grpc
from google.protobuf.message import Message
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from fashion.clients.errors import (
    ServingConnectionError,
    ServingError,
    ServingProtocolError,
    ServingRPCError,
    ServingTimeoutError,
)
from fashion.serving.status import Code, http_status_for

__all__ = ["GrpcConnection"]

_T = TypeVar("_T")
_Connection = TypeVar("_Connection", bound="GrpcConnection")
# grpcio's own text when a response does not parse (grpc/_channel.py).
_UNDECODABLE = "Exception deserializing response!"
_CHANNEL_OPTIONS = [
    # Batches of images are large; TF Serving sets no limit on its side either (server.cc).
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
    # gRPC backs off up to 120 s between reconnects by default; a server that starts or comes
    # back should be seen within a second, as wait_until_available's REST twin sees it.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


class GrpcConnection:
    """One channel to a TF Serving gRPC endpoint, with a deadline on each RPC made through it.

    The base of :class:`fashion.clients.grpc.GrpcServingClient`, which checks the arguments and
    adds the model's RPCs. Use as a context manager, or call :meth:`close`, to close the channel.

    Args:
        target: ``host:port`` or ``unix:/path``, already checked.
        timeout: seconds for each RPC (its gRPC deadline), already checked.
    """

    def __init__(self, target: str, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        self._channel = grpc.insecure_channel(target, options=_CHANNEL_OPTIONS)
        self._prediction = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._models = model_service_pb2_grpc.ModelServiceStub(self._channel)

    def __enter__(self: _Connection) -> _Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def _call(self, name: str, rpc: Callable[..., _T], request: Message) -> _T:
        """Make one RPC with this client's deadline; translate a failure (see the module doc)."""
        start = time.monotonic()
        try:
            return rpc(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise self._translated(name, exc, time.monotonic() - start) from exc

    def _translated(self, name: str, exc: grpc.RpcError, elapsed: float) -> ServingError:
        code, details = None, ""
        if isinstance(exc, grpc.Call):  # what grpcio raises is both
            code, details = exc.code(), exc.details() or ""
        where = f"{name} at {self.target}"
        if code is grpc.StatusCode.UNAVAILABLE:
            return ServingConnectionError(f"{where}: UNAVAILABLE: {details}")
        # The server's own DEADLINE_EXCEEDED (a session run that timed out) comes earlier.
        if code is grpc.StatusCode.DEADLINE_EXCEEDED and elapsed >= 0.99 * self.timeout:
            return ServingTimeoutError(f"{where}: no answer within {self.timeout:g} s")
        if code is grpc.StatusCode.INTERNAL and details == _UNDECODABLE:
            return ServingProtocolError(f"{where}: the answer is not the promised message")
        name = code.name if code is not None else "UNKNOWN"  # gRPC's names are TF's names
        return ServingRPCError(
            f"{where} answered {name}: {details}",
            code=name,
            error=details,
            status_code=http_status_for(Code.__members__.get(name, Code.UNKNOWN)),
        )
