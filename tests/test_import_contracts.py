"""The .importlinter contracts cover whole packages: a module added tomorrow is guarded today."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("forum", "realtime", "moderation", "live", "uploads")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the packages' Python files and the contracts, to add modules to."""
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            root / package,
            ignore=shutil.ignore_patterns("__pycache__", "static", "locale"),
        )
    shutil.copy(ROOT / ".importlinter", root / ".importlinter")
    return root


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / ".importlinter")],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_packages_as_they_are_keep_every_contract(tree: Path) -> None:
    done = lint_imports(tree)
    assert done.returncode == 0, done.stdout
    assert "BROKEN" not in done.stdout


# (new module, its source, the contracts it must break)
NEW_MODULES = [
    ("forum/newthing.py", "from forum.web import common\n", "no domain module of forum"),
    ("forum/newthing.py", "from forum import posts, web\n", "no domain module of forum"),
    (
        "moderation/newthing.py",
        "from moderation.web import pages\n",
        "no domain module of forum, moderation or live reaches a web layer",
    ),
    ("live/newthing.py", "from live.web import pages\n", "no domain module of forum"),
    ("forum/newthing.py", "import live.sessions\n", "forum imports live only"),
    ("forum/web/newpage.py", "from live import sessions\n", "forum imports live only"),
    ("moderation/newthing.py", "import live.models\n", "moderation knows nothing of live"),
    ("live/newthing.py", "import moderation.queue\n", "live uses moderation only through"),
    ("live/web/newpage.py", "from tortoise import Tortoise\n", "never the ORM"),
    ("live/newthing.py", "import starlette.requests\n", "import starlette"),
    (
        "forum/web/newpage.py",
        "import moderation.web\n",
        ("forum imports moderation only", "no domain module of forum"),
    ),
    ("forum/newthing.py", "import moderation.queue\n", "forum imports moderation only"),
    ("forum/newthing.py", "from forum import app\n", "only the command line may import the"),
    ("moderation/newthing.py", "import starlette.requests\n", "import starlette"),
    ("forum/web/newpage.py", "from tortoise import Tortoise\n", "never the ORM"),
    ("realtime/newthing.py", "import forum.models\n", "realtime knows nothing of forum"),
    ("forum/newthing.py", "import nh3\n", "only forum.render imports the Markdown"),
    ("moderation/newthing.py", "import linkify_it\n", "only forum.render imports the Markdown"),
    ("forum/newthing.py", "import redis\n", "only realtime.redis imports redis"),
    ("realtime/newthing.py", "import asyncpg\n", "no package imports asyncpg"),
    ("forum/newthing.py", "import uvicorn\n", "only the command line imports uvicorn"),
    ("forum/newthing.py", "import uploads.intake\n", "forum imports uploads only"),
    ("uploads/newthing.py", "import live.sessions\n", "uploads knows nothing of"),
    ("moderation/newthing.py", "import uploads.models\n", "moderation knows nothing of uploads"),
    ("uploads/newthing.py", "from uploads.web import api\n", "no domain module of forum"),
    ("uploads/newthing.py", "import PIL.Image\n", "only uploads.images imports Pillow"),
    ("forum/newthing.py", "import boto3\n", "only uploads.s3 imports the S3 client"),
]


@pytest.mark.parametrize(("path", "source", "contracts"), NEW_MODULES)
def test_a_new_module_that_imports_across_a_boundary_breaks_its_contract(
    tree: Path, path: str, source: str, contracts: str | tuple[str, ...]
) -> None:
    expected = (contracts,) if isinstance(contracts, str) else contracts
    module = tree / path
    module.write_text(source)
    try:
        done = lint_imports(tree)
    finally:
        module.unlink()
    broken = [line for line in done.stdout.splitlines() if " BROKEN" in line]
    assert done.returncode == 1, done.stdout
    assert len(broken) == len(expected), broken
    assert all(fragment in line for fragment, line in zip(expected, broken, strict=True)), broken
    assert path.removesuffix(".py").replace("/", ".") in done.stdout, done.stdout


def test_a_cycle_between_two_new_realtime_modules_breaks_the_acyclic_contract(
    tree: Path,
) -> None:
    first, second = tree / "realtime" / "first.py", tree / "realtime" / "second.py"
    first.write_text("from realtime import second\n")
    second.write_text("def later() -> None:\n    from realtime import first\n")
    try:
        done = lint_imports(tree)
    finally:
        first.unlink()
        second.unlink()
    assert done.returncode == 1, done.stdout
    assert "realtime's modules import each other without cycles BROKEN" in done.stdout
