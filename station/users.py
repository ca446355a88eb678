"""Users, roles and PIN login: scrypt hashes, lock-out after repeated failures, setup mode."""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, insert, select, update

from station.errors import InputError, NotFound, PermissionDenied, StationError
from station.store import audit
from station.store.models import User

_users = User.__table__
SETUP_USER = "setup"

# Which roles may do what; config [users.roles] adds roles or replaces a role's list.
# pallet.rework: clear and merge pallets (清空垛, 合垛), which take cases off a pallet; a plant may
# give it to a line lead role (e.g. lead = ["view", "batch.run", "line.run", "pallet.rework"]).
BASE_ROLES: dict[str, frozenset[str]] = {
    "operator": frozenset({"view", "batch.run", "line.run"}),
    "qa": frozenset(
        {
            "view",
            "batch.run",
            "line.run",
            "qa.scan",
            "qa.decide",
            "qa.sign",
            "audit.view",
            "report",
            "pallet.rework",
        }
    ),
    "it": frozenset(
        {
            "view",
            "codes.manage",
            "batch.manage",
            "sync",
            "export",
            "store.backup",
            "devices",
            "audit.view",
            "report",
            "line.run",
            "batch.run",
        }
    ),
    # 出库: picks and ships released goods; may look a code up (its tree and history).
    "warehouse": frozenset({"view", "ship.manage", "qa.scan"}),
    "admin": frozenset({"*"}),
}
SECRET_VIEWERS = frozenset({"admin"})  # roles allowed to see inner (prize) codes in full


def roles(settings) -> dict[str, frozenset[str]]:
    """Built-in roles merged with those from config."""
    out = dict(BASE_ROLES)
    for name, actions in settings.users.roles.items():
        out[name] = frozenset(actions)
    return out


def roles_for(settings, action: str) -> list[str]:
    """Roles that may perform `action`."""
    return sorted(r for r, a in roles(settings).items() if "*" in a or action in a)


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """scrypt(N=2^14, r=8, p=1) of the PIN, as `scrypt$salt$hash` hex."""
    salt = salt or os.urandom(16)
    h = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${h.hex()}"


def check_pin(pin: str, stored: str) -> bool:
    """Constant-time comparison of a PIN against its stored hash."""
    _, salt, _h = stored.split("$")
    return hmac.compare_digest(hash_pin(pin, bytes.fromhex(salt)), stored)


def _valid_pin(pin: str) -> None:
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        raise InputError("a PIN is 4 to 12 digits")


@dataclass(frozen=True)
class UserView:
    """A user as listed."""

    name: str
    role: str
    disabled: bool
    locked_until: datetime | None


def count(engine: Engine) -> int:
    """How many users exist (0 = setup mode)."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(_users)).scalar_one()


def add(
    engine: Engine, settings, name: str, role: str, pin: str, *, by: str, badge: str | None = None
) -> str:
    """Create a user; the first user of a station is always an admin. Returns the role given."""
    if (
        not name.strip()
        or name != name.strip()
        or len(name) > 64
        or not name.isprintable()
        or name == SETUP_USER
    ):
        raise InputError(
            f"user name {name!r}: give 1 to 64 printable characters without leading or "
            f"trailing spaces (and not {SETUP_USER!r}); nothing was changed"
        )
    _valid_pin(pin)
    if count(engine) == 0:
        role = "admin"
    if role not in roles(settings):
        raise InputError(f"unknown role {role!r}; roles: {', '.join(sorted(roles(settings)))}")
    with engine.begin() as conn:
        if conn.execute(select(_users.c.id).where(_users.c.name == name)).first():
            raise InputError(f"user {name} exists already")
        conn.execute(
            insert(_users).values(
                name=name,
                role=role,
                pin_hash=hash_pin(pin),
                badge=badge,
                failures=0,
                disabled=False,
                created_at=audit.now(),
            )
        )
        audit.record(conn, by, [audit.Change("user.add", name, None, role)])
    return role


def list_users(engine: Engine) -> list[UserView]:
    """All users."""
    with engine.connect() as conn:
        rows = conn.execute(select(_users).order_by(_users.c.name)).all()
    return [UserView(r.name, r.role, r.disabled, r.locked_until) for r in rows]


def set_disabled(engine: Engine, name: str, *, by: str) -> None:
    """Disable a user (kept for the audit trail, never deleted)."""
    with engine.begin() as conn:
        if (
            conn.execute(update(_users).where(_users.c.name == name).values(disabled=True)).rowcount
            == 0
        ):
            raise NotFound(f"no user {name}")
        audit.record(conn, by, [audit.Change("user.disable", name, "enabled", "disabled")])


def set_pin(engine: Engine, name: str, pin: str, *, by: str) -> None:
    """Replace a user's PIN and clear the lock-out."""
    _valid_pin(pin)
    with engine.begin() as conn:
        r = conn.execute(
            update(_users)
            .where(_users.c.name == name)
            .values(pin_hash=hash_pin(pin), failures=0, locked_until=None)
        )
        if r.rowcount == 0:
            raise NotFound(f"no user {name}")
        audit.record(conn, by, [audit.Change("user.set_pin", name)])


def login(engine: Engine, settings, name: str, pin: str) -> str:
    """Check name and PIN (or a badge as name with empty PIN); returns the role."""
    now = audit.now()
    with engine.begin() as conn:
        row = conn.execute(
            select(_users).where((_users.c.name == name) | (_users.c.badge == name))
        ).first()
        if row is None or row.disabled:
            raise PermissionDenied(f"unknown or disabled user {name!r}")
        if row.locked_until and row.locked_until > now:
            raise PermissionDenied(
                f"user {row.name} is locked until {row.locked_until:%H:%M} UTC after "
                f"{settings.users.max_failures} wrong PINs; an admin can reset it with "
                "`station users set-pin`"
            )
        badge_ok = row.badge is not None and name == row.badge and pin == ""
        if not badge_ok and not check_pin(pin, row.pin_hash):
            failures = row.failures + 1
            values: dict = {"failures": failures}
            if failures >= settings.users.max_failures:
                values.update(
                    failures=0, locked_until=now + timedelta(minutes=settings.users.lockout_minutes)
                )
            conn.execute(update(_users).where(_users.c.id == row.id).values(**values))
            audit.record(
                conn, row.name, [audit.Change("user.login_failed", row.name, None, str(failures))]
            )
            # commit the failure count, then refuse
        else:
            conn.execute(
                update(_users).where(_users.c.id == row.id).values(failures=0, locked_until=None)
            )
            return row.role
    raise PermissionDenied(f"wrong PIN for {name}")


def role_of(engine: Engine, name: str) -> str:
    """The role of user `name`."""
    with engine.connect() as conn:
        role = conn.execute(select(_users.c.role).where(_users.c.name == name)).scalar()
    if role is None:
        raise NotFound(f"no user {name}")
    return role


def _pin_from_env_or_prompt(name: str) -> str:
    pin = os.environ.get("LINESTATION_PIN")
    if pin is not None:
        return pin
    if not sys.stdin.isatty():
        raise PermissionDenied(f"PIN for {name} needed: set LINESTATION_PIN or run in a terminal")
    return getpass.getpass(f"PIN for {name}: ")


def authenticate_cli(app) -> str:
    """The CLI's acting user: `setup` while the station has no users, else --user with a PIN."""
    cached = getattr(app, "_auth", None)
    if cached:
        return cached[0]
    if count(app.engine) == 0:
        app.console.print(
            "[yellow]setup mode: no users yet; `station users add` creates the admin[/]"
        )
        app._auth = (SETUP_USER, "admin")
        return SETUP_USER
    if not app.user_name:
        raise PermissionDenied("log in: pass --user NAME (PIN from a prompt or LINESTATION_PIN)")
    role = login(app.engine, app.settings, app.user_name, _pin_from_env_or_prompt(app.user_name))
    app._auth = (app.user_name, role)
    return app.user_name


def require(app, action: str) -> str:
    """The acting user if their role allows `action`; PermissionDenied naming the roles that may."""
    name = authenticate_cli(app)
    role = app._auth[1]
    allowed = roles(app.settings).get(role, frozenset())
    if "*" in allowed or action in allowed:
        return name
    need = roles_for(app.settings, action)
    raise PermissionDenied(
        f"user {name} (role {role}) may not {action}; it needs the role {' or '.join(need)}"
    )


def sign(app, pin: str | None = None) -> str:
    """QA e-signature: the acting user enters the PIN again; returns the signer's name."""
    name = authenticate_cli(app)
    if name == SETUP_USER:
        return name
    pin = pin if pin is not None else _pin_from_env_or_prompt(name)
    login(app.engine, app.settings, name, pin)
    return name


class AuthError(StationError):
    """Login failed."""
