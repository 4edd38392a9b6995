"""The uploads' tests run on both stores: a directory, and moto's S3 server on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from forum.config import Settings

BUCKET = "koryu-test"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client: Any = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    client.close()
    try:
        yield endpoint
    finally:
        server.stop()


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
