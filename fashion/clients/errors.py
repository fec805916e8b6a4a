"""The one exception family both clients raise, so a caller catches a failure once, either way.

A test that runs one scenario over REST and gRPC compares what it catches: every failure is a
:class:`ServingError` whose ``status_code`` is the HTTP status REST answers (for gRPC: the one
REST answers for the same TF status code) and whose ``error`` is the server's own text. The
transport's exception (``requests``' or ``grpc.RpcError``) is only the ``__cause__``. Nothing here
imports ``requests``, gRPC or TensorFlow, so code that only catches pays for neither client.
"""

from __future__ import annotations

__all__ = [
    "ServingConnectionError",
    "ServingError",
    "ServingHTTPError",
    "ServingProtocolError",
    "ServingRPCError",
    "ServingTimeoutError",
]


class ServingError(Exception):
    """Raised when a call to the model server fails, whatever the reason.

    Attributes:
        status_code: the HTTP status, when the server answered.
        error: the server's ``error`` text, when it sent one.
    """

    def __init__(self, message: str, *, status_code: int | None = None, error: str | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.error = error


class ServingHTTPError(ServingError):
    """Raised when the server answers with a non-2xx status."""


class ServingRPCError(ServingError):
    """Raised when the server answers an RPC with a status other than OK.

    Attributes:
        code: the status code's name, e.g. ``"NOT_FOUND"`` (TF Serving sends TF's code as is).
        error: the server's message.
        status_code: the HTTP status REST answers for ``code``, to compare the transports.
    """

    def __init__(self, message: str, *, code: str, error: str, status_code: int):
        super().__init__(message, status_code=status_code, error=error)
        self.code = code


class ServingConnectionError(ServingError):
    """Raised when the server cannot be reached, or the connection ends before the answer does."""


class ServingTimeoutError(ServingError):
    """Raised when the server does not answer, or a version does not load, in time."""


class ServingProtocolError(ServingError):
    """Raised when a 2xx answer is not what the API promises (JSON, or the promised message)."""
