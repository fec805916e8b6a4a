"""How a model server process says that it failed to start.

``model_servers/main.cc`` prints ``Failed to start server. Error: {CODE_NAME}: {message}`` on
stdout and exits 255, for the stand-in and the real binary alike.
"""

from __future__ import annotations

__all__ = ["failure_line"]


def failure_line(stdout: str) -> str:
    """The one ``Failed to start server. Error: ...`` line of a server's stdout."""
    lines = [line for line in stdout.splitlines() if line.startswith("Failed to start")]
    assert len(lines) == 1, stdout
    return lines[0]
