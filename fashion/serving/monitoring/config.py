"""``--monitoring_config_file``: whether and where the REST port serves Prometheus metrics.

The file is a text-format ``MonitoringConfig`` (``monitoring_config.proto``); TF Serving reads
it only when the REST API is on (``server.cc``), and an empty ``path`` means
``/monitoring/prometheus/metrics`` (``prometheus_exporter.cc``).
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format

from fashion.serving.status import Code, ServingStatusError

__all__ = ["DEFAULT_METRICS_PATH", "read_metrics_path"]

DEFAULT_METRICS_PATH = "/monitoring/prometheus/metrics"


def _monitoring_config_class() -> type:
    """``tensorflow.serving.MonitoringConfig``, described from ``monitoring_config.proto``.

    The ``tensorflow-serving-api`` package does not ship this proto's module, so its two
    messages are described here with protobuf's own descriptor API, and protobuf's text-format
    parser reads the file as the C++ server's does.
    """
    file = descriptor_pb2.FileDescriptorProto(
        name="fashion_serving/monitoring_config.proto",
        package="tensorflow.serving",
        syntax="proto3",
    )
    field = descriptor_pb2.FieldDescriptorProto
    prometheus = file.message_type.add(name="PrometheusConfig")
    prometheus.field.add(name="enable", number=1, type=field.TYPE_BOOL, label=field.LABEL_OPTIONAL)
    prometheus.field.add(name="path", number=2, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL)
    monitoring = file.message_type.add(name="MonitoringConfig")
    monitoring.field.add(
        name="prometheus_config",
        number=1,
        type=field.TYPE_MESSAGE,
        type_name=".tensorflow.serving.PrometheusConfig",
        label=field.LABEL_OPTIONAL,
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("tensorflow.serving.MonitoringConfig")
    )


def read_metrics_path(path: str) -> str | None:
    """The Prometheus path the config file enables, or None when it does not enable one.

    Raises:
        ServingStatusError: INVALID_ARGUMENT ``Invalid protobuf file: '{path}'`` when the file
            cannot be read or parsed (``proto_util.h``).
    """
    config = _monitoring_config_class()()
    try:
        with open(path, "rb") as handle:
            text_format.Parse(handle.read().decode("utf-8"), config)
    except (OSError, UnicodeDecodeError, text_format.ParseError):
        error = ServingStatusError(Code.INVALID_ARGUMENT, f"Invalid protobuf file: '{path}'")
        raise error from None
    prometheus = config.prometheus_config
    if not prometheus.enable:
        return None
    return prometheus.path or DEFAULT_METRICS_PATH
