"""The command line of ``tensorflow_model_server``, reproduced for the stand-in (spec §2, §3.3).

TF Serving parses its flags with TensorFlow's own small parser, which differs from what Python
users expect: only ``--name=value`` is understood (``--name value`` leaves ``value`` as an
unknown argument), booleans also take the bare ``--name``, an unknown argument is reported and
then *ignored*, and a bad value or ``--help`` prints the usage text and exits 255. The stand-in
must behave the same, so harnesses written against one work against the other.

The matching and the value conversion are done by :mod:`argparse` (one token at a time, so that
``--name value`` can never consume the next token) with a custom action that applies
TensorFlow's conversion rules. Parsing never prints and never exits: :func:`parse_flags` returns
a :class:`FlagsOutcome` telling the caller what to print and whether to exit.

Stand-in extras (not in the real binary): ``--rest_api_bind_address`` (default ``127.0.0.1``; the
real server binds every interface) and ``--rest_api_max_body_bytes`` (default 256 MiB; the real
server reads any body; a larger body is refused by the HTTP layer).
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import os
import re
from collections.abc import Callable, Sequence
from typing import Any, cast

from fashion.serving.status import Code, ServingStatusError

__all__ = [
    "DEFAULT_REST_API_MAX_BODY_BYTES",
    "EXIT_FAILURE",
    "IGNORED_FLAGS",
    "INERT_FLAGS",
    "STAND_IN_VERSION",
    "FlagsOutcome",
    "ServerOptions",
    "check_options_after_config",
    "check_options_before_config",
    "parse_flags",
    "usage_text",
    "validate_options",
]

STAND_IN_VERSION = "0.1.0+fashion.stand-in"
"""What ``--version`` prints after ``TensorFlow ModelServer: ``."""

EXIT_FAILURE = 255
"""``main`` returns -1 in the real binary, which the shell sees as 255."""

DEFAULT_REST_API_MAX_BODY_BYTES = 256 * 1024 * 1024
"""Stand-in limit on a request body; generous enough for any Fashion-MNIST batch."""

_PROG = "tensorflow_model_server"


class _Type(enum.Enum):
    """TensorFlow flag types, with the names the usage text prints."""

    INT32 = "int32"
    INT64 = "int64"
    BOOL = "bool"
    STRING = "string"
    FLOAT = "float"


@dataclasses.dataclass(frozen=True)
class _Flag:
    name: str
    type: _Type
    default: Any
    help: str


def _schedulable_cpus() -> int:
    """CPUs this process may run on (TensorFlow's ``NumSchedulableCPUs``)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _flag_table(cpus: int) -> tuple[_Flag, ...]:
    """Every flag in the real binary's order (spec §2.2), then the stand-in's extras.

    The help texts are the stand-in's own short summaries, not the binary's wording.
    """
    i32, i64, b, s, f, F = _Type.INT32, _Type.INT64, _Type.BOOL, _Type.STRING, _Type.FLOAT, _Flag
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
        F("rest_api_max_body_bytes", i64, DEFAULT_REST_API_MAX_BODY_BYTES, "Stand-in: body limit."),
    )


IGNORED_FLAGS: frozenset[str] = frozenset(
    {
        # gRPC: the stand-in serves REST only. --port is still validated (spec §3.3) and
        # compared with --rest_api_port, but no gRPC listener is opened.
        "port",
        "grpc_socket_path",
        "grpc_channel_arguments",
        "grpc_max_threads",
        "use_alts_credentials",
        "ssl_config_file",
        "enable_profiler",
        "enable_grpc_healthcheck_service",
        "enable_serialization_as_tensor_content",
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
        # Prometheus.
        "monitoring_config_file",
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
"""Flags without an observable effect (spec §2.2 "inert"): accepted silently."""


@dataclasses.dataclass(frozen=True)
class ServerOptions:
    """Every flag's value after parsing; field names are the flag names.

    ``ignored_flags_given`` lists, in command-line order, the :data:`IGNORED_FLAGS` that were
    given, so start-up can print one warning each.
    """

    port: int
    grpc_socket_path: str
    rest_api_port: int
    rest_api_num_threads: int
    rest_api_timeout_in_ms: int
    rest_api_enable_cors_support: bool
    enable_batching: bool
    allow_version_labels_for_unavailable_models: bool
    batching_parameters_file: str
    enable_per_model_batching_parameters: bool
    model_config_file: str
    model_config_file_poll_wait_seconds: int
    model_name: str
    model_base_path: str
    num_load_threads: int
    num_unload_threads: int
    max_num_load_retries: int
    load_retry_interval_micros: int
    file_system_poll_wait_seconds: int
    flush_filesystem_caches: bool
    tensorflow_session_parallelism: int
    tensorflow_session_config_file: str
    tensorflow_intra_op_parallelism: int
    tensorflow_inter_op_parallelism: int
    use_alts_credentials: bool
    ssl_config_file: str
    platform_config_file: str
    per_process_gpu_memory_fraction: float
    saved_model_tags: str
    grpc_channel_arguments: str
    grpc_max_threads: int
    enable_model_warmup: bool
    num_request_iterations_for_warmup: int
    version: bool
    monitoring_config_file: str
    remove_unused_fields_from_bundle_metagraph: bool
    prefer_tflite_model: bool
    num_tflite_pools: int
    num_tflite_interpreters_per_pool: int
    enable_signature_method_name_check: bool
    xla_cpu_compilation_enabled: bool
    xla_gpu_compilation_enabled: bool
    enable_profiler: bool
    thread_pool_factory_config_file: str
    mixed_precision: str
    skip_initialize_tpu: bool
    enable_grpc_healthcheck_service: bool
    enable_serialization_as_tensor_content: bool
    rest_api_bind_address: str
    rest_api_max_body_bytes: int
    ignored_flags_given: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class FlagsOutcome:
    """What :func:`parse_flags` decided; the caller does the printing and exiting.

    Attributes:
        options: the parsed options, or ``None`` when the process must exit.
        exit_code: ``None`` to carry on starting, else the status to exit with (0 or 255).
        stdout: text to write to stdout first (usage, ``unknown argument: ...``, version).
        errors: TensorFlow's flag-parser log lines for stderr (``E`` level), one per bad value.
    """

    options: ServerOptions | None
    exit_code: int | None
    stdout: str = ""
    errors: tuple[str, ...] = ()


# --- value conversion, as TensorFlow's sscanf-based parser does it ---------------------------

_C_SPACE = " \t\n\v\f\r"
_INT_RE = re.compile(rf"[{_C_SPACE}]*[+-]?[0-9]+")
_FLOAT_RE = re.compile(
    rf"[{_C_SPACE}]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)",
    re.IGNORECASE,
)
_INT_RANGES: dict[_Type, tuple[int, int]] = {
    _Type.INT32: (-(2**31), 2**31 - 1),
    _Type.INT64: (-(2**63), 2**63 - 1),
}


def _convert(flag_type: _Type, text: str) -> int | float | bool | str | None:
    """Convert a flag value, or return ``None`` when TensorFlow would not interpret it.

    Integers: optional leading C white space and sign, decimal digits, nothing after
    (``sscanf("%d%c") == 1``); values outside the type's range are refused. Booleans: ``true`` /
    ``false`` in any case, ``1``, ``0``. Floats: decimal, exponent, ``inf``, ``nan``.
    """
    if flag_type is _Type.STRING:
        return text
    if flag_type is _Type.BOOL:
        lowered = text.lower()
        if lowered == "true" or text == "1":
            return True
        if lowered == "false" or text == "0":
            return False
        return None
    if flag_type is _Type.FLOAT:
        return float(text) if _FLOAT_RE.fullmatch(text) else None
    if not _INT_RE.fullmatch(text):
        return None
    value = int(text.lstrip(_C_SPACE))
    low, high = _INT_RANGES[flag_type]
    return value if low <= value <= high else None


# --- argparse glue ---------------------------------------------------------------------------

_BARE = object()
"""``const`` of every flag: marks ``--name`` written without ``=value``."""


class _ParseState(argparse.Namespace):
    """Collects values, problems and unknown tokens across the one-token parses."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, Any] = {}
        self.given: list[str] = []
        self.errors: list[str] = []
        self.failed = False
        self.unknown: list[str] = []
        self.token = ""


class _TensorFlowFlagAction(argparse.Action):
    """Store one flag the way TensorFlow's parser does (bare form only for booleans)."""

    def __init__(self, option_strings: list[str], dest: str, flag: _Flag, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.flag = flag

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        """Convert and store ``values``; record a bad value instead of raising."""
        state = cast(_ParseState, namespace)  # parse_flags always passes its _ParseState
        if values is _BARE:
            if self.flag.type is not _Type.BOOL:
                # TensorFlow only matches "--name=" for non-booleans: the token is unknown.
                state.unknown.append(state.token)
                return
            converted: Any = True
        else:
            converted = _convert(self.flag.type, values)
            if converted is None:
                state.errors.append(f"Couldn't interpret value {values} for flag {self.flag.name}.")
                state.failed = True
                return
        state.values[self.flag.name] = converted
        state.given.append(self.flag.name)


class _ParserError(Exception):
    """Raised instead of argparse's print-and-exit."""


class _NonExitingParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """Raise instead of printing usage and exiting (parsing must not print)."""
        raise _ParserError(message)


def _build_parser(flags: Sequence[_Flag]) -> argparse.ArgumentParser:
    parser = _NonExitingParser(prog=_PROG, add_help=False, allow_abbrev=False, exit_on_error=False)
    for flag in flags:
        parser.add_argument(
            f"--{flag.name}",
            dest=flag.name,
            nargs="?",
            const=_BARE,
            default=argparse.SUPPRESS,
            action=_TensorFlowFlagAction,
            flag=flag,
        )
    return parser


# --- public API ------------------------------------------------------------------------------


def _format_default(flag: _Flag) -> str:
    if flag.type is _Type.STRING:
        return f'"{flag.default}"'
    if flag.type is _Type.BOOL:
        return "true" if flag.default else "false"
    if flag.type is _Type.FLOAT:
        return f"{flag.default:f}"
    return str(flag.default)


def _usage(prog: str, flags: Sequence[_Flag]) -> str:
    lines = [f"usage: {prog}", "Flags:"]
    for flag in flags:
        shown = f"--{flag.name}={_format_default(flag)}"
        lines.append(f"\t{shown:<33}\t{flag.type.value}\t{flag.help}")
    return "\n".join(lines) + "\n"


def usage_text(prog: str = _PROG) -> str:
    """The usage text the server prints on ``--help``, bad values and unknown arguments.

    Format (TensorFlow's): ``usage: {prog}``, ``Flags:``, then per flag a tab,
    ``--name=default`` padded to 33 columns, a tab, the type, a tab, the help text.
    """
    return _usage(prog, _flag_table(_schedulable_cpus()))


def _tensorflow_version() -> str:
    # Read from the installed distribution: importing TensorFlow would take seconds.
    from importlib import metadata

    for distribution in ("tensorflow", "tensorflow-cpu", "tensorflow-macos"):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    import tensorflow as tf

    return str(tf.__version__)


def parse_flags(
    argv: Sequence[str],
    *,
    prog: str = _PROG,
    tf_version: Callable[[], str] | None = None,
) -> FlagsOutcome:
    """Parse the command line as ``tensorflow_model_server`` does (spec §2.1).

    Rules, in the real binary's order: every argument is tried against every flag (later
    values win); everything from a ``--`` on is unknown. A value that does not convert, or
    ``--help`` anywhere, means usage on stdout and exit 255 (spec §2.1; TensorFlow's parser
    itself only honours ``--help`` when it is the first unknown argument). Otherwise
    ``--version`` prints two lines and exits 0. Otherwise, the first unknown argument is
    reported (``unknown argument: {arg}`` then usage) and start-up carries on.

    Args:
        argv: the arguments after the program name (``sys.argv[1:]``).
        prog: the program name shown in the usage text's first line.
        tf_version: returns TensorFlow's version for ``--version``; the default imports
            TensorFlow, and only when ``--version`` is given.

    Returns:
        The options, or the exit code, plus what to print.
    """
    flags = _flag_table(_schedulable_cpus())
    parser = _build_parser(flags)
    state = _ParseState()
    for index, token in enumerate(argv):
        if token == "--":
            state.unknown.extend(argv[index:])
            break
        state.token = token
        try:
            _, extras = parser.parse_known_args([token], namespace=state)
        except (argparse.ArgumentError, _ParserError):
            extras = [token]
        state.unknown.extend(extras)

    usage = _usage(prog, flags)
    errors = tuple(state.errors)
    if state.failed or "--help" in state.unknown:
        return FlagsOutcome(options=None, exit_code=EXIT_FAILURE, stdout=usage, errors=errors)

    values: dict[str, Any] = {flag.name: flag.default for flag in flags}
    values.update(state.values)
    if values["version"]:
        version = (tf_version or _tensorflow_version)()
        text = f"TensorFlow ModelServer: {STAND_IN_VERSION}\nTensorFlow Library: {version}\n"
        return FlagsOutcome(options=None, exit_code=0, stdout=text, errors=errors)

    ignored = tuple(dict.fromkeys(name for name in state.given if name in IGNORED_FLAGS))
    options = ServerOptions(**values, ignored_flags_given=ignored)
    stdout = f"unknown argument: {state.unknown[0]}\n{usage}" if state.unknown else ""
    return FlagsOutcome(options=options, exit_code=None, stdout=stdout, errors=errors)


def check_options_before_config(options: ServerOptions) -> None:
    """Start-up checks the real server makes before it reads the model config (spec §3.3).

    Raises:
        ServingStatusError: INVALID_ARGUMENT with the real server's text; the caller prints
            ``Failed to start server. Error: {CODE_NAME}: {message}`` and exits 255.
    """
    if options.port == 0 and not options.grpc_socket_path:
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            "At least one of server_options.grpc_port or server_options.grpc_socket_path "
            "must be set.",
        )
    if options.use_alts_credentials and options.ssl_config_file:
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            "Either use_alts_credentials must be false or ssl_config_file must be empty.",
        )
    if not options.model_base_path and not options.model_config_file:
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            "Both server_options.model_base_path and server_options.model_config_file are empty!",
        )


def check_options_after_config(options: ServerOptions) -> None:
    """Start-up checks the real server makes after reading the model config (spec §3.3).

    Both checks are skipped when ``--platform_config_file`` is set, as in the real server.

    Raises:
        ServingStatusError: INVALID_ARGUMENT with the real server's text.
    """
    if options.platform_config_file:
        return
    if not options.enable_batching and options.batching_parameters_file:
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            "server_options.batching_parameters_file is set without setting "
            "server_options.enable_batching to true.",
        )
    if (
        options.tensorflow_intra_op_parallelism > 0
        and options.tensorflow_inter_op_parallelism > 0
        and options.tensorflow_session_parallelism > 0
    ):
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            "Either configure server_options.tensorflow_session_parallelism or "
            "(server_options.tensorflow_intra_op_parallelism, "
            "server_options.tensorflow_inter_op_parallelism) separately. "
            "You cannot configure all.",
        )


def validate_options(options: ServerOptions) -> None:
    """All option-only start-up checks, in the real server's order.

    The real server reads ``--model_config_file`` between the two groups; a caller that wants
    that exact order calls :func:`check_options_before_config`, reads the config, then
    :func:`check_options_after_config`.

    Raises:
        ServingStatusError: INVALID_ARGUMENT with the real server's text.
    """
    check_options_before_config(options)
    check_options_after_config(options)
