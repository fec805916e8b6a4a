"""Finding each model's versions on disk (``file_system_storage_path_source.cc``).

One scan lists every configured base path and turns the numeric children into the set of
*aspired* versions of each model under its version policy. The rules reproduced here are the
observable ones of ``file_system_storage_path_source.cc``: version names parse like absl
``SimpleAtoi`` (sign, leading zeros and surrounding whitespace allowed), files count as well as
directories, duplicates are resolved with a warning, and a single missing base path makes the whole
scan fail so that no model's aspired set changes in that round.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Mapping

from fashion.serving.logs import texts as log
from fashion.serving.models.model_spec import ModelSpec, PolicyKind
from fashion.serving.status import Code, ServingStatusError

__all__ = ["parse_version", "poll_file_system", "scan_model", "scan_models"]


_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
# absl::ascii_isspace: space, \t, \n, \v, \f, \r (and nothing outside ASCII).
_ASCII_WHITESPACE = " \t\n\v\f\r"
_ASCII_DIGITS = frozenset("0123456789")

# TensorFlow's errno -> status code mapping (tensorflow/core/platform/errors.cc, ErrnoToCode), for
# the errors a directory listing can give.
_ERRNO_CODES: dict[int, Code] = {
    errno.ENOENT: Code.NOT_FOUND,
    errno.ENOTDIR: Code.FAILED_PRECONDITION,
    errno.EISDIR: Code.FAILED_PRECONDITION,
    errno.EACCES: Code.PERMISSION_DENIED,
    errno.EPERM: Code.PERMISSION_DENIED,
    errno.ENAMETOOLONG: Code.INVALID_ARGUMENT,
    errno.ELOOP: Code.FAILED_PRECONDITION,
    errno.EMFILE: Code.RESOURCE_EXHAUSTED,
    errno.ENFILE: Code.RESOURCE_EXHAUSTED,
    errno.ENOMEM: Code.RESOURCE_EXHAUSTED,
}


def parse_version(name: str) -> int | None:
    """Parse a base-path child name as a version number, like absl ``SimpleAtoi`` into int64.

    Surrounding ASCII whitespace and one leading ``+`` or ``-`` are accepted, then one or more
    ASCII digits (leading zeros allowed) and nothing else; values outside int64 are rejected.

    Args:
        name: the child's file name.

    Returns:
        The version number, or None when the name is not a version.
    """
    text = name.strip(_ASCII_WHITESPACE)
    negative = text.startswith("-")
    if text[:1] in ("-", "+"):
        text = text[1:]
    if not text or not set(text) <= _ASCII_DIGITS:
        return None
    value = -int(text) if negative else int(text)
    if value < _INT64_MIN or value > _INT64_MAX:
        return None
    return value


def _status_from_os_error(exc: OSError, path: str) -> ServingStatusError:
    """Render a failed listing the way TensorFlow's ``IOError(context, errno)`` does."""
    number = exc.errno or 0
    reason = os.strerror(number) if number else str(exc)
    return ServingStatusError(_ERRNO_CODES.get(number, Code.UNKNOWN), f"{path}; {reason}")


def _list_children(base_path: str) -> list[str]:
    """Names of the base path's children, sorted as TF Serving's ``std::set`` holds them."""
    try:
        names = os.listdir(base_path)
    except OSError as exc:
        raise _status_from_os_error(exc, base_path) from exc
    # Sort by UTF-8 bytes, the order of a std::set<std::string>.
    return sorted(names, key=lambda n: n.encode("utf-8", "surrogateescape"))


def _index_by_version(children: Iterable[str]) -> dict[int, str]:
    """Map version -> child; of duplicates the last in sorted order wins, with a warning."""
    by_version: dict[int, str] = {}
    for child in children:
        version = parse_version(child)
        if version is None:
            continue
        if version in by_version:
            log.duplicate_version_directories(version, child, by_version[version])
        by_version[version] = child
    return by_version


def _specific_fast_path(spec: ModelSpec) -> dict[int, str] | None:
    """Aspire the listed versions when each exists under its canonical name, without a listing.

    Returns None when some listed version has no ``{base}/{version}`` entry, so the general scan
    (with its per-version warnings) must run.
    """
    found: dict[int, str] = {}
    for version in spec.policy.versions:
        path = os.path.join(spec.base_path, str(version))
        if not os.path.exists(path):
            return None
        found[version] = path
    return found


def scan_model(spec: ModelSpec) -> dict[int, str]:
    """Compute one model's aspired versions from its base path.

    Args:
        spec: the model to scan.

    Returns:
        Aspired version -> version directory path. Empty when nothing qualifies (then a warning
        is logged, and the manager unloads every version of the model).

    Raises:
        ServingStatusError: INVALID_ARGUMENT when the base path does not exist, or the listing's
            error when it cannot be listed.
    """
    if not os.path.exists(spec.base_path):
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            f"Could not find base path {spec.base_path} for servable {spec.name} with error "
            f"NOT_FOUND: {spec.base_path} not found",
        )
    policy = spec.policy
    if policy.kind is PolicyKind.SPECIFIC:
        if not policy.versions:
            log.no_specific_versions_requested(spec.name)
            return {}
        fast = _specific_fast_path(spec)
        if fast is not None:
            return fast

    children = _list_children(spec.base_path)
    by_version = _index_by_version(children)
    aspired: dict[int, str] = {}
    if policy.kind is PolicyKind.LATEST:
        wanted = max(policy.num_versions, 1)
        for version in sorted(by_version, reverse=True)[:wanted]:
            aspired[version] = by_version[version]
    elif policy.kind is PolicyKind.ALL:
        # TF Serving hands every numeric child to the manager, which keeps the first one it sees
        # for a version number: the first in sorted order, unlike the other policies.
        for child in children:
            version = parse_version(child)
            if version is not None and version not in aspired:
                aspired[version] = child
    else:
        requested = set(policy.versions)
        for version, child in by_version.items():
            if version in requested:
                aspired[version] = child
        for version in dict.fromkeys(policy.versions):
            if version not in aspired:
                log.specific_version_not_found(spec.name, version)
    if not aspired:
        log.no_versions_found(spec.name, spec.base_path)
    return {version: os.path.join(spec.base_path, child) for version, child in aspired.items()}


def scan_models(specs: Iterable[ModelSpec]) -> dict[str, dict[int, str]]:
    """Scan every model; the first failure aborts the whole scan, as in TF Serving.

    Args:
        specs: the configured models.

    Returns:
        Model name -> aspired version -> path.

    Raises:
        ServingStatusError: the first model's scan error.
    """
    return {spec.name: scan_model(spec) for spec in specs}


def poll_file_system(specs: Iterable[ModelSpec]) -> Mapping[str, dict[int, str]] | None:
    """One scanner round: scan all models, or log the failure and report no update at all.

    Args:
        specs: the configured models.

    Returns:
        The aspired versions per model, or None when the scan failed (nothing may change then:
        one missing base path blocks updates for every model, as in TF Serving).
    """
    try:
        return scan_models(specs)
    except ServingStatusError as exc:
        log.filesystem_access_error(exc.message)
        return None
