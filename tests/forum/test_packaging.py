"""A wheel built from the checkout, installed outside it, serves every kind of page."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import httpx2
import pytest

from tests.forum.demo_site import demo_site

ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "koryu-demo-2026"
PIP = [sys.executable, "-m", "pip"]


def clone(target: Path) -> Path:
    """The checkout as a fresh clone would have it: tracked files and new, unignored ones."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the work tree is not there
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def build_wheel(source: Path, out: Path) -> Path:
    # Without isolation the build uses this venv's setuptools (the test extras pin >=77).
    built = subprocess.run(
        [*PIP, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = out.glob("koryu-*.whl")
    return wheel


def fresh_venv(path: Path, wheel: Path) -> Path:
    """A new virtualenv holding only the wheel; its dependencies come from this one's
    site-packages through a .pth line, which (unlike --system-site-packages) cannot bring
    the checkout or the editable install along: .pth files of an added path are not read."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "koryu_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"])
    subprocess.run(
        [*PIP, "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return python


def test_the_wheel_lists_templates_static_files_catalogs_and_migrations(
    tmp_path: Path,
) -> None:
    wheel = build_wheel(clone(tmp_path / "clone"), tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("templates", "static", "locale", "migrations"):
        shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "forum" / folder).rglob("*")}
        files = {name for name in shipped if (ROOT / name).is_file() and "__pycache__" not in name}
        assert files, folder
        assert files <= names, sorted(files - names)


@pytest.mark.slow
def test_a_wheel_installed_outside_the_checkout_serves_every_page(tmp_path: Path) -> None:
    wheel = build_wheel(clone(tmp_path / "clone"), tmp_path / "dist")
    python = fresh_venv(tmp_path / "venv", wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import forum; print(forum.__file__)"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(tmp_path / "venv")), where

    koryu = [str(python.parent / "koryu")]
    with demo_site(koryu, elsewhere, cwd=elsewhere) as base, httpx2.Client(base_url=base) as web:
        thread = web.get("/api/v1/boards/kankei-jinko/threads").json()["items"][0]["id"]
        anonymous = [
            "/",
            "/boards",
            "/b/kankei-jinko",
            f"/t/{thread}",
            "/login",
            "/register",
            "/u/sato-town",
            "/static/style.css",
        ]
        for path in anonymous:
            assert web.get(path).status_code == 200, path
        english = web.get("/login", headers={"Accept-Language": "en"})
        assert '<html lang="en"' in english.text and "Log in" in english.text

        form = web.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        signed_in = web.post(
            "/login",
            data={"username": "mod-tanaka", "password": DEMO_PASSWORD, "csrf_token": csrf[1]},
        )
        assert signed_in.status_code in (302, 303), signed_in.text[:500]
        for path in ("/moderation", "/moderation/log", "/settings", "/notifications", "/"):
            page = web.get(path)
            assert page.status_code == 200, path
            assert "mod-tanaka" in page.text or "田中" in page.text, path
