"""The command line of ``tensorflow_model_server``, reproduced for the stand-in (``main.cc``).

TF Serving parses its flags with TensorFlow's own small parser, which differs from what Python
users expect: only ``--name=value`` is understood (``--name value`` leaves ``value`` as an
unknown argument), booleans also take the bare ``--name``, an unknown argument is reported and
then *ignored*, and a bad value or ``--help`` prints the usage text and exits 255. The stand-in
must behave the same, so harnesses written against one work against the other.

The matching and the value conversion are done by :mod:`argparse` (one token at a time, so that
``--name value`` can never consume the next token) with a custom action that applies
TensorFlow's conversion rules. Parsing never prints and never exits: :func:`parse_flags` returns
a :class:`FlagsOutcome` telling the caller what to print and whether to exit. The flags
themselves and the usage text live in :mod:`fashion.serving.startup.flag_table`, the start-up
checks on the parsed options in :mod:`fashion.serving.startup.option_checks`.

Stand-in extras (not in the real binary): ``--rest_api_bind_address`` and
``--grpc_bind_address`` (default ``127.0.0.1``; the real server binds every interface) and
``--rest_api_max_body_bytes`` (default 256 MiB; the real
server reads any body; a larger body is refused by the HTTP layer).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any, cast

from fashion.serving.startup.flag_table import (
    DEFAULT_REST_API_MAX_BODY_BYTES,
    IGNORED_FLAGS,
    INERT_FLAGS,
    PROG,
    FlagSpec,
    FlagType,
    flag_table,
    render_usage,
    schedulable_cpus,
    usage_text,
)

__all__ = [
    "DEFAULT_REST_API_MAX_BODY_BYTES",
    "EXIT_FAILURE",
    "IGNORED_FLAGS",
    "INERT_FLAGS",
    "STAND_IN_VERSION",
    "FlagsOutcome",
    "ServerOptions",
    "parse_flags",
    "usage_text",
]

STAND_IN_VERSION = "0.1.0+fashion.stand-in"
"""What ``--version`` prints after ``TensorFlow ModelServer: ``."""

EXIT_FAILURE = 255
"""``main`` returns -1 in the real binary, which the shell sees as 255."""


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
    grpc_bind_address: str
    rest_api_max_body_bytes: int
    ignored_flags_given: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class FlagsOutcome:
    """What :func:`parse_flags` decided; the caller does the printing and exiting.

    Attributes:
        options: the parsed options, or ``None`` when the process must exit.
        exit_code: ``None`` to carry on starting, else the status to exit with (0 or 255).
        stdout: text to write to stdout first (usage, ``unknown argument: ...``, version).
        bad_values: ``(value, flag name)`` of each value TensorFlow's flag parser could not
            convert; the caller logs each (``Couldn't interpret value ...``).
    """

    options: ServerOptions | None
    exit_code: int | None
    stdout: str = ""
    bad_values: tuple[tuple[str, str], ...] = ()


# --- value conversion, as TensorFlow's sscanf-based parser does it ---------------------------

_C_SPACE = " \t\n\v\f\r"
_INT_RE = re.compile(rf"[{_C_SPACE}]*[+-]?[0-9]+")
_FLOAT_RE = re.compile(
    rf"[{_C_SPACE}]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)",
    re.IGNORECASE,
)
_INT_RANGES: dict[FlagType, tuple[int, int]] = {
    FlagType.INT32: (-(2**31), 2**31 - 1),
    FlagType.INT64: (-(2**63), 2**63 - 1),
}


def _convert(flag_type: FlagType, text: str) -> int | float | bool | str | None:
    """Convert a flag value, or return ``None`` when TensorFlow would not interpret it.

    Integers: optional leading C white space and sign, decimal digits, nothing after
    (``sscanf("%d%c") == 1``); values outside the type's range are refused. Booleans: ``true`` /
    ``false`` in any case, ``1``, ``0``. Floats: decimal, exponent, ``inf``, ``nan``.
    """
    if flag_type is FlagType.STRING:
        return text
    if flag_type is FlagType.BOOL:
        lowered = text.lower()
        if lowered == "true" or text == "1":
            return True
        if lowered == "false" or text == "0":
            return False
        return None
    if flag_type is FlagType.FLOAT:
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
        self.bad_values: list[tuple[str, str]] = []
        self.failed = False
        self.unknown: list[str] = []
        self.token = ""


class _TensorFlowFlagAction(argparse.Action):
    """Store one flag the way TensorFlow's parser does (bare form only for booleans)."""

    def __init__(self, option_strings: list[str], dest: str, flag: FlagSpec, **kwargs: Any) -> None:
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
            if self.flag.type is not FlagType.BOOL:
                # TensorFlow only matches "--name=" for non-booleans: the token is unknown.
                state.unknown.append(state.token)
                return
            converted: Any = True
        else:
            converted = _convert(self.flag.type, values)
            if converted is None:
                state.bad_values.append((values, self.flag.name))
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


def _build_parser(flags: Sequence[FlagSpec]) -> argparse.ArgumentParser:
    parser = _NonExitingParser(prog=PROG, add_help=False, allow_abbrev=False, exit_on_error=False)
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
    prog: str = PROG,
    tf_version: Callable[[], str] | None = None,
) -> FlagsOutcome:
    """Parse the command line as ``tensorflow_model_server`` does (``main.cc``).

    Rules, in the real binary's order: every argument is tried against every flag (later
    values win); everything from a ``--`` on is unknown. A value that does not convert, or
    ``--help`` anywhere, means usage on stdout and exit 255 (TensorFlow's ``command_line_flags.cc``;
    that parser itself only honours ``--help`` when it is the first unknown argument). Otherwise
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
    flags = flag_table(schedulable_cpus())
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

    usage = render_usage(prog, flags)
    bad_values = tuple(state.bad_values)
    if state.failed or "--help" in state.unknown:
        return FlagsOutcome(
            options=None, exit_code=EXIT_FAILURE, stdout=usage, bad_values=bad_values
        )

    values: dict[str, Any] = {flag.name: flag.default for flag in flags}
    values.update(state.values)
    if values["version"]:
        version = (tf_version or _tensorflow_version)()
        text = f"TensorFlow ModelServer: {STAND_IN_VERSION}\nTensorFlow Library: {version}\n"
        return FlagsOutcome(options=None, exit_code=0, stdout=text, bad_values=bad_values)

    ignored = tuple(dict.fromkeys(name for name in state.given if name in IGNORED_FLAGS))
    options = ServerOptions(**values, ignored_flags_given=ignored)
    stdout = f"unknown argument: {state.unknown[0]}\n{usage}" if state.unknown else ""
    return FlagsOutcome(options=options, exit_code=None, stdout=stdout, bad_values=bad_values)
