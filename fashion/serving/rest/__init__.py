"""The REST front door: TF Serving's HTTP API on uvicorn.

Owns the ASGI app (bodies, gzip, limits, CORS, the worker pool), uvicorn's server (its signals
left to ``server``), the URL grammar of
``http_rest_api_handler.cc`` and the handlers (decode, ask the model manager, run, encode). May
import ``models``, ``runtime``, ``codec``, ``logs`` and ``status``.
"""

__all__ = [
    "app",
    "handlers",
    "routes",
    "uvicorn_server",
]
