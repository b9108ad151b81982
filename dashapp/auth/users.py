"""Users: names, roles and password hashes (werkzeug's scrypt) in the database's ``users`` table."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from bankdata import (
    DatabaseError,
    add_user,
    append_audit,
    delete_user,
    engine_for,
    get_user,
    set_password_hash,
    set_role,
)
from dashapp.policy import ROLES

MIN_PASSWORD = 10
MAX_PASSWORD = 200
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,59}$")
# checked when the name is unknown, so a wrong name and a wrong password take the same time
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class User(UserMixin):
    """A signed-in user as Flask-Login sees it; ``id`` is the user name (what the audit log records) and
    ``session_token`` the session it signed in with (``dashapp.auth.sessions``)."""

    id: str
    role: str
    session_token: str = ""

    def get_id(self) -> str:
        """What Flask-Login keeps in the cookie: the server-side session's token, not the user name."""
        return self.session_token

    @property
    def is_admin(self) -> bool:
        """Whether the user manages users and reads the audit trail."""
        return self.role == "admin"


def validate_username(name: str) -> str:
    """The name stripped, or ``ValueError`` naming the rule it breaks."""
    name = (name or "").strip()
    if not USERNAME.fullmatch(name):
        raise ValueError(
            f"user name {name[:60]!r}: use 2-60 letters, digits or . _ @ - (starting with a letter or digit)"
        )
    return name


def validate_role(role: str) -> str:
    """The role, or ``ValueError`` listing the roles."""
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


def validate_password(password: str) -> str:
    """The password, or ``ValueError`` when it is too short or too long."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"the password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def create_user(
    username: str, password: str, role: str, url: str | None = None, *, by: str | None = None
) -> User:
    """Validate and store a new user with a hashed password; ``by`` (who added them) goes to the audit log.

    Raises
    ------
    ValueError
        A bad name, role or password, or the name is taken.
    """
    name = validate_username(username)
    validate_role(role)
    validate_password(password)
    add_user(name, generate_password_hash(password), role, url)
    if by is not None:
        append_audit(by, "add_user", f"user {name}", f"role={role}", url)
    return User(id=name, role=role)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _known(username: str, found: bool) -> None:
    if not found:
        raise ValueError(f"there is no user called {username[:60]!r} (ledgerlight users list)")


def change_password(username: str, password: str, *, by: str, url: str | None = None) -> None:
    """Set a new password (validated, hashed) and end every session of the user; audited as ``by``.

    Raises
    ------
    ValueError
        No such user, or the password breaks the rules.
    """
    validate_password(password)
    _known(username, set_password_hash(username, generate_password_hash(password), _now(), url))
    append_audit(by, "change_password", f"user {username}", "sessions ended", url)


def change_role(username: str, role: str, *, by: str, url: str | None = None) -> None:
    """Give the user another role and end every session of theirs (they sign in again with the new role)."""
    validate_role(role)
    _known(username, set_role(username, role, _now(), url))
    append_audit(by, "change_role", f"user {username}", f"role={role}; sessions ended", url)


def remove_user(username: str, *, by: str, url: str | None = None) -> None:
    """Remove the user: they can no longer sign in, and their open sessions end at once."""
    _known(username, delete_user(username, _now(), url))
    append_audit(by, "remove_user", f"user {username}", "sessions ended", url)


def load_user(username: str, url: str | None = None) -> User | None:
    """The stored user called ``username``, or None (Flask-Login's user loader)."""
    row = get_user(str(username), url)
    return User(id=row["username"], role=row["role"]) if row else None


def authenticate(username: str, password: str, url: str | None = None) -> User | None:
    """The user when the name and password match, else None (same work either way)."""
    row = get_user((username or "").strip(), url) if USERNAME.fullmatch((username or "").strip()) else None
    ok = check_password_hash(row["password_hash"] if row else _DUMMY_HASH, password or "")
    return User(id=row["username"], role=row["role"]) if row and ok else None


def list_users(url: str | None = None) -> pd.DataFrame:
    """Every user (username, role, created_at), by name; never the hashes."""
    engine = engine_for(url)
    columns = ["username", "role", "created_at"]
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("users"):
                return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
            rows = conn.execute(
                sa.text("SELECT username, role, created_at FROM users ORDER BY username")
            ).all()
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseError(f"cannot read the users: {reason}") from None
    df = pd.DataFrame(rows, columns=columns)
    df["created_at"] = pd.to_datetime(df["created_at"])
    return df


def has_users(url: str | None = None) -> bool:
    """Whether anyone can sign in yet."""
    return not list_users(url).empty


def random_password() -> str:
    """A fresh password for a demo user (16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


def demo_users(url: str | None = None) -> dict[str, str]:
    """Create one user per role (``risk``, ``marketing``, ``admin``) with random passwords when no user exists.

    Returns
    -------
    dict
        ``{username: password}`` of the users created (print them once; they are stored hashed), empty when users
        existed already.
    """
    if has_users(url):
        return {}
    created = {}
    for role in ROLES:
        password = random_password()
        create_user(role, password, role, url)
        created[role] = password
    return created


__all__ = [
    "User",
    "authenticate",
    "change_password",
    "change_role",
    "create_user",
    "demo_users",
    "has_users",
    "list_users",
    "load_user",
    "remove_user",
]
