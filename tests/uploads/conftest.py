"""The uploads' tests run on both stores: a directory, and moto's S3 server on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from forum.config import Settings

BUCKET = "koryu-test"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    # A process of its own, so that what the app's process holds is measured apart from
    # what the object store holds.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    client: Any = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client.create_bucket(Bucket=BUCKET)
                break
            except Exception:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        client.close()
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(params=["file", "s3"])
def uploads_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "file":
        return f"file://{tmp_path / 'uploads'}"
    endpoint: str = request.getfixturevalue("s3_endpoint")
    # Each test its own prefix in the one bucket.
    return f"s3://testing:testing@{BUCKET}/{uuid.uuid4().hex}?endpoint={endpoint}&region=us-east-1"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, uploads_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key",
        data_dir=tmp_path,
        allowed_origins=frozenset({"http://127.0.0.1:8000", "http://testserver"}),
        password_hasher="fast",
        uploads_url=uploads_url,
    )
