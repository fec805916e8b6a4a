"""The stand-in's failures as its in-process tests read them: the ``ServingStatusError`` a call
raises, or just its code and message.

Every layer of the stand-in (codec, runtime, manager, REST handlers) fails with the one error
type of ``fashion.serving.status``, so one helper serves every test that expects a failure.
Imports neither TensorFlow nor the rest of the stand-in.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fashion.serving.status import Code, ServingStatusError

__all__ = ["code_and_message", "invalid_argument", "status_error"]


def status_error(
    call: Callable[..., object], /, *args: object, **kwargs: object
) -> ServingStatusError:
    """The ``ServingStatusError`` that ``call(*args, **kwargs)`` raises (the test fails if none)."""
    with pytest.raises(ServingStatusError) as caught:
        call(*args, **kwargs)
    return caught.value


def code_and_message(
    call: Callable[..., object], /, *args: object, **kwargs: object
) -> tuple[Code, str]:
    """The code and message of the ``ServingStatusError`` that ``call(*args, **kwargs)`` raises."""
    error = status_error(call, *args, **kwargs)
    return error.code, error.message


def invalid_argument(call: Callable[..., object], /, *args: object, **kwargs: object) -> str:
    """The message of the INVALID_ARGUMENT (HTTP 400) that ``call(*args, **kwargs)`` raises."""
    error = status_error(call, *args, **kwargs)
    assert (error.code, error.http_status) == (Code.INVALID_ARGUMENT, 400), error
    return error.message
