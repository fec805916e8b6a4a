"""UNIX socket paths short enough for the kernel, however deep a test's temporary directory is.

A socket's path must fit ``sun_path``: 107 bytes on Linux, 103 on macOS. pytest's temporary
directories nest (a pytester run inside an xdist worker inside a session's basetemp) past that,
and a server then fails to bind. These paths live in a fresh directory directly under the
system's temporary directory instead.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["short_socket_path"]


@contextmanager
def short_socket_path(name: str = "grpc.sock") -> Iterator[Path]:
    """A path for a UNIX socket in a directory of its own, removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="fashion-sock-"))
    try:
        yield directory / name
    finally:
        shutil.rmtree(directory, ignore_errors=True)
