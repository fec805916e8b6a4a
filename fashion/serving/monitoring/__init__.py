"""What the server counts and how it is read: TF Serving's Prometheus metrics.

Owns the metrics with TF Serving's names (``servables/tensorflow/util.cc``) and TensorFlow's
SavedModel load counters (``cc/saved_model/loader.cc``), kept in a prometheus-client registry,
and the ``--monitoring_config_file`` that turns the REST endpoint on
(``monitoring_config.proto``). May import ``status`` only.
"""

__all__ = [
    "config",
    "metrics",
]
