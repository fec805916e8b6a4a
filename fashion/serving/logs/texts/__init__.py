"""The real server's standard log texts, one helper each (``loader_harness.cc``, ``server.cc``).

Harnesses wait for these exact texts (``Successfully loaded servable version ...``,
``Exporting HTTP/REST API at:localhost:8501 ...``), so they are written here once and no other
module retypes them. Each helper writes through
:func:`fashion.serving.logs.lines.write_line`, so the line's prefix names the helper's caller,
as the real server's names the C++ file that logs.

The catalogue is in two halves: :mod:`~fashion.serving.logs.texts.server` (the server as a
whole: configuration, ports, flags, notices) and :mod:`~fashion.serving.logs.texts.versions` (a
model version's life: discovery, load, warm-up, unload). Callers import this package
(``from fashion.serving.logs import texts as log``) and need not know which half a text is in.
"""

from fashion.serving.logs.texts import server, versions
from fashion.serving.logs.texts.common import servable_id as servable_id
from fashion.serving.logs.texts.server import *  # noqa: F403 - the face of the catalogue
from fashion.serving.logs.texts.versions import *  # noqa: F403 - the face of the catalogue

__all__ = sorted(["servable_id", *server.__all__, *versions.__all__])
