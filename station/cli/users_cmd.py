"""`station users add|list|disable|set-pin`."""

from __future__ import annotations

import getpass
import os
import sys

from station import users
from station.errors import InputError, PermissionDenied

NEW_PIN_ENV = "LINESTATION_NEW_PIN"


def register(subs, add) -> None:
    """Add the users group."""
    g = add(subs, "users", help="users, roles and PINs")
    s = g.add_subparsers(dest="cmd", required=True)
    p = add(s, "add", help="create a user (the first one becomes admin)")
    p.add_argument("name")
    p.add_argument("--role", default="operator")
    p.add_argument("--badge", help="badge id that logs in without a PIN")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=add_user)
    p = add(s, "list", help="list users")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=list_users)
    p = add(s, "disable", help="disable a user (kept for the audit trail)")
    p.add_argument("name")
    p.set_defaults(func=disable)
    p = add(s, "set-pin", help="set a new PIN (clears a lock-out)")
    p.add_argument("name")
    p.set_defaults(func=set_pin)


def _new_pin(app, name: str, *, fallback: bool) -> str:
    """The new PIN: $LINESTATION_NEW_PIN, else $LINESTATION_PIN (adding users), else a prompt."""
    pin = os.environ.get(NEW_PIN_ENV)
    if pin is None and fallback:
        pin = os.environ.get("LINESTATION_PIN")
        if pin is not None and app.user != users.SETUP_USER:
            app.console.print(
                f"[yellow]note: {name}'s PIN is taken from LINESTATION_PIN; "
                f"set {NEW_PIN_ENV} to give a different one[/]"
            )
    if pin is not None:
        return pin
    if not sys.stdin.isatty():
        raise PermissionDenied(f"new PIN for {name} needed: set {NEW_PIN_ENV} or run in a terminal")
    first = getpass.getpass(f"new PIN for {name}: ")
    if getpass.getpass("again: ") != first:
        raise InputError("the two PINs differ; nothing was changed")
    return first


def add_user(app, args) -> int:
    """Create a user."""
    by = app.require("users.manage")
    first = users.count(app.engine) == 0
    role = users.add(
        app.engine,
        app.settings,
        args.name,
        args.role,
        _new_pin(app, args.name, fallback=True),
        by=by,
        badge=args.badge,
    )
    if args.json:
        app.json({"name": args.name, "role": role, "first": first})
        return 0
    app.out(f"user {args.name} added with role {role}")
    if first:
        app.out(
            "the first user is always admin: setup mode is over; "
            f"from now on act with --user {args.name} (PIN from a prompt or LINESTATION_PIN)"
        )
    return 0


def list_users(app, args) -> int:
    """List users."""
    app.require("view")
    rows = users.list_users(app.engine)
    if args.json:
        app.json({"users": [u.__dict__ for u in rows]})
        return 0
    for u in rows:
        flags = " disabled" if u.disabled else ""
        if u.locked_until:
            flags += f" locked until {u.locked_until:%Y-%m-%d %H:%M} UTC"
        app.out(f"{u.name:<20} {u.role:<10}{flags}")
    if not rows:
        app.out("no users: setup mode (`station users add NAME` creates the admin)")
    return 0


def disable(app, args) -> int:
    """Disable a user."""
    by = app.require("users.manage")
    if args.name == by:
        raise InputError("you cannot disable yourself; ask another admin")
    users.set_disabled(app.engine, args.name, by=by)
    app.out(f"user {args.name} disabled")
    return 0


def set_pin(app, args) -> int:
    """Set a user's PIN: one's own, or anyone's as admin."""
    by = app.user
    if by != args.name:
        by = app.require("users.manage")
    users.role_of(app.engine, args.name)
    users.set_pin(app.engine, args.name, _new_pin(app, args.name, fallback=False), by=by)
    app.out(f"PIN of {args.name} changed; any lock-out is cleared")
    return 0
