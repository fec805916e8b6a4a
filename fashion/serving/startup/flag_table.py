"""The flags of ``tensorflow_model_server`` and the usage text that lists them (``main.cc``).

One table in the real binary's order, with each flag's TensorFlow type, default and a short
help text (the stand-in's own wording), then the stand-in's extras. The parser
(:mod:`fashion.serving.startup.flags`) and the usage text both read it, so the two never disagree.
"""

from __future__ import annotations

import dataclasses
import enum
import os
from collections.abc import Sequence
from typing import Any

__all__ = [
    "DEFAULT_REST_API_MAX_BODY_BYTES",
    "IGNORED_FLAGS",
    "INERT_FLAGS",
    "PROG",
    "FlagSpec",
    "FlagType",
    "flag_table",
    "render_usage",
    "schedulable_cpus",
    "usage_text",
]

PROG = "tensorflow_model_server"
"""The program name the usage text shows by default."""

DEFAULT_REST_API_MAX_BODY_BYTES = 256 * 1024 * 1024
"""Stand-in limit on a request body; generous enough for any Fashion-MNIST batch."""


class FlagType(enum.Enum):
    """TensorFlow flag types, with the names the usage text prints."""

    INT32 = "int32"
    INT64 = "int64"
    BOOL = "bool"
    STRING = "string"
    FLOAT = "float"


@dataclasses.dataclass(frozen=True)
class FlagSpec:
    """One flag: its name (without ``--``), TensorFlow type, default and help text."""

    name: str
    type: FlagType
    default: Any
    help: str


def schedulable_cpus() -> int:
    """CPUs this process may run on (TensorFlow's ``NumSchedulableCPUs``)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def flag_table(cpus: int) -> tuple[FlagSpec, ...]:
    """Every flag in the real binary's order (``main.cc``), then the stand-in's extras.

    The help texts are the stand-in's own short summaries, not the binary's wording.
    """
    T, F = FlagType, FlagSpec
    i32, i64, b, s, f = T.INT32, T.INT64, T.BOOL, T.STRING, T.FLOAT
    return (
        F("port", i32, 8500, "gRPC TCP port; 0 disables it (then grpc_socket_path is needed)."),
        F("grpc_socket_path", s, "", "If set, also serve gRPC on this UNIX socket."),
        F("rest_api_port", i32, 0, "HTTP/REST API port; 0 = no REST API. Must differ from port."),
        F("rest_api_num_threads", i32, 4 * cpus, "Threads that execute REST requests."),
        F("rest_api_timeout_in_ms", i32, 30000, "Deadline of REST predict/classify/regress."),
        F("rest_api_enable_cors_support", b, False, "Add CORS headers to REST responses."),
        F("enable_batching", b, False, "Enable server-side request batching."),
        F("allow_version_labels_for_unavailable_models", b, False, "Allow new unready labels."),
        F("batching_parameters_file", s, "", "Text-format BatchingParameters file."),
        F("enable_per_model_batching_parameters", b, False, "Per-model batching_params.pbtxt."),
        F("model_config_file", s, "", "Text-format ModelServerConfig (overrides model_name)."),
        F("model_config_file_poll_wait_seconds", i32, 0, "Re-read the config file every N s."),
        F("model_name", s, "default", "Model name in single-model mode."),
        F("model_base_path", s, "", "Absolute directory holding numeric version directories."),
        F("num_load_threads", i32, 0, "Threads for loads after start-up; 0 = serial."),
        F("num_unload_threads", i32, 0, "Threads for unloads; 0 = serial."),
        F("max_num_load_retries", i32, 5, "Retries after a failed load; 0 = one attempt."),
        F("load_retry_interval_micros", i64, 60_000_000, "Pause between load retries."),
        F("file_system_poll_wait_seconds", i32, 1, "Seconds between version scans; 0 = once."),
        F("flush_filesystem_caches", b, True, "Flush file-system caches after loads."),
        F("tensorflow_session_parallelism", i64, 0, "Threads per session; 0 = auto."),
        F("tensorflow_session_config_file", s, "", "Text-format ConfigProto for sessions."),
        F("tensorflow_intra_op_parallelism", i64, 0, "Intra-op threads; 0 = auto."),
        F("tensorflow_inter_op_parallelism", i64, 0, "Inter-op threads; 0 = auto."),
        F("use_alts_credentials", b, False, "Use ALTS credentials for gRPC."),
        F("ssl_config_file", s, "", "Text-format SSLConfig for gRPC TLS."),
        F("platform_config_file", s, "", "Text-format PlatformConfigMap."),
        F("per_process_gpu_memory_fraction", f, 0.0, "GPU memory fraction; 0 = auto."),
        F("saved_model_tags", s, "serve", "Comma-separated tags of the MetaGraph to load."),
        F("grpc_channel_arguments", s, "", "Comma-separated key=value gRPC arguments."),
        F("grpc_max_threads", i32, 4 * cpus, "gRPC server thread limit."),
        F("enable_model_warmup", b, True, "Replay assets.extra warm-up requests at load."),
        F("num_request_iterations_for_warmup", i32, 0, "Replay each warm-up record N times."),
        F("version", b, False, "Display version"),
        F("monitoring_config_file", s, "", "Text-format MonitoringConfig (Prometheus)."),
        F("remove_unused_fields_from_bundle_metagraph", b, True, "Trim the MetaGraphDef."),
        F("prefer_tflite_model", b, False, "EXPERIMENTAL: load model.tflite if present."),
        F("num_tflite_pools", i32, cpus, "EXPERIMENTAL: TFLite interpreter pools."),
        F("num_tflite_interpreters_per_pool", i32, 1, "EXPERIMENTAL: interpreters per pool."),
        F("enable_signature_method_name_check", b, False, "Enforce SignatureDef method_name."),
        F("xla_cpu_compilation_enabled", b, False, "EXPERIMENTAL: enable XLA:CPU JIT."),
        F("xla_gpu_compilation_enabled", b, False, "EXPERIMENTAL: enable XLA:GPU JIT."),
        F("enable_profiler", b, True, "Enable the gRPC profiler service."),
        F("thread_pool_factory_config_file", s, "", "Text-format ThreadPoolConfig."),
        F("mixed_precision", s, "", "Mixed-precision mode, e.g. bfloat16."),
        F("skip_initialize_tpu", b, False, "TPU builds only: skip TPU initialisation."),
        F("enable_grpc_healthcheck_service", b, False, "Register the gRPC health service."),
        F("enable_serialization_as_tensor_content", b, False, "gRPC: use tensor_content."),
        # Stand-in extras.
        F("rest_api_bind_address", s, "127.0.0.1", "Stand-in only: address the REST API binds."),
        F("grpc_bind_address", s, "127.0.0.1", "Stand-in only: address the gRPC port binds."),
        F("rest_api_max_body_bytes", i64, DEFAULT_REST_API_MAX_BODY_BYTES, "Stand-in: body limit."),
    )


IGNORED_FLAGS: frozenset[str] = frozenset(
    {
        # gRPC: insecure credentials only, and no profiler service.
        "use_alts_credentials",
        "ssl_config_file",
        "enable_profiler",
        # Batching.
        "enable_batching",
        "batching_parameters_file",
        "enable_per_model_batching_parameters",
        # Session and platform tuning (the parallelism flags are implemented).
        "tensorflow_session_config_file",
        "platform_config_file",
        "thread_pool_factory_config_file",
        "mixed_precision",
        # Experimental runtimes and hardware.
        "prefer_tflite_model",
        "num_tflite_pools",
        "num_tflite_interpreters_per_pool",
        "xla_cpu_compilation_enabled",
        "xla_gpu_compilation_enabled",
        "skip_initialize_tpu",
    }
)
"""Flags accepted but not implemented: one warning line each when given on the command line."""

INERT_FLAGS: frozenset[str] = frozenset(
    {
        "flush_filesystem_caches",
        "per_process_gpu_memory_fraction",
        "remove_unused_fields_from_bundle_metagraph",
        "num_unload_threads",
    }
)
"""Flags without an observable effect (``main.cc``, ``server.h`` "inert"): accepted silently."""


# --- usage text ------------------------------------------------------------------------------


def _format_default(flag: FlagSpec) -> str:
    if flag.type is FlagType.STRING:
        return f'"{flag.default}"'
    if flag.type is FlagType.BOOL:
        return "true" if flag.default else "false"
    if flag.type is FlagType.FLOAT:
        return f"{flag.default:f}"
    return str(flag.default)


def render_usage(prog: str, flags: Sequence[FlagSpec]) -> str:
    """The usage text for ``flags``, as :func:`usage_text` describes it.

    Takes the table it lists, so that the parser renders the very table it parsed with.
    """
    lines = [f"usage: {prog}", "Flags:"]
    for flag in flags:
        shown = f"--{flag.name}={_format_default(flag)}"
        lines.append(f"\t{shown:<33}\t{flag.type.value}\t{flag.help}")
    return "\n".join(lines) + "\n"


def usage_text(prog: str = PROG) -> str:
    """The usage text the server prints on ``--help``, bad values and unknown arguments.

    Format (TensorFlow's): ``usage: {prog}``, ``Flags:``, then per flag a tab,
    ``--name=default`` padded to 33 columns, a tab, the type, a tab, the help text.
    """
    return render_usage(prog, flag_table(schedulable_cpus()))
