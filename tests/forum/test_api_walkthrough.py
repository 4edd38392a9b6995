"""docs/api.md's curl walk-through runs as written against a fresh demo site."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from tests.forum.demo_site import demo_site

ROOT = Path(__file__).resolve().parents[2]
KORYU = [sys.executable, "-m", "forum.cli"]


def walkthrough() -> str:
    """The shell blocks of the walk-through section, in order, as one script."""
    text = (ROOT / "docs/api.md").read_text()
    section = text.split("## Walk-through with curl", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```sh\n(.*?)^```", section, flags=re.S | re.M)
    assert blocks, "docs/api.md has no sh block in its walk-through"
    return "\n".join(blocks)


def test_every_curl_of_the_walkthrough_fails_on_an_error_status() -> None:
    commands = re.findall(r"\bcurl\b[^\n]*", walkthrough())
    assert commands
    assert all(" -fsS " in command for command in commands), commands


def test_the_walkthrough_defines_its_base_url_with_a_default() -> None:
    assert walkthrough().startswith("BASE=${BASE:-http://127.0.0.1:8000}\n")


@pytest.mark.slow
def test_the_walkthrough_runs_verbatim_against_the_demo_site(tmp_path: Path) -> None:
    # What the doc's variables point at at the end, to check the outcome through the API.
    report = '\necho "RESULT $THREAD $REPLY $QUESTION $BOARD $ME"\n'
    with demo_site(KORYU, tmp_path, cwd=ROOT) as base:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", walkthrough() + report],
            env={**os.environ, "BASE": base},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        result = done.stdout.rsplit("RESULT ", 1)[1].split()
        thread, reply, question, board, me = result
        with httpx2.Client(base_url=f"{base}/api/v1", timeout=10) as api:
            shown = api.get(f"/threads/{thread}").json()
            posts = api.get(f"/threads/{thread}/posts").json()["items"]
            assert api.get(f"/boards/{board}").json()["description"].startswith("隊員の募集")
            assert api.get(f"/users/{me}").json()["affiliation"] == "municipality"
    assert shown["pinned"] and shown["featured"] and shown["board"] == board
    by_id = {str(post["id"]): post for post in posts}
    assert reply not in by_id  # edited, then deleted
    assert by_id[question]["kind"] == "question"
    assert by_id[question]["anonymous"] is True
    assert by_id[question]["votes"] == 0  # voted for, then the vote withdrawn
