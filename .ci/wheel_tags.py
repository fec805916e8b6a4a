"""Print the tables of docs/tensorflow-versions.md from the package index, not from memory.

For each TensorFlow minor version from FIRST (default 2.15) on, pre-releases included: its
versions, the CPython tags of its Linux x86_64 wheels, their Requires-Python; and every
tensorflow-serving-api version of that minor with the tensorflow and protobuf it requires.
The file lists come from the index's simple API (JSON), fetched through pip's own session and
configured index; only the tensorflow-serving-api wheels (pure Python, about 30 kB each) are
downloaded, to read their METADATA. Uses pip's internal session: pip >= 23.

    python .ci/wheel_tags.py [FIRST]
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from collections import defaultdict
from email.parser import HeaderParser

from pip._internal.commands import create_command
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import parse_wheel_filename
from pip._vendor.packaging.version import Version

JSON = "application/vnd.pypi.simple.v1+json"


def main(first: str = "2.15") -> None:
    command = create_command("download")
    options, _ = command.parse_args([])
    session = command._build_session(options)
    index = options.index_url.rstrip("/")
    low = Version(first)

    def wheels(project: str) -> dict[Version, list[dict]]:
        reply = session.get(f"{index}/{project}/", headers={"Accept": JSON})
        reply.raise_for_status()
        found: dict[Version, list[dict]] = defaultdict(list)
        for file in reply.json()["files"]:
            if file["filename"].endswith(".whl") and not file.get("yanked"):
                version = parse_wheel_filename(file["filename"])[1]
                if version.release[:2] >= low.release[:2]:
                    found[version].append(file)
        return found

    def minor(version: Version) -> str:
        return "{}.{}".format(*version.release[:2])

    print("| TensorFlow | versions | Linux x86_64 wheels | Requires-Python |")
    print("|---|---|---|---|")
    by_minor: dict[str, list[Version]] = defaultdict(list)
    tf = wheels("tensorflow")
    for version in sorted(tf):
        by_minor[minor(version)].append(version)
    for name, versions in by_minor.items():
        tags = set()
        for version in versions:
            for file in tf[version]:
                for tag in parse_wheel_filename(file["filename"])[3]:
                    if tag.platform.endswith("x86_64") and "linux" in tag.platform:
                        tags.add(tag.interpreter)
        python = {file.get("requires-python") for v in versions for file in tf[v]}
        print(
            f"| {name} | {', '.join(map(str, versions))} "
            f"| {', '.join(sorted(tags, key=lambda t: int(t[2:])))} "
            f"| {', '.join(sorted(p or '-' for p in python))} |"
        )

    print()
    print("| tensorflow-serving-api | requires tensorflow | requires protobuf |")
    print("|---|---|---|")
    for version, files in sorted(wheels("tensorflow-serving-api").items()):
        data = session.get(files[0]["url"]).content
        with zipfile.ZipFile(io.BytesIO(data)) as wheel:
            meta = next(n for n in wheel.namelist() if re.search(r"\.dist-info/METADATA$", n))
            headers = HeaderParser().parsestr(wheel.read(meta).decode())
        needs = {}
        for line in headers.get_all("Requires-Dist") or []:
            requirement = Requirement(line)
            if not requirement.marker:
                needs[requirement.name.lower()] = str(requirement.specifier)
        print(f"| {version} | {needs.get('tensorflow', '-')} | {needs.get('protobuf', '-')} |")


if __name__ == "__main__":
    main(*sys.argv[1:2])
