"""Signed, expiring tokens for links sent by email (confirm an address, unsubscribe, reset a
password): HMAC-SHA256 over the purpose and the payload, with the site's secret key."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["BadSignature", "sign", "unsign"]


class BadSignature(Exception):
    """Altered, expired, or made for another purpose."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, body: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}\n{body}".encode(), hashlib.sha256).digest()
    return _b64(digest)


def sign(secret: str, purpose: str, payload: dict[str, Any], *, expires: datetime | None) -> str:
    data = {**payload, "exp": int(expires.timestamp()) if expires else None}
    body = _b64(orjson.dumps(data))
    return f"{body}.{_mac(secret, purpose, body)}"


def unsign(secret: str, purpose: str, token: str, *, now: datetime | None = None) -> dict[str, Any]:
    body, _, mac = token.partition(".")
    if not body or not mac or len(token) > 2000:
        raise BadSignature(purpose)
    if not hmac.compare_digest(mac, _mac(secret, purpose, body)):
        raise BadSignature(purpose)
    try:
        data = orjson.loads(_unb64(body))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise BadSignature(purpose) from exc
    if not isinstance(data, dict):
        raise BadSignature(purpose)
    expires = data.pop("exp", None)
    if expires is not None and (now or datetime.now(UTC)).timestamp() > expires:
        raise BadSignature(purpose)
    return data
