"""``python -m fashion.serving`` and the ``fashion-model-server`` command."""

from __future__ import annotations

import sys

from fashion.serving.server import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
