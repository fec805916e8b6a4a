"""What ``fashion check`` was asked to do, and the one error for input it cannot check.

The options are a frozen dataclass so the CLI, the Python API and a pytest plugin build the same
thing; nothing here imports TensorFlow.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fashion.clients.arguments import DEFAULT_TIMEOUT

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_RTOL",
    "READY_TIMEOUT",
    "TRANSPORTS",
    "CheckInputError",
    "CheckOptions",
    "DimOverride",
    "parse_dim",
]

#: Relative tolerance between the server's answers and the in-process ones.
DEFAULT_RTOL = 1e-6
#: The "N" of the batch sizes 1 and N that built requests use.
DEFAULT_BATCH_SIZE = 4
#: Seconds a server may take from its start to "every version is AVAILABLE".
READY_TIMEOUT = 120.0
#: ``--transport`` choices: which of TF Serving's two APIs the served checks use.
TRANSPORTS = ("rest", "grpc", "both")

_DIM = re.compile(r"^(?P<name>[^=:]+?)(?::(?P<axis>\d+))?=(?P<size>\d+)$")


class CheckInputError(ValueError):
    """Raised when the path, an option or a ``--requests`` line is not something to check."""


@dataclass(frozen=True)
class DimOverride:
    """A size for unknown (-1) dimensions of one input: ``--dim NAME=SIZE`` or ``NAME:AXIS=SIZE``.

    Attributes:
        name: the input's alias in its signature (or a dimension's own name, when it has one).
        size: the size to send.
        axis: one axis only; None means every unknown axis after the first (batch) one.
    """

    name: str
    size: int
    axis: int | None = None


def parse_dim(text: str) -> DimOverride:
    """Parse ``NAME=SIZE`` or ``NAME:AXIS=SIZE`` (sizes and axes are non-negative integers).

    Raises:
        CheckInputError: the text has another form.
    """
    match = _DIM.match(text.strip())
    if match is None:
        raise CheckInputError(f"expected NAME=SIZE or NAME:AXIS=SIZE, got {text!r}")
    axis = match.group("axis")
    return DimOverride(match.group("name"), int(match.group("size")), int(axis) if axis else None)


@dataclass(frozen=True)
class CheckOptions:
    """Everything ``fashion check`` can be told; the defaults are the command's.

    Attributes:
        model_server: ``--model-server`` (see :data:`fashion.servers.MODEL_SERVER_CHOICES`);
            None reads ``$FASHION_MODEL_SERVER`` and defaults to ``auto``.
        container_engine: ``docker`` or ``podman`` for a ``docker[:IMAGE]`` server.
        docker_pull: allow pulling a missing image.
        model_name: the name the model is served under; None: the base path's directory name.
        batch_size: the N of the batch sizes 1 and N that requests are built for.
        dims: sizes for unknown dimensions that are not the batch dimension.
        rtol: relative tolerance between served and in-process outputs.
        atol: absolute tolerance between served and in-process outputs.
        requests: a JSON-lines file of golden requests (``--requests``).
        new_version: a SavedModel to hot-load as the next version once the checks ran.
        repeat: how many times each built request is sent (for the p50 column).
        seed: seeds the built inputs' values.
        server_flags: more ``tensorflow_model_server`` flags for a server the check starts
            (``--server-flag``), as production runs it: ``--enable_batching``,
            ``--saved_model_tags=serve,gpu`` (the in-process side loads the same MetaGraph).
            The check sets the ports, the model config file, ``--max_num_load_retries`` and
            ``--file_system_poll_wait_seconds`` itself, and refuses them here.
        ready_timeout: seconds to wait for every version to be AVAILABLE.
        request_timeout: seconds for each request.
        work_dir: keep the staged base path and the server's log here (default: a temporary
            directory, removed afterwards).
        transport: ``--transport``: ``rest``, ``grpc`` or ``both`` (the default: every TF Serving
            serves both, and most production clients use gRPC). The server's status API is read
            over REST whatever this says (to wait for the versions); it chooses the checks' rows.
    """

    model_server: str | None = None
    container_engine: str | None = None
    docker_pull: bool = False
    model_name: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    dims: tuple[DimOverride, ...] = ()
    rtol: float = DEFAULT_RTOL
    atol: float = 0.0
    requests: Path | None = None
    new_version: Path | None = None
    repeat: int = 3
    seed: int = 0
    ready_timeout: float = READY_TIMEOUT
    request_timeout: float = DEFAULT_TIMEOUT
    work_dir: Path | None = None
    transport: str = "both"
    server_flags: tuple[str, ...] = ()
    _dim_index: Mapping[str, tuple[DimOverride, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise CheckInputError(f"the batch size must be at least 1, got {self.batch_size}")
        if self.transport not in TRANSPORTS:
            raise CheckInputError(
                f"transport must be one of {', '.join(TRANSPORTS)}, got {self.transport!r}"
            )
        if self.repeat < 1:
            raise CheckInputError(f"repeat must be at least 1, got {self.repeat}")
        for name, value in (("rtol", self.rtol), ("atol", self.atol)):
            if not (math.isfinite(value) and value >= 0):
                raise CheckInputError(f"{name} must be a non-negative number, got {value!r}")
        for flag in self.server_flags:
            _check_server_flag(flag)
        index: dict[str, tuple[DimOverride, ...]] = {}
        for dim in self.dims:
            index[dim.name] = (*index.get(dim.name, ()), dim)
        object.__setattr__(self, "_dim_index", index)

    @property
    def over_rest(self) -> bool:
        """Whether the served checks go over REST."""
        return self.transport in ("rest", "both")

    @property
    def over_grpc(self) -> bool:
        """Whether the served checks go over gRPC."""
        return self.transport in ("grpc", "both")

    @property
    def saved_model_tags(self) -> tuple[str, ...]:
        """The MetaGraph tags the server loads: ``--saved_model_tags`` among the server flags,
        split on commas as ``main.cc`` splits it, else ``serve``."""
        tags = ("serve",)
        for flag in self.server_flags:
            if server_flag_name(flag) == "saved_model_tags":
                tags = tuple(tag for tag in flag.partition("=")[2].split(",") if tag)
        return tags

    def dim_size(self, input_name: str, axis: int, dim_name: str = "") -> int | None:
        """The ``--dim`` size for an unknown axis of an input, or None when none was given."""
        for key in (input_name, dim_name):
            for dim in self._dim_index.get(key, ()) if key else ():
                if dim.axis is None or dim.axis == axis:
                    return dim.size
        return None


#: Flags a server started by the check always gets from the check itself.
_CHECK_OWNS = frozenset(
    {
        "port",
        "rest_api_port",
        "model_config_file",
        "model_name",
        "model_base_path",
        "max_num_load_retries",
        "file_system_poll_wait_seconds",
    }
)
_FLAG = re.compile(r"^--(?P<name>[A-Za-z_][A-Za-z0-9_]*)(=.*)?$", re.DOTALL)


def server_flag_name(flag: str) -> str:
    """The name of a ``--name`` or ``--name=value`` server flag.

    Raises:
        CheckInputError: the flag has another form.
    """
    match = _FLAG.match(flag)
    if match is None:
        raise CheckInputError(f"a server flag is --name or --name=value, got {flag!r}")
    return match.group("name")


def _check_server_flag(flag: str) -> None:
    name = server_flag_name(flag)
    if name in _CHECK_OWNS:
        raise CheckInputError(
            f"--{name} is set by fashion check itself; it cannot be a server flag"
        )
    if name == "saved_model_tags" and not flag.partition("=")[2].strip(","):
        raise CheckInputError("--saved_model_tags needs at least one tag, such as serve,gpu")
