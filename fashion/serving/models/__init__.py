"""Which versions of which models are served: TF Serving's ``ServerCore`` without a network.

Owns the model configuration (single model or ``ModelServerConfig`` file), discovery of
versions on disk, the version policies and the AvailabilityPreservingPolicy, the life cycle of
each version (load with retries, quiesce, unload), version states and labels. It serves
whatever its loader returns (anything with ``close()``), so it never imports the ``runtime``;
``manager_types``, which the front doors name, imports no TensorFlow at all. May import ``logs``
and ``status``.
"""

__all__ = [
    "discovery",
    "executors",
    "lifecycle",
    "manager",
    "manager_types",
    "model_config",
    "model_spec",
    "policy",
    "version_states",
]
