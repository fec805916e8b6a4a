"""Errors over gRPC as TF Serving sends them (``grpc_status_util.cc``, ``ToGRPCStatus``).

The status code is the TensorFlow code itself (the numbers are gRPC's), and the message is the
same text REST puts in ``{"error": ...}``, cut to its first 1024 bytes plus ``...TRUNCATED``
when longer, so that a huge message cannot make the client's receive fail.
"""

from __future__ import annotations

import grpc

from fashion.serving.status import Code, ServingStatusError

__all__ = ["ERROR_MESSAGE_LIMIT", "abort_with", "grpc_code", "grpc_message"]

ERROR_MESSAGE_LIMIT = 1024
"""``kErrorMessageLimit``: bytes of a message sent before it is truncated."""

_CODES = {code.value[0]: code for code in grpc.StatusCode}


def grpc_code(code: Code) -> grpc.StatusCode:
    """The gRPC status code with TensorFlow's number."""
    return _CODES.get(int(code), grpc.StatusCode.UNKNOWN)


def grpc_message(message: str) -> str:
    """The message as sent: at most 1024 bytes, then ``...TRUNCATED``."""
    data = message.encode("utf-8", "surrogateescape")
    if len(data) <= ERROR_MESSAGE_LIMIT:
        return message
    return data[:ERROR_MESSAGE_LIMIT].decode("utf-8", "replace") + "...TRUNCATED"


def abort_with(context: grpc.ServicerContext, error: ServingStatusError) -> None:
    """End the RPC with ``error``'s code and text (raises, as ``context.abort`` does)."""
    context.abort(grpc_code(error.code), grpc_message(error.message))
