"""`python -m bench.uploads [--size-mb 50] [--runs 3]`: upload throughput and peak memory,
and the time to re-encode an image with its thumbnail.

Two servers, each its own process: `koryu serve` (SQLite, files on disk) taking
POST /api/v1/uploads, and the bare endpoint of bench/upload_bare.py streaming the same
multipart body to disk. The client streams the body from a generator in 256 KiB pieces, so
it holds no copy of the file; the server's resident memory (VmRSS) is sampled every 5 ms
while the request runs. Then, in-process, `uploads.images.reencode` on generated photos of
each format (sniffing included): what one image upload spends on Pillow.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image

from bench import procs
from uploads.images import reencode
from uploads.sniff import sniff

BOUNDARY = "koryu-bench-boundary"
PIECE = 256 * 1024


def _body(size: int) -> tuple[int, Iterator[bytes]]:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="bench.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    filler = size - len(b"%PDF-1.7\n")
    block = b"0" * PIECE

    def pieces() -> Iterator[bytes]:
        yield head
        left = filler
        while left > 0:
            piece = block[: min(PIECE, left)]
            left -= len(piece)
            yield piece
        yield tail

    return len(head) - len(b"%PDF-1.7\n") + size + len(tail), pieces()


def _upload(port: int, path: str, size: int, token: str, pid: int) -> tuple[float, int, int]:
    """Seconds, the server's RSS before, and its peak RSS during the request."""
    length, pieces = _body(size)
    before = procs.rss_bytes(pid)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, procs.rss_bytes(pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    conn = http.client.HTTPConnection(procs.HOST, port, timeout=120)
    started = time.perf_counter()
    conn.request(
        "POST",
        path,
        body=pieces,
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(length),
            "Authorization": f"Bearer {token}",
        },
    )
    response = conn.getresponse()
    answer = response.read()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    conn.close()
    if response.status != 201:
        raise RuntimeError(f"{path}: {response.status} {answer[:300]!r}")
    return seconds, before, peak


def _koryu(work: Path, size: int) -> tuple[procs.Child, int, str]:
    port = procs.free_port()
    env = {
        **os.environ,
        "KORYU_DATABASE_URL": f"sqlite://{work / 'koryu.sqlite3'}",
        "KORYU_DATA_DIR": str(work),
        "KORYU_SECRET_KEY": "bench",
        "KORYU_PASSWORD_HASHER": "fast",
        "KORYU_UPLOADS_URL": f"file://{work / 'uploads'}",
        "KORYU_UPLOAD_MAX_BYTES": str(size + 1_000_000),
        "KORYU_UPLOAD_BYTES_PER_DAY": str(size * 100),
        "KORYU_SITE_URL": f"http://{procs.HOST}:{port}",
    }
    koryu = str(Path(procs.PYTHON).parent / "koryu")
    child = procs.spawn(
        "koryu",
        [koryu, "serve", "--migrate", "--port", str(port), "--log-level", "warning"],
        env=env,
        log_dir=work,
    )
    procs.wait_ready(child, f"http://{procs.HOST}:{port}/healthz")
    subprocess.run(
        [koryu, "createuser", "bench-user", "--password-stdin"],
        input=b"bench-password-123\n",
        env=env,
        check=True,
        capture_output=True,
    )
    status, body = procs.http_json(
        "POST",
        f"http://{procs.HOST}:{port}/api/v1/tokens",
        {"username": "bench-user", "password": "bench-password-123"},
    )
    if status != 201:
        raise RuntimeError(f"no token: {status} {body}")
    return child, port, str(body["token"])


def _bare(work: Path) -> tuple[procs.Child, int]:
    port = procs.free_port()
    target = work / "bare"
    target.mkdir()
    child = procs.spawn(
        "bare",
        [procs.PYTHON, "-m", "bench.upload_bare", "--port", str(port), "--directory", str(target)],
        env=dict(os.environ),
        log_dir=work,
    )
    procs.wait_ready(child, f"http://{procs.HOST}:{port}/healthz")
    return child, port


def run_uploads(size: int, runs: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as raw:
        work = Path(raw)
        try:
            koryu, k_port, token = _koryu(work, size)
            bare, b_port = _bare(work)
            for name, port, path, pid in (
                ("koryu", k_port, "/api/v1/uploads", koryu.pid),
                ("bare", b_port, "/upload", bare.pid),
            ):
                rows = [_upload(port, path, size, token, pid) for _ in range(runs)]
                results[name] = {
                    "mb_per_s": statistics.median(size / 1e6 / s for s, _b, _p in rows),
                    "rss_before_mb": max(b for _s, b, _p in rows) / 1e6,
                    "rss_peak_mb": max(p for _s, _b, p in rows) / 1e6,
                    "rss_growth_mb": max(p - b for _s, b, p in rows) / 1e6,
                }
        finally:
            procs.stop_all()
    return results


PHOTOS = [
    ("JPEG 4000×3000", "JPEG", (4000, 3000)),
    ("JPEG 1920×1080", "JPEG", (1920, 1080)),
    ("PNG 1920×1080", "PNG", (1920, 1080)),
    ("WebP 1920×1080", "WEBP", (1920, 1080)),
    ("GIF 800×600", "GIF", (800, 600)),
]


def _photo(fmt: str, size: tuple[int, int]) -> bytes:
    """Noise on a gradient: compresses like a photo, not like a flat colour."""
    noise = Image.effect_noise(size, 40).convert("RGB")
    gradient = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    Image.blend(noise, gradient, 0.5).save(out, format=fmt)
    return out.getvalue()


def run_thumbnails(repeat: int) -> list[tuple[str, int, float, float]]:
    rows = []
    for label, fmt, size in PHOTOS:
        data = _photo(fmt, size)
        timings = []
        for _ in range(repeat):
            source = io.BytesIO(data)
            started = time.perf_counter()
            rendition = reencode(source, sniff(source, len(data)))
            timings.append(time.perf_counter() - started)
            rendition.close()
        rows.append((label, len(data), statistics.median(timings) * 1000, max(timings) * 1000))
    return rows


def table(uploads: dict[str, Any], size: int, thumbs: list[tuple[str, int, float, float]]) -> str:
    k, b = uploads["koryu"], uploads["bare"]
    lines = [
        f"| {size // 1_000_000} MB upload | MB/s (median) | RSS before | RSS peak | growth |",
        "|---|---|---|---|---|",
        f"| koryu `POST /api/v1/uploads` | {k['mb_per_s']:.0f} | {k['rss_before_mb']:.0f} MB "
        f"| {k['rss_peak_mb']:.0f} MB | {k['rss_growth_mb']:.1f} MB |",
        f"| bare endpoint to disk | {b['mb_per_s']:.0f} | {b['rss_before_mb']:.0f} MB "
        f"| {b['rss_peak_mb']:.0f} MB | {b['rss_growth_mb']:.1f} MB |",
        "",
        f"Throughput {k['mb_per_s'] / b['mb_per_s']:.2f}× of bare.",
        "",
        "| image | bytes | re-encode + thumbnail p50 ms | max ms |",
        "|---|---|---|---|",
    ]
    lines += [f"| {label} | {n:,} | {p50:.0f} | {top:.0f} |" for label, n, p50, top in thumbs]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.uploads", description=__doc__)
    p.add_argument("--size-mb", type=int, default=50)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--repeat", type=int, default=5, help="re-encodes per image")
    args = p.parse_args()
    procs.install_signal_handlers()
    size = args.size_mb * 1_000_000
    uploads = run_uploads(size, args.runs)
    print(table(uploads, size, run_thumbnails(args.repeat)))


if __name__ == "__main__":
    main()
