"""The bare endpoint uploads are measured against: the same body streamed to disk, no more.

`python -m bench.upload_bare --port N --directory D` serves POST /upload with uvicorn; each
request body goes to a new file in D in the chunks it arrives in. No parsing, no checks.
"""

from __future__ import annotations

import argparse
import tempfile

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def app_for(directory: str) -> Starlette:
    async def upload(request: Request) -> JSONResponse:
        size = 0
        with tempfile.NamedTemporaryFile(dir=directory, delete=False) as out:
            async for chunk in request.stream():
                out.write(chunk)
                size += len(chunk)
        return JSONResponse({"size": size}, status_code=201)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/upload", upload, methods=["POST"]), Route("/healthz", health)])


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.upload_bare")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--directory", required=True)
    args = p.parse_args()
    uvicorn.run(app_for(args.directory), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
