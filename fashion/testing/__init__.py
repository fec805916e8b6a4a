"""What a pytest session needs to serve models: a served-server handle and the pytest plugin.

- :mod:`fashion.testing.served`: a model server started under pytest-xprocess and awaited until
  its versions are AVAILABLE (:class:`ServedModelServer`, with REST and gRPC clients to it);
- :mod:`fashion.testing.plugin`: the ``pytest11`` plugin (``--model-server``, the
  ``model_server_binary`` and ``serve_model`` fixtures, ``real_server_only``,
  ``assert_model_serves``).

Importing this package imports neither pytest nor TensorFlow: ``fashion check`` (a command, not
a test) accepts a :class:`ServedModelServer` too, so the plugin is left to pytest's entry point.
"""

from fashion.testing.served import ServedModelServer, running_model_server, spawn_model_server

__all__ = ["ServedModelServer", "running_model_server", "spawn_model_server"]
