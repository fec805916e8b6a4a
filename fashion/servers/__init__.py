"""Running a model server: choosing which one, starting it, stopping it, waiting on it.

- :mod:`fashion.servers.binary`: which server runs (``--model-server``: the real binary, its
  Docker image or the stand-in) and why;
- :mod:`fashion.servers.launcher`: its command line in ``tensorflow_model_server``'s flags, its
  process, free ports, its log's tail;
- :mod:`fashion.servers.containers`: the Docker/Podman engine behind the ``docker`` choice;
- :mod:`fashion.servers.waiting`: waiting for a condition with a deadline instead of a sleep.

No client lives here (:mod:`fashion.clients`) and nothing here knows pytest
(:mod:`fashion.testing`). Importing the package imports only the standard library.
"""

from fashion.servers.binary import (
    MODEL_SERVER_CHOICES,
    MODEL_SERVER_ENV,
    ModelServerBinary,
    ServerStartError,
    resolve_model_server,
)
from fashion.servers.launcher import (
    Launch,
    ServerProcess,
    free_port,
    free_ports,
    log_tail,
    plan_launch,
    port_accepts_connections,
    server_args,
)
from fashion.servers.waiting import WaitTimeoutError, wait_until

__all__ = [
    "MODEL_SERVER_CHOICES",
    "MODEL_SERVER_ENV",
    "Launch",
    "ModelServerBinary",
    "ServerProcess",
    "ServerStartError",
    "WaitTimeoutError",
    "free_port",
    "free_ports",
    "log_tail",
    "plan_launch",
    "port_accepts_connections",
    "resolve_model_server",
    "server_args",
    "wait_until",
]
