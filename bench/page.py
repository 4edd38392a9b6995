"""Page render: the thread page of a 200-post thread against a static body of the same size.

Each pair measures the bare body and, for koryu, three readers of the same page: a visitor
(``ours``), a signed-in reader (``logged_in``: the admin's bearer token, so nothing of the
page is cached for them) and a returning visitor revalidating (``not_modified``: the cookie
and ``If-None-Match`` of its first visit, answered 304). Ratios are against the same pair's
bare run (issue 14's targets: ≥ 0.3, ≥ 0.15, ≥ 0.6)."""

from __future__ import annotations

import urllib.request
from typing import Any

from bench.common import Context, Invalid
from bench.http_load import http_load
from bench.site import koryu_env, start_baseline, start_koryu

__all__ = ["run_page"]

CLIENTS = 16


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read(), dict(response.headers.items())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers.items())


def _returning_visitor(url: str) -> tuple[str, str]:
    """A first visit's cookies and the ETag it was given: what a browser sends back."""
    request = urllib.request.Request(url)  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        cookies = response.headers.get_all("Set-Cookie") or []
        etag = response.headers.get("ETag", "")
    return "; ".join(c.split(";", 1)[0] for c in cookies), etag


def run_page(ctx: Context, *, seconds: float) -> dict[str, Any]:
    seed = ctx.sqlite_seed
    assert seed.page_thread is not None
    env = koryu_env(ctx.sqlite_url, ctx.work / "data")
    path = f"/t/{seed.page_thread}"
    ours = start_koryu("page-ours", env, ctx.logs, ctx.server_cpus)
    try:
        bare = start_baseline("page-bare", env, ctx.logs, ctx.server_cpus)
        try:
            status, body, headers = _get(f"{ours.base}{path}")
            if status != 200:
                raise Invalid(f"thread page answered {status}")
            size = len(body)
            etag = {k.lower(): v for k, v in headers.items()}.get("etag")
            shown = body.count(b'<article class="post')
            for _ in range(5):
                _get(f"{ours.base}{path}")
                _get(f"{bare.base}/page/{size}")
            conditional = None
            revisit: dict[str, str] = {}
            if etag:
                # A returning visitor: its own cookie and the ETag of its first visit.
                cookie, etag = _returning_visitor(f"{ours.base}{path}")
                revisit = {"If-None-Match": etag, **({"Cookie": cookie} if cookie else {})}
                status, _, _ = _get(f"{ours.base}{path}", revisit)
                if status != 304:
                    raise Invalid(f"a returning visitor got {status}, not 304")
                ctx.say("page render: conditional GET (If-None-Match), 304 checked")
            signed_in = seed.auth
            status, body_in, _ = _get(f"{ours.base}{path}", signed_in)
            if status != 200 or body_in.count(b'<article class="post') != shown:
                raise Invalid(f"the signed-in reader got {status}")
            runs: dict[str, tuple[int, str, dict[str, str]]] = {
                "ours": (ours.port, path, {}),
                "bare": (bare.port, f"/page/{size}", {}),
                "logged_in": (ours.port, path, signed_in),
            }
            if revisit:
                runs["not_modified"] = (ours.port, path, revisit)
            pairs = []
            for k in range(ctx.pairs):
                kinds = list(runs) if k % 2 == 0 else list(reversed(runs))
                pair: dict[str, Any] = {}
                for kind in kinds:
                    ctx.say(f"page render pair {k + 1}/{ctx.pairs}: {kind}")
                    port, target, headers = runs[kind]
                    pair[kind] = http_load(
                        ctx,
                        f"page-{kind}-{k}",
                        port,
                        "GET",
                        target,
                        headers=headers,
                        connections=CLIENTS,
                        seconds=seconds,
                    )
                pairs.append(pair)
            if revisit:
                conditional = pairs[-1]["not_modified"]
        finally:
            bare.stop()
    finally:
        ours.stop()
    return {
        "bytes": size,
        "etag": etag,
        "post_elements": shown,
        "pairs": pairs,
        "conditional": conditional,
    }
