"""TensorFlow status codes and the one error type the stand-in raises.

TF Serving reports every failure as an absl status (code + message); the REST layer turns the code
into an HTTP status and the message into ``{"error": message}``. Keeping that shape inside the
stand-in means the HTTP layer needs one mapping, and every message text can be compared with the
real server's catalogue (``http_server.cc``, ``json_tensor.cc``).
"""

from __future__ import annotations

import enum

__all__ = ["Code", "ServingStatusError", "http_status_for"]


class Code(enum.IntEnum):
    """TensorFlow's canonical error codes, numbered as in ``error_codes.proto``."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


_HTTP_STATUS: dict[Code, int] = {
    Code.OK: 200,
    Code.CANCELLED: 499,
    Code.UNKNOWN: 500,
    Code.INVALID_ARGUMENT: 400,
    Code.DEADLINE_EXCEEDED: 504,
    Code.NOT_FOUND: 404,
    Code.ALREADY_EXISTS: 409,
    Code.PERMISSION_DENIED: 403,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.FAILED_PRECONDITION: 400,
    Code.ABORTED: 409,
    Code.OUT_OF_RANGE: 400,
    Code.UNIMPLEMENTED: 501,
    Code.INTERNAL: 500,
    Code.UNAVAILABLE: 503,
    Code.DATA_LOSS: 500,
    Code.UNAUTHENTICATED: 401,
}


def http_status_for(code: Code) -> int:
    """The HTTP status TF Serving answers a status code with (``http_server.cc``)."""
    return _HTTP_STATUS.get(code, 500)


class ServingStatusError(Exception):
    """Raised when a request or a load fails; carries the TF status code and the exact message.

    Args:
        code: the TensorFlow status code, which decides the HTTP status.
        message: the text TF Serving puts in ``{"error": ...}``, without the code name.
    """

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        """The HTTP status TF Serving answers this error with."""
        return http_status_for(self.code)

    def as_status_text(self) -> str:
        """Render as an embedded status, ``CODE_NAME: message`` (absl ``Status::ToString``)."""
        return f"{self.code.name}: {self.message}"

    def __repr__(self) -> str:
        return f"ServingStatusError({self.code.name}, {self.message!r})"
