"""What a pytest session needs to serve models: a served-server handle and the pytest plugin.

- :mod:`fashion.testing.served`: a model server started under pytest-xprocess and awaited until
  its versions are AVAILABLE (:class:`ServedModelServer`, with REST and gRPC clients to it);
- :mod:`fashion.testing.plugin`: the ``pytest11`` plugin (``--model-server``, the
  ``model_server_binary`` and ``serve_model`` fixtures, ``real_server_only``,
  ``assert_model_serves``).

Importing this package imports neither pytest nor TensorFlow, so a script can start and await a
server as a fixture does; the plugin is left to pytest, which loads it by its entry point.
Nothing below imports this package: ``fashion check`` takes a :class:`ServedModelServer` by its
shape (:class:`fashion.check.StartedServer`).
"""

from fashion.testing.served import ServedModelServer, running_model_server, spawn_model_server

__all__ = ["ServedModelServer", "running_model_server", "spawn_model_server"]
