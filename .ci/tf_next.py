"""`tox -e tf-next`: the whole suite on the newest TensorFlow pre-release, if the index has one.

1. Asks the package index, through this environment's pip (`pip index versions --pre`), for
   tensorflow's versions that have wheels for this Python. If the newest pre-release is not newer
   than the newest release, prints `tf-next: no TensorFlow pre-release newer than X.Y.Z ...` and
   exits 0 without testing (.ci/run reports that as NO PRE-RELEASE).
2. Installs that pre-release pinned exactly, together with the project's other dependencies and
   test extras read from pyproject.toml: only TensorFlow is a pre-release (and what it requires:
   2.22.0rc0 requires keras-nightly), numpy, protobuf, grpcio, ... stay on releases, so a
   failure is TensorFlow's.
3. Installs tensorflow-serving-api of the same minor version, a pre-release if that is all there
   is; when the index has none, the newest released one, and says so. Always with --no-deps:
   its only requirements (tensorflow, protobuf, grpcio) are TensorFlow's own, and pip must not
   swap the pre-release for a release to satisfy an older `tensorflow<...` pin. `pip check` then
   prints whether its declared range admits the pre-release.
4. Installs the project itself with --no-deps: it keeps declaring the TensorFlow range it
   supports (`tensorflow<2.22` today), and `pip check` says so, plainly.
5. Runs `python -m pytest` with the arguments given to tox, and exits with its status.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name
from pip._vendor.packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIP = [sys.executable, "-m", "pip"]
PREFIX = "tf-next:"


def say(message: str) -> None:
    print(f"{PREFIX} {message}", flush=True)


def index_versions(project: str) -> list[Version]:
    """Every version of `project` on the index with a file this interpreter can install."""
    done = subprocess.run(
        [*PIP, "index", "versions", "--pre", project],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"^Available versions: (.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or not match:
        sys.stderr.write(done.stdout + done.stderr)
        say(f"could not list {project}'s versions on the index (pip exit {done.returncode})")
        sys.exit(2)
    return sorted(Version(v.strip()) for v in match.group(1).split(","))


def minor(version: Version) -> tuple[int, int]:
    return version.release[0], version.release[1]


def pip(*args: str) -> None:
    """``pip install -q ARGS``; what was installed is summed up after all three installs."""
    print("+ pip install " + " ".join(args), flush=True)
    subprocess.run([*PIP, "install", "-q", *args], check=True)


def project_requirements() -> list[str]:
    """The project's dependencies and test extras, less tensorflow and tensorflow-serving-api."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        from pip._vendor import tomli as tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    ours = {"tensorflow", "tensorflow-serving-api"}
    return [r for r in wanted if canonicalize_name(Requirement(r).name) not in ours]


def installed(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def main(pytest_args: list[str]) -> int:
    python = "{}.{}".format(*sys.version_info[:2])
    tf_versions = index_versions("tensorflow")
    newest_release = max(v for v in tf_versions if not v.is_prerelease)
    newest = max(tf_versions)
    if not newest.is_prerelease or newest <= newest_release:
        say(
            f"no TensorFlow pre-release newer than {newest_release} on the index "
            f"for Python {python}; nothing to test"
        )
        return 0
    say(f"TensorFlow {newest} (newest release: {newest_release}), Python {python}")

    api_versions = index_versions("tensorflow-serving-api")
    same_minor = [v for v in api_versions if minor(v) == minor(newest)]
    if same_minor:
        api = max(same_minor)
        say(f"tensorflow-serving-api {api}: the newest of TensorFlow's minor version")
    else:
        api = max(v for v in api_versions if not v.is_prerelease)
        say(
            "the index has no tensorflow-serving-api {}.{}.*; using the newest release, {} "
            "(with --no-deps; pip check below says whether it admits {})".format(
                *minor(newest), api, newest
            )
        )

    pip(f"tensorflow=={newest}", *project_requirements())
    pip("--no-deps", f"tensorflow-serving-api=={api}")
    pip("--no-deps", str(ROOT))
    check = subprocess.run([*PIP, "check"], capture_output=True, text=True, check=False)
    for line in (check.stdout + check.stderr).splitlines():
        say(f"pip check: {line}")
    say(
        "installed: "
        + ", ".join(
            f"{name} {installed(name)}"
            for name in (
                "tensorflow",
                "tensorflow-serving-api",
                "keras",
                "keras-nightly",
                "numpy",
                "protobuf",
                "grpcio",
            )
        )
    )
    status = subprocess.run([sys.executable, "-m", "pytest", *pytest_args], check=False).returncode
    say(f"pytest exit {status} on TensorFlow {newest} + tensorflow-serving-api {api}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
