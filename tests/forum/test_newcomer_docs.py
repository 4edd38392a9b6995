"""What a newcomer reads first is true: the README, the docs' references, `make run`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_readme_names_the_python_version_the_package_requires() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    version = project["requires-python"].removeprefix(">=")
    assert f"Python {version} or newer" in (ROOT / "README.md").read_text()


def test_no_doc_refers_to_a_markdown_file_that_is_not_in_the_repository() -> None:
    present = {path.name for path in ROOT.rglob("*.md") if ".venv" not in path.parts}
    missing = {
        f"{doc.relative_to(ROOT)}: {name}"
        for doc in DOCS
        for name in re.findall(r"[\w.-]+\.md\b", doc.read_text())
        if name not in present
    }
    assert not missing, sorted(missing)


def test_no_doc_points_outside_the_repository_for_its_design() -> None:
    for doc in DOCS:
        text = doc.read_text()
        assert "/work/" not in text and "shared/" not in text, doc


def test_the_readme_says_how_to_serve_on_another_port() -> None:
    assert "make run PORT=" in (ROOT / "README.md").read_text()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_serves_on_the_host_and_port_it_is_given() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KORYU_")}
    done = subprocess.run(
        ["make", "-n", "run", "PORT=8123", "HOST=127.0.0.2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    serve = [line for line in done.stdout.splitlines() if "koryu serve" in line]
    assert serve == [
        "KORYU_SITE_URL=http://127.0.0.2:8123 .venv/bin/koryu serve --host 127.0.0.2 --port 8123"
    ]
