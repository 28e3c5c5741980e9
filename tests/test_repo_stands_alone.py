"""A clone of the repository tests on its own: nothing the suite, the
benchmarks or the scripts run reads outside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAYLOADS = ROOT / "tests" / "fixtures" / "payloads"

# Ways a path can climb out of the repository: a relative path up into the
# folder beside it, parents[2] of a file one folder down, or an env override.
OUTSIDE = re.compile(r"\.\./shared|parents\[[2-9]\]|[\"']shared[\"']\s*/|TREEBEARD_SAMPLES")


def tracked(*patterns: str) -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [ROOT / line for line in out.splitlines()]


def test_no_test_bench_or_script_reads_outside_the_repository():
    files = tracked("*.py", "Makefile", ".ci/run", "*.sh", "*.cfg", "*.toml")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        if path.exists() and path.name != Path(__file__).name
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []


def test_every_payload_a_test_names_is_in_the_repository():
    named = set()
    for path in tracked("tests/*.py", "bench/*.py"):
        named |= set(re.findall(r"[\"']([a-z]+/[A-Za-z0-9_.]+\.json)[\"']", path.read_text()))
    assert named, "the ingestion tests name their payloads as '<tool>/<file>.json'"
    missing = sorted(name for name in named if not (PAYLOADS / name).is_file())
    assert missing == []


def test_payload_folders_say_where_their_files_came_from():
    readme = (PAYLOADS / "README.md").read_text()
    for folder in sorted(p for p in PAYLOADS.iterdir() if p.is_dir()):
        assert f"`{folder.name}/`" in readme
        assert (folder / "README.md").is_file()
