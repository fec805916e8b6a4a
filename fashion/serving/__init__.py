"""The TF Serving stand-in: ``tensorflow_model_server``'s command line and REST API in Python.

``__main__`` (the ``fashion-model-server`` command) runs ``server``, which starts the layers
below in TF Serving's order. Imports run one way, top to bottom, as the import-linter contract
in ``pyproject.toml`` states: ``server``; the front door ``rest``; then ``models`` (which
versions are served), ``runtime`` (running a loaded version), ``codec`` (bodies) and ``startup``
(the command line), none of which imports another; then ``logs``; then ``status``, the error
type every layer raises. Nothing here imports Keras or the project's pipeline.
"""

__all__ = [
    "codec",
    "logs",
    "models",
    "rest",
    "runtime",
    "server",
    "startup",
    "status",
]
