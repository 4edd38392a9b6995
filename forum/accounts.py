"""Registration, login, sessions, tokens and roles."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError

from forum.errors import NotAuthenticated, NotFound, ValidationFailed
from forum.i18n import LOCALES
from forum.i18n import gettext as _
from forum.models import Affiliation, ApiToken, LoginSession, Role, User

__all__ = [
    "MAX_BIO",
    "ProfileEdit",
    "Registration",
    "authenticate",
    "change_role",
    "create_token",
    "end_session",
    "hash_password",
    "register",
    "start_session",
    "update_profile",
    "use_password_hasher",
    "user_for_session",
    "user_for_token",
]

USERNAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{1,30})[a-z0-9]$")
RESERVED_USERNAMES = frozenset(
    {"admin", "administrator", "root", "system", "koryu", "moderator", "api", "login", "me"}
)
MIN_PASSWORD = 10
MAX_PASSWORD = 256
MAX_BIO = 1000
PROFILE_LOCALES = ("", *LOCALES)  # "" follows the browser

_HASHERS = {
    # argon2id with the library's RFC 9106 "low memory" profile: 64 MiB, 3 passes.
    "argon2": PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY),
    # One pass over 8 KiB: for test suites only, and refused in production by forum.config.
    "fast": PasswordHasher.from_parameters(profiles.CHEAPEST),
}
_hasher = _HASHERS["argon2"]
# Per hasher, made on first use: verified against when the username is unknown, so both
# paths cost the same time.
_dummy_hashes: dict[PasswordHasher, str] = {}


def use_password_hasher(name: str) -> None:
    """Hash new passwords as ``Settings.password_hasher`` says; ``create_app`` calls this.

    Hashes made at either cost still verify (argon2 keeps its parameters in the hash), and
    ``authenticate`` rehashes one at the cost in use when its owner next logs in.
    """
    global _hasher
    _hasher = _HASHERS[name]


def _dummy_hash() -> str:
    if _hasher not in _dummy_hashes:
        _dummy_hashes[_hasher] = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hashes[_hasher]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _clean_text(value: str) -> str:
    """NFKC-fold and drop control characters, so names cannot smuggle invisible text."""
    value = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in value if unicodedata.category(ch)[0] != "C").strip()


def _clean_lines(value: str) -> str:
    """Like ``_clean_text``, keeping line breaks: for a free text such as a bio."""
    lines = unicodedata.normalize("NFKC", value).replace("\r\n", "\n").split("\n")
    return "\n".join(_clean_text(line) for line in lines).strip()


def _name_error(name: str) -> str | None:
    if not 1 <= len(_clean_text(name)) <= 50:
        return _("表示名は1〜50文字で入力してください。")
    return None


def _affiliation_error(affiliation: str) -> str | None:
    if affiliation not in {a.value for a in Affiliation}:
        return _("所属区分を選んでください。")
    return None


def _organisation_error(organisation: str) -> str | None:
    if len(_clean_text(organisation)) > 100:
        return _("所属団体名は100文字以内で入力してください。")
    return None


@dataclass(frozen=True, slots=True)
class Registration:
    username: str
    password: str
    display_name: str
    affiliation: str = Affiliation.OTHER.value
    organisation: str = ""

    def check(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not USERNAME_RE.fullmatch(self.username):
            errors["username"] = _(
                "ユーザー名は3〜32文字の半角英小文字・数字・_・- で、英数字で始まり英数字で終わる必要があります。"
            )
        elif self.username in RESERVED_USERNAMES:
            errors["username"] = _("このユーザー名は使用できません。")
        if not MIN_PASSWORD <= len(self.password) <= MAX_PASSWORD:
            errors["password"] = _("パスワードは10文字以上256文字以下にしてください。")
        checks = {
            "display_name": _name_error(self.display_name),
            "affiliation": _affiliation_error(self.affiliation),
            "organisation": _organisation_error(self.organisation),
        }
        errors.update({name: error for name, error in checks.items() if error})
        return errors


@dataclass(frozen=True, slots=True)
class ProfileEdit:
    """The profile fields a user (or, for the expert field, an admin) changes; None keeps one."""

    display_name: str | None = None
    affiliation: str | None = None
    organisation: str | None = None
    expert_field: str | None = None
    bio: str | None = None
    locale: str | None = None

    def check(self) -> dict[str, str]:
        errors: dict[str, str | None] = {}
        if self.display_name is not None:
            errors["display_name"] = _name_error(self.display_name)
        if self.affiliation is not None:
            errors["affiliation"] = _affiliation_error(self.affiliation)
        if self.organisation is not None:
            errors["organisation"] = _organisation_error(self.organisation)
        if self.expert_field is not None and len(_clean_text(self.expert_field)) > 100:
            errors["expert_field"] = _("専門分野は100文字以内で入力してください。")
        if self.bio is not None and len(_clean_lines(self.bio)) > MAX_BIO:
            errors["bio"] = _("自己紹介は1000文字以内で入力してください。")
        if self.locale is not None and self.locale not in PROFILE_LOCALES:
            errors["locale"] = _("表示言語は日本語か English を選んでください。")
        return {name: error for name, error in errors.items() if error}

    def changes(self) -> dict[str, object]:
        """The cleaned values of the fields given, as they are stored."""
        values: dict[str, object] = {}
        for name in ("display_name", "organisation", "expert_field"):
            value = getattr(self, name)
            if value is not None:
                values[name] = _clean_text(value)
        if self.affiliation is not None:
            values["affiliation"] = Affiliation(self.affiliation)
        if self.bio is not None:
            values["bio"] = _clean_lines(self.bio)
        if self.locale is not None:
            values["locale"] = self.locale
        return values


async def update_profile(
    user: User,
    *,
    display_name: str | None = None,
    affiliation: str | None = None,
    organisation: str | None = None,
    expert_field: str | None = None,
    bio: str | None = None,
    locale: str | None = None,
) -> User:
    """Change the given profile fields, checked as at registration; returns the saved user."""
    edit = ProfileEdit(
        display_name=display_name,
        affiliation=affiliation,
        organisation=organisation,
        expert_field=expert_field,
        bio=bio,
        locale=locale,
    )
    errors = edit.check()
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    changed = {name: v for name, v in edit.changes().items() if getattr(user, name) != v}
    if changed:
        user.update_from_dict(changed)
        await user.save(update_fields=list(changed))
    return user


async def register(data: Registration, *, role: Role = Role.PARTICIPANT) -> User:
    errors = data.check()
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    try:
        return await User.create(
            username=data.username,
            display_name=_clean_text(data.display_name),
            password_hash=hash_password(data.password),
            role=role,
            affiliation=Affiliation(data.affiliation),
            organisation=_clean_text(data.organisation),
        )
    except IntegrityError:
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            code="username_taken",
            fields={"username": _("このユーザー名はすでに使われています。")},
        ) from None


def is_suspended(user: User, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return user.suspended_until is not None and user.suspended_until > now


async def authenticate(username: str, password: str) -> User:
    """Check a password; the same error whether the name or the password was wrong."""
    user = await User.get_or_none(username=username.strip().lower())
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None:
        raise NotAuthenticated(
            _("ユーザー名またはパスワードが違います。"), code="invalid_credentials"
        )
    if is_suspended(user):
        raise NotAuthenticated(_("このアカウントは利用停止中です。"), code="suspended")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        await user.save(update_fields=["password_hash"])
    return user


async def start_session(user: User, *, days: int) -> tuple[str, LoginSession]:
    raw = secrets.token_urlsafe(32)
    session = await LoginSession.create(
        id=_digest(raw),
        user=user,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=datetime.now(UTC) + timedelta(days=days),
    )
    return raw, session


async def session_for(raw: str) -> LoginSession | None:
    """The live session behind a cookie; expired sessions and suspended users get none."""
    if not raw or len(raw) > 100:
        return None
    session = await LoginSession.get_or_none(id=_digest(raw)).select_related("user")
    if session is None:
        return None
    if session.expires_at <= datetime.now(UTC) or is_suspended(session.user):
        return None
    return session


async def user_for_session(raw: str) -> User | None:
    session = await session_for(raw)
    return session.user if session else None


async def end_session(raw: str) -> None:
    await LoginSession.filter(id=_digest(raw)).delete()


async def end_all_sessions(user: User) -> None:
    await LoginSession.filter(user=user).delete()
    await ApiToken.filter(user=user).delete()


async def create_token(user: User) -> str:
    raw = "kr_" + secrets.token_urlsafe(32)
    await ApiToken.create(key_hash=_digest(raw), user=user)
    return raw


async def user_for_token(raw: str) -> User | None:
    if not raw.startswith("kr_") or len(raw) > 100:
        return None
    token = await ApiToken.get_or_none(key_hash=_digest(raw)).select_related("user")
    if token is None or is_suspended(token.user):
        return None
    return token.user


async def change_role(username: str, role: str) -> User:
    try:
        new_role = Role(role)
    except ValueError:
        raise ValidationFailed(
            _("役割が正しくありません。"), fields={"role": _("役割を選んでください。")}
        ) from None
    user = await User.get_or_none(username=username)
    if user is None:
        raise NotFound(_("ユーザーが見つかりません。"))
    user.role = new_role
    await user.save(update_fields=["role"])
    return user
