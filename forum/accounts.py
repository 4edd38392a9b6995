"""Registration, login, sessions, tokens and roles."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from pypika_tortoise.terms import Function as SqlFunction
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Function

from forum import events, outbox, restrictions
from forum.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from forum.events import AccessReason
from forum.i18n import LOCALES
from forum.i18n import gettext as _
from forum.models import Affiliation, ApiToken, LoginSession, Role, User
from forum.permissions import Login

__all__ = [
    "DEFAULT_TOKEN_DAYS",
    "MAX_BIO",
    "IssuedToken",
    "PasswordChanged",
    "ProfileEdit",
    "Registration",
    "access_changed",
    "authenticate",
    "canonical_username",
    "change_password",
    "change_role",
    "create_token",
    "digest",
    "end_session",
    "hash_password",
    "is_protected_display_name",
    "issue_token",
    "list_tokens",
    "live_token",
    "login_of_session",
    "login_of_token",
    "register",
    "replace_password",
    "revoke_token",
    "start_session",
    "token_expired",
    "token_expiry",
    "token_use_due",
    "update_profile",
    "use_password_hasher",
    "user_for_login",
    "user_for_session",
    "user_for_token",
]

USERNAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{1,30})[a-z0-9]$")
RESERVED_USERNAMES = frozenset(
    {
        "admin",
        "administrator",
        "administrators",
        "root",
        "system",
        "koryu",
        "moderator",
        "support",
        "staff",
        "official",
        "security",
        "api",
        "login",
        "me",
    }
)
# Separators that read alike in a name: mod_tanaka, mod-tanaka and mod.tanaka are one name.
_SEPARATORS = re.compile(r"[-_.]")
# A display name holding one of these reads as the operators speaking; only moderators and
# administrators may use one. Compared after NFKC and case folding with spaces and
# punctuation dropped, so 運 営, ﾓﾃﾞﾚｰﾀｰ and ＡＤＭＩＮ count too.
PROTECTED_NAME_PARTS = ("運営", "事務局", "管理者", "管理人", "モデレータ", "公式", "スタッフ")
# Latin words count when a word starts or ends with them (koryu_admin, koryuadmin,
# administrator), not inside one: "badminton" is a hobby, not a claim to run the site.
PROTECTED_NAME_WORDS = ("admin", "moderator", "staff", "official")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
STAFF_ROLES = frozenset({Role.MODERATOR, Role.ADMIN})
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


def digest(raw: str) -> str:
    """How a session id or token secret is stored: its SHA-256, never the secret itself."""
    return hashlib.sha256(raw.encode()).hexdigest()


_digest = digest


def _clean_text(value: str) -> str:
    """NFKC-fold and drop control characters, so names cannot smuggle invisible text."""
    value = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in value if unicodedata.category(ch)[0] != "C").strip()


def _clean_lines(value: str) -> str:
    """Like ``_clean_text``, keeping line breaks: for a free text such as a bio."""
    lines = unicodedata.normalize("NFKC", value).replace("\r\n", "\n").split("\n")
    return "\n".join(_clean_text(line) for line in lines).strip()


def canonical_username(name: str) -> str:
    """The form two names are compared in: NFKC, case-folded, ``_``/``.`` read as ``-``."""
    return _SEPARATORS.sub("-", unicodedata.normalize("NFKC", name).casefold())


def _is_reserved(name: str) -> bool:
    canonical = canonical_username(name)
    return canonical in RESERVED_USERNAMES or canonical.replace("-", "") in RESERVED_USERNAMES


def is_protected_display_name(name: str) -> bool:
    folded = unicodedata.normalize("NFKC", name).casefold()
    squeezed = "".join(ch for ch in folded if ch.isalnum())
    if any(part in squeezed for part in PROTECTED_NAME_PARTS):
        return True
    return any(
        word.startswith(part) or word.endswith(part)
        for word in _LATIN_WORD.findall(folded)
        for part in PROTECTED_NAME_WORDS
    )


def _name_error(name: str, role: Role = Role.PARTICIPANT) -> str | None:
    if not 1 <= len(_clean_text(name)) <= 50:
        return _("表示名は1〜50文字で入力してください。")
    if role not in STAFF_ROLES and is_protected_display_name(name):
        return _("「運営」「事務局」「公式」など、運営者と紛らわしい表示名は使えません。")
    return None


def _password_error(password: str) -> str | None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return _("パスワードは10文字以上256文字以下にしてください。")
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

    def check(self, *, role: Role = Role.PARTICIPANT) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not USERNAME_RE.fullmatch(self.username):
            errors["username"] = _(
                "ユーザー名は、半角の英小文字・数字・「_」「-」を使って3〜32文字で入力してください。最初と最後の文字は英小文字か数字にしてください。"
            )
        elif _is_reserved(self.username):
            errors["username"] = _("このユーザー名は使用できません。")
        checks = {
            "password": _password_error(self.password),
            "display_name": _name_error(self.display_name, role),
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

    def check(self, *, role: Role = Role.PARTICIPANT) -> dict[str, str]:
        """Problems by field; ``role`` is the user's, for the names only staff may take."""
        errors: dict[str, str | None] = {}
        if self.display_name is not None:
            errors["display_name"] = _name_error(self.display_name, role)
        if self.affiliation is not None:
            errors["affiliation"] = _affiliation_error(self.affiliation)
        if self.organisation is not None:
            errors["organisation"] = _organisation_error(self.organisation)
        if self.expert_field is not None and len(_clean_text(self.expert_field)) > 100:
            errors["expert_field"] = _("専門分野は100文字以内で入力してください。")
        if self.bio is not None and len(_clean_lines(self.bio)) > MAX_BIO:
            errors["bio"] = _("自己紹介は1,000文字以内で入力してください。")
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
    errors = edit.check(role=user.role)
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    changed = {name: v for name, v in edit.changes().items() if getattr(user, name) != v}
    if changed:
        user.update_from_dict(changed)
        await user.save(update_fields=list(changed))
    return user


class _SqlReplace(SqlFunction):
    def __init__(self, term: Any, old: str, new: str, alias: str | None = None) -> None:
        super().__init__("REPLACE", term, old, new, alias=alias)


class _Replace(Function):
    """SQL ``REPLACE(field, old, new)``, the same on SQLite and PostgreSQL."""

    database_func = _SqlReplace


async def _confusable_with(username: str) -> str | None:
    """An existing name that reads the same as ``username``, or None.

    Names hold only ``[a-z0-9_-]``, so folding ``_`` into ``-`` in SQL gives their canonical
    form. Two registrations racing with look-alike names can both pass this check; the
    unique column still stops exact duplicates.
    """
    found = (
        await User.annotate(key=_Replace("username", "_", "-"))
        .filter(key=canonical_username(username))
        .first()
    )
    return found.username if found else None


async def register(data: Registration, *, role: Role = Role.PARTICIPANT) -> User:
    errors = data.check(role=role)
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    existing = await _confusable_with(data.username)
    if existing is not None and existing != data.username:
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            code="username_confusable",
            fields={
                "username": _(
                    "よく似たユーザー名「{name}」がすでに使われているため、このユーザー名は使えません。"
                ).format(name=existing)
            },
        )
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
        raise NotAuthenticated(
            restrictions.suspension_message(user.suspended_until), code="suspended"
        )
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
    """Log out: the session ends, and so does every socket opened with it."""
    session = await LoginSession.get_or_none(id=_digest(raw))
    if session is None:
        return
    async with outbox.atomic() as tx:
        ended = await LoginSession.filter(id=session.id).using_db(tx.conn).delete()
        if ended:
            access_changed(tx, session.user_id, AccessReason.LOGGED_OUT)  # type: ignore[attr-defined]


async def end_all_sessions(user: User, tx: outbox.Tx | None = None) -> None:
    """Every login session and API token of the user ends, in ``tx`` when given; the
    caller says why with ``access_changed`` in the same transaction."""
    if tx is None:
        async with outbox.atomic() as own:
            await end_all_sessions(user, own)
        return
    await LoginSession.filter(user_id=user.id).using_db(tx.conn).delete()
    await ApiToken.filter(user_id=user.id).using_db(tx.conn).delete()


def access_changed(tx: outbox.Tx, user_id: int, reason: AccessReason) -> None:
    """Every change of what a user may read, or of whether they are signed in, goes through
    here, in the transaction that makes it: each process then reads the user's open
    sockets afresh and drops the channels they may no longer hold (forum.channels)."""
    tx.emit(events.access_changed(user_id, reason))


def login_of_session(session: LoginSession) -> Login:
    return Login("session", str(session.id))


def login_of_token(raw: str) -> Login:
    return Login("token", _digest(raw))


async def user_for_login(login: Login, now: datetime | None = None) -> User | None:
    """The user behind a session or token that is still live, or None once it ended
    (logged out, expired, revoked, password changed, user suspended)."""
    now = now or datetime.now(UTC)
    if login.kind == "session":
        session = await LoginSession.get_or_none(id=login.key).select_related("user")
        if session is None or session.expires_at <= now:
            return None
        user = session.user
    else:
        token = await ApiToken.get_or_none(key_hash=login.key).select_related("user")
        if token is None or token_expiry(token) <= now:
            return None
        user = token.user
    return None if is_suspended(user, now) else user


# --- API tokens ---------------------------------------------------------------------------

KEY_PREFIX = "kr_"
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_NAME = 50
HINT_LENGTH = len(KEY_PREFIX) + 6
# last_used_at is a hint for the owner, not an audit trail: one write a minute is plenty.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: ``secret`` is shown once and never stored."""

    secret: str
    token: ApiToken


def token_expiry(token: ApiToken) -> datetime:
    # Tokens made before expiry existed last a default lifetime from their creation.
    return token.expires_at or token.created_at + timedelta(days=DEFAULT_TOKEN_DAYS)


async def issue_token(user: User, *, days: int, max_days: int, name: str = "") -> IssuedToken:
    """A token for ``user`` named ``name``, valid ``days`` days (at most ``max_days``)."""
    label = _clean_text(name)
    errors: dict[str, str] = {}
    if len(label) > MAX_TOKEN_NAME:
        errors["name"] = _("トークンの名前は50文字以内で入力してください。")
    if not 1 <= days <= max_days:
        errors["days"] = _("有効期間は1〜{days}日で指定してください。").format(days=max_days)
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    token = await ApiToken.create(
        key_hash=_digest(secret),
        user=user,
        name=label,
        hint=secret[:HINT_LENGTH],
        expires_at=datetime.now(UTC) + timedelta(days=days),
    )
    return IssuedToken(secret, token)


async def create_token(user: User, *, name: str = "", days: int = DEFAULT_TOKEN_DAYS) -> str:
    """The secret of a new token of the default lifetime (the CLI's and the tests' shortcut)."""
    return (await issue_token(user, days=days, max_days=days, name=name)).secret


def token_expired() -> NotAuthenticated:
    return NotAuthenticated(
        _("トークンの有効期限が切れています。新しいトークンを発行してください。"),
        code="token_expired",
    )


def token_use_due(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a use of a token is to be written down (at most once a minute)."""
    return last_used_at is None or now - last_used_at >= TOKEN_USE_RESOLUTION


async def live_token(raw: str, now: datetime | None = None) -> ApiToken | None:
    """A live token with its user, its use written down; an expired one is refused with
    ``token_expired``, a suspended user's gives None."""
    if not raw.startswith(KEY_PREFIX) or len(raw) > 100:
        return None
    token = await ApiToken.get_or_none(key_hash=_digest(raw)).select_related("user")
    if token is None:
        return None
    now = now or datetime.now(UTC)
    if token_expiry(token) <= now:
        raise token_expired()
    if is_suspended(token.user):
        return None
    if token_use_due(token.last_used_at, now):
        await ApiToken.filter(id=token.id).update(last_used_at=now)
        token.last_used_at = now
    return token


async def user_for_token(raw: str, now: datetime | None = None) -> User | None:
    """The owner of a live token; an expired one is refused with ``token_expired``."""
    token = await live_token(raw, now)
    return token.user if token is not None else None


async def list_tokens(user: User) -> list[ApiToken]:
    """The user's own tokens, newest first, expired ones included until revoked."""
    return await ApiToken.filter(user=user).order_by("-created_at", "-id")


async def revoke_token(user: User, token_id: int) -> bool:
    """End one of the user's own tokens; False when they have none with that id."""
    async with outbox.atomic() as tx:
        revoked = await ApiToken.filter(user_id=user.id, id=token_id).using_db(tx.conn).delete()
        if revoked:
            access_changed(tx, user.id, AccessReason.TOKEN_REVOKED)
    return revoked > 0


# --- passwords and roles ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PasswordChanged:
    """``session_secret``: the cookie value of the session that made the change, rotated."""

    session_secret: str | None
    sessions_ended: int
    tokens_revoked: int


async def change_password(
    user: User,
    *,
    current_password: str,
    new_password: str,
    session: LoginSession | None = None,
    session_days: int = 30,
) -> PasswordChanged:
    """Re-check the current password, set the new one, and end every other way in.

    Every login session and API token of the user ends; the session that made the change
    (if any) goes on under a new id, so a copy of its old cookie is worth nothing.
    """
    try:
        _hasher.verify(user.password_hash, current_password)
    except (VerificationError, InvalidHashError):
        raise ValidationFailed(
            _("現在のパスワードが違います。"),
            code="wrong_password",
            fields={"current_password": _("現在のパスワードが違います。")},
        ) from None
    error = _password_error(new_password)
    if error is None and new_password == current_password:
        error = _("新しいパスワードには、現在とは違うものを指定してください。")
    if error:
        raise ValidationFailed(_("入力内容を確認してください。"), fields={"new_password": error})
    return await replace_password(user, new_password, session=session, session_days=session_days)


async def replace_password(
    user: User,
    new_password: str,
    *,
    session: LoginSession | None = None,
    session_days: int = 30,
) -> PasswordChanged:
    """Set a password already checked (a change, or a reset by email) and end every other
    way in: all login sessions and API tokens; ``session`` goes on under a new id."""
    error = _password_error(new_password)
    if error:
        raise ValidationFailed(_("入力内容を確認してください。"), fields={"new_password": error})
    password_hash = hash_password(new_password)
    secret: str | None = None
    async with outbox.atomic() as tx:
        await User.filter(id=user.id).using_db(tx.conn).update(password_hash=password_hash)
        ended = await LoginSession.filter(user_id=user.id).using_db(tx.conn).delete()
        revoked = await ApiToken.filter(user_id=user.id).using_db(tx.conn).delete()
        if session is not None:
            ended -= 1
            secret, _new = await start_session(user, days=session_days)
        access_changed(tx, user.id, AccessReason.PASSWORD_CHANGED)
    user.password_hash = password_hash
    return PasswordChanged(secret, max(ended, 0), revoked)


async def change_role(username: str, role: str) -> User:
    """Set a user's role. A change ends their login sessions: the next page asks them to log
    in again, under a new session id that carries the new role. API tokens go on."""
    try:
        new_role = Role(role)
    except ValueError:
        raise ValidationFailed(
            _("役割が正しくありません。"), fields={"role": _("役割を選んでください。")}
        ) from None
    user = await User.get_or_none(username=username)
    if user is None:
        raise NotFound(_("ユーザーが見つかりません。"))
    if user.role is new_role:
        return user
    async with outbox.atomic() as tx:
        if user.role is Role.ADMIN:
            await _demote_admin(tx.conn, user, new_role)
        else:
            await User.filter(id=user.id).using_db(tx.conn).update(role=new_role)
        await LoginSession.filter(user_id=user.id).using_db(tx.conn).delete()
        access_changed(tx, user.id, AccessReason.ROLE)
    user.role = new_role
    return user


# One statement that demotes an admin only while another admin who is not suspended
# remains. On PostgreSQL the admins' rows are locked first (FOR UPDATE), so of two admins
# demoting each other at once the second waits, then counts the first as demoted; on SQLite
# the write lock serialises the statements.
_DEMOTE_ADMIN = (
    "UPDATE users SET role = {p1} WHERE id = {p2} AND role = 'admin' AND EXISTS ("
    "SELECT 1 FROM users AS other WHERE other.role = 'admin' AND other.id <> {p2}"
    " AND (other.suspended_until IS NULL OR other.suspended_until <= {p3}))"
)


async def _demote_admin(conn: Any, user: User, new_role: Role) -> None:
    postgres = conn.capabilities.dialect == "postgres"
    if postgres:
        await conn.execute_query("SELECT id FROM users WHERE role = 'admin' FOR UPDATE")
        query = _DEMOTE_ADMIN.format(p1="$1", p2="$2", p3="$3")
    else:
        query = _DEMOTE_ADMIN.format(p1="?", p2="?", p3="?")
    now = datetime.now(UTC)
    params: list[Any] = (
        [new_role.value, user.id, now] if postgres else [new_role.value, user.id, user.id, now]
    )
    changed, _rows = await conn.execute_query(query, params)
    if not changed:
        raise Conflict(
            _("最後の管理者の役割は変更できません。先に別の管理者を任命してください。"),
            code="last_admin",
        )


async def get_user(username: str) -> User:
    """The account with this username, suspended or not; NotFound if there is none."""
    user = await User.get_or_none(username=username)
    if user is None:
        raise NotFound(_("ユーザーが見つかりません。"))
    return user
