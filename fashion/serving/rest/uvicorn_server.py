"""uvicorn's server, without its signal handling: the stand-in's ``server`` module owns signals.

uvicorn catches SIGINT and SIGTERM while it serves and re-raises them once it has shut down. The
re-raised SIGINT reaches asyncio's runner, which turns it into a cancelled task, a
``KeyboardInterrupt`` or, when the serving coroutine has already ended, nothing at all, so the
process exited with status 0 now and then under load instead of dying of the signal as
``tensorflow_model_server`` does. The stand-in catches both signals itself and sets
``should_exit``, which is uvicorn's documented way to stop a running ``Server``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn

__all__ = ["UvicornWithoutSignals"]


class UvicornWithoutSignals(uvicorn.Server):
    """A ``uvicorn.Server`` that leaves SIGINT and SIGTERM to its caller."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
