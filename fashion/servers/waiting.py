"""Waiting for a condition with a deadline, instead of sleeping and hoping."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["WaitTimeoutError", "wait_until"]

T = TypeVar("T")


class WaitTimeoutError(TimeoutError):
    """Raised when the awaited condition did not hold before the deadline."""


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    *,
    interval: float = 0.05,
) -> T:
    """Call ``predicate`` until it returns something truthy, and return that.

    Args:
        predicate: the condition; exceptions it raises propagate (it decides what is fatal).
        timeout: seconds before giving up, measured on ``time.monotonic()``.
        what: what is awaited, for the error message ("model m version 2 AVAILABLE").
        interval: pause between calls.

    Raises:
        WaitTimeoutError: the deadline passed; the message names ``what`` and the time.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(min(interval, remaining))
