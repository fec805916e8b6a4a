"""Errors over gRPC as TF Serving sends them (``grpc_status_util.cc``, ``ToGRPCStatus``).

The status code is the TensorFlow code itself (the numbers are gRPC's), and the message is the
same text REST puts in ``{"error": ...}``, cut to its first 1024 bytes plus ``...TRUNCATED``
when longer, so that a huge message cannot make the client's receive fail. The cut is by bytes
and may split a UTF-8 sequence, so the message goes to grpcio as bytes, sent as they are:
a client receives exactly what TF Serving's ``std::string`` would have carried.
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


def grpc_message(message: str) -> bytes:
    """The message's bytes as sent: at most 1024, then ``...TRUNCATED``.

    The first 1024 bytes are kept as they are, even when the cut falls inside a multi-byte
    character (``std::string::substr`` knows nothing of UTF-8).
    """
    data = message.encode("utf-8", "surrogateescape")
    if len(data) <= ERROR_MESSAGE_LIMIT:
        return data
    return data[:ERROR_MESSAGE_LIMIT] + b"...TRUNCATED"


def abort_with(context: grpc.ServicerContext, error: ServingStatusError) -> None:
    """End the RPC with ``error``'s code and text (raises, as ``context.abort`` does).

    grpcio sends a ``bytes`` details string unchanged (its ``str`` would be UTF-8 encoded).
    """
    context.abort(grpc_code(error.code), grpc_message(error.message))  # type: ignore[arg-type]
