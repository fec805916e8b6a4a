"""``python -m fashion.cli``: the ``fashion`` command without its console script."""

import sys

from fashion.cli import main

sys.exit(main())
