"""Replacing the model configuration at run time: TF Serving's ``ServerCore::ReloadConfig``.

Two callers reload: the config-file poller (``--model_config_file_poll_wait_seconds``,
``server.cc``) and gRPC's ``ModelService/HandleReloadConfigRequest`` (``model_service_impl.cc``).
Both validate the new config against the one in force, apply it, and wait for the models it
adds; one lock keeps their reloads from interleaving, and the config in force changes only when
a reload succeeds.
"""

from __future__ import annotations

import threading
from typing import Generic

from fashion.serving.models.manager import ModelManager
from fashion.serving.models.manager_types import S
from fashion.serving.models.model_config import (
    ModelServerConfig,
    validate_config,
    validate_platforms,
)

__all__ = ["ConfigReloader"]


class ConfigReloader(Generic[S]):
    """Applies new model configurations to a manager, one at a time.

    Args:
        manager: the running manager.
        current: the configuration it started with.
    """

    def __init__(self, manager: ModelManager[S], current: ModelServerConfig) -> None:
        self._manager = manager
        self._current = current
        self._lock = threading.Lock()

    def reload(self, config: ModelServerConfig) -> None:
        """Validate ``config`` against the one in force, apply it and wait for added models.

        Raises:
            ServingStatusError: ``server_core.cc``'s validation and label errors, or
                ``UNKNOWN: {n} model(s) did not become available: ...``.
        """
        with self._lock:
            validate_config(config, self._current)
            validate_platforms(config)
            self._manager.apply_config(config.models)
            self._current = config
