"""What the model manager needs to know about one configured model.

TF Serving keeps this in a ``ModelConfig`` proto (``model_server_config.proto``). The manager only
needs the name, the base path, the version policy and the labels, so it takes a small frozen
dataclass instead of the proto: the config-file parser and the single-model command line both build
one, and tests can write one in a line.
"""

from __future__ import annotations

import dataclasses
import enum
import types
from collections.abc import Iterable, Mapping

__all__ = ["ModelSpec", "PolicyKind", "VersionPolicy"]

_TENSORFLOW_PLATFORM = "tensorflow"


class PolicyKind(enum.Enum):
    """The three ``model_version_policy`` choices (``file_system_storage_path_source.proto``)."""

    LATEST = "latest"
    ALL = "all"
    SPECIFIC = "specific"


@dataclasses.dataclass(frozen=True)
class VersionPolicy:
    """Which of the versions found on disk should be served.

    Build one with :meth:`latest`, :meth:`all` or :meth:`specific`; the default is what TF Serving
    uses when a config names no policy: the single highest version.

    Attributes:
        kind: which policy.
        num_versions: for ``latest``: how many of the highest versions (0 counts as 1, as in TF
            Serving).
        versions: for ``specific``: the listed versions, in config order.
    """

    kind: PolicyKind = PolicyKind.LATEST
    num_versions: int = 1
    versions: tuple[int, ...] = ()

    @classmethod
    def latest(cls, num_versions: int = 1) -> VersionPolicy:
        """Serve the ``num_versions`` numerically largest versions present."""
        return cls(PolicyKind.LATEST, num_versions=num_versions)

    @classmethod
    def all(cls) -> VersionPolicy:
        """Serve every version present."""
        return cls(PolicyKind.ALL)

    @classmethod
    def specific(cls, versions: Iterable[int]) -> VersionPolicy:
        """Serve exactly the listed versions that are present."""
        return cls(PolicyKind.SPECIFIC, versions=tuple(int(v) for v in versions))


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One model of the server configuration.

    Attributes:
        name: the model name used in URLs.
        base_path: the directory that holds the numeric version directories; must be absolute.
        policy: the version policy.
        labels: version labels (label -> version), only from a config file.
        platform: ``model_platform``; only ``"tensorflow"`` is supported, and it may not change
            across config reloads.
    """

    name: str
    base_path: str
    policy: VersionPolicy = dataclasses.field(default_factory=VersionPolicy)
    labels: Mapping[str, int] = dataclasses.field(default_factory=dict)
    platform: str = _TENSORFLOW_PLATFORM

    def __post_init__(self) -> None:
        # Freeze the label map too, so a spec shared between threads cannot change under them.
        frozen = types.MappingProxyType({str(k): int(v) for k, v in self.labels.items()})
        object.__setattr__(self, "labels", frozen)

    def __hash__(self) -> int:
        return hash((self.name, self.base_path, self.policy, tuple(sorted(self.labels.items()))))
