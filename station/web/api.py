"""The handheld's JSON API: the same station.ship functions, roles and audit as the CLI."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from station import users
from station.errors import InputError, NotFound, PermissionDenied, StationError
from station.ship import orders
from station.ship import scan as ship_scan
from station.ship.close import close as close_order
from station.ship.texts import ShipRefused
from station.store import audit
from station.store.db import read_engine
from station.store.models import Code, Shipment, ShipmentCode
from station.web.sessions import Session, Sessions

_codes = Code.__table__
_sc = ShipmentCode.__table__
_ship = Shipment.__table__


class ApiError(Exception):
    """An answer other than 200: HTTP status, a reason key and the message."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


STATUS = ((PermissionDenied, 403, "forbidden"), (NotFound, 404, "not_found"),
          (InputError, 400, "bad_input"), (StationError, 409, "refused"))  # fmt: skip


def error_answer(exc: StationError) -> ApiError:
    """The HTTP form of a station error."""
    for kind, status, reason in STATUS:
        if isinstance(exc, kind):
            return ApiError(status, reason, str(exc))
    return ApiError(500, "error", str(exc))


class Api:
    """Every route's logic; the server only moves JSON and cookies."""

    def __init__(self, engine: Engine, settings, sessions: Sessions) -> None:
        self.engine, self.settings, self.sessions = engine, settings, sessions

    def login(self, body: dict) -> tuple[str, dict]:
        """PIN (name + pin) or badge (badge alone) → a session token and who logged in."""
        name = str(body.get("name") or body.get("badge") or "").strip()
        pin = str(body.get("pin") or "")
        if not name:
            raise ApiError(400, "bad_input", "give your user name and PIN, or scan your badge")
        if users.count(self.engine) == 0:
            raise ApiError(403, "no_users", "no users yet: create them with `station users add`")
        try:
            role = users.login(self.engine, self.settings, name, pin)
        except PermissionDenied as exc:
            raise ApiError(401, "login_failed", str(exc)) from None
        user = self._user_name(name)
        with self.engine.begin() as conn:
            audit.record(conn, user, [audit.Change("web.login", user, None, role)])
        token = self.sessions.open(user, role)
        return token, self.me(self.sessions.get(token))

    def _user_name(self, name_or_badge: str) -> str:
        from station.store.models import User

        t = User.__table__
        with read_engine(self.engine).connect() as conn:
            return conn.execute(
                select(t.c.name).where((t.c.name == name_or_badge) | (t.c.badge == name_or_badge))
            ).scalar_one()

    def me(self, s: Session | None) -> dict:
        """Who is logged in and what they may do here."""
        if s is None:
            raise ApiError(401, "login", "log in with your PIN or badge")
        allowed = users.roles(self.settings).get(s.role, frozenset())
        may = {a: ("*" in allowed or a in allowed) for a in ("ship.manage", "qa.scan")}
        return {"user": s.user, "role": s.role, "may": may}

    def need(self, s: Session | None, action: str) -> str:
        """The session's user if its role allows `action`; 401/403 otherwise."""
        info = self.me(s)
        allowed = users.roles(self.settings).get(s.role, frozenset())  # type: ignore[union-attr]
        if "*" in allowed or action in allowed:
            return info["user"]
        need = " or ".join(users.roles_for(self.settings, action))
        raise ApiError(403, "forbidden",
                       f"user {info['user']} (role {s.role}) may not {action}; it needs {need}")  # type: ignore[union-attr]  # fmt: skip

    def list_orders(self, s: Session | None, state: str | None) -> dict:
        """Orders, newest first."""
        self.need(s, "ship.manage")
        return {"orders": [v.to_json() for v in orders.list_orders(self.engine, state or None)]}

    def create(self, s: Session | None, body: dict) -> dict:
        """A new order."""
        user = self.need(s, "ship.manage")
        v = orders.create(self.engine, order=str(body.get("order") or "").strip(),
                          to=str(body.get("to") or ""), gln=body.get("gln") or None,
                          user=user)  # fmt: skip
        return {"ok": True, "order": v.to_json()}

    def show(self, s: Session | None, order: str) -> dict:
        """One order with its entries."""
        self.need(s, "ship.manage")
        return {"order": orders.view(self.engine, order).to_json()}

    def scan(self, s: Session | None, order: str, body: dict) -> dict:
        """One scan; a refusal is an answer (ok false, reason, both texts), not an error."""
        user = self.need(s, "ship.manage")
        code = str(body.get("code") or "")
        if not code.strip():
            raise ApiError(400, "bad_input", "empty scan")
        try:
            if body.get("last"):
                added = ship_scan.scan_range(self.engine, self.settings, order, code,
                                             str(body["last"]), user=user)  # fmt: skip
            else:
                added = ship_scan.scan(self.engine, order, code, user=user, settings=self.settings)
        except ShipRefused as exc:
            after = orders.view(self.engine, order, with_items=False).to_json()
            return {"ok": False, "code": code.strip(), **exc.to_json(), "order": after}
        return {"code": code.strip(), **added.to_json()}

    def remove(self, s: Session | None, order: str, body: dict) -> dict:
        """Take an entry off."""
        user = self.need(s, "ship.manage")
        try:
            r = orders.remove(self.engine, order, str(body.get("code") or ""), user=user)
        except ShipRefused as exc:
            return {"ok": False, **exc.to_json()}
        return {"ok": True, **r, "order": orders.view(self.engine, order).to_json()}

    def close(self, s: Session | None, order: str) -> dict:
        """Seal the order."""
        user = self.need(s, "ship.manage")
        try:
            r = close_order(self.engine, self.settings, order, user=user)
        except ShipRefused as exc:
            return {"ok": False, **exc.to_json()}
        return {"ok": True, **r, "order": orders.view(self.engine, order).to_json()}

    def lookup(self, s: Session | None, code: str) -> dict:
        """A code's tree (its containers up, its children down) and its history."""
        from station.qa.decisions import history

        self.need(s, "qa.scan")
        reveal = s is not None and s.role in users.SECRET_VIEWERS
        with read_engine(self.engine).connect() as conn:
            row = ship_scan.find(conn, code)
            if row is None:
                raise NotFound(f"code {code.strip()} is not known to this station")
            h = history(conn, row.code, reveal=reveal).to_json()
            up, parent = [], row.parent_id
            while parent is not None and len(up) < 8:
                p = conn.execute(select(_codes).where(_codes.c.id == parent)).first()
                if p is None:
                    break
                up.append({"code": p.code, "level": p.level, "state": p.state})
                parent = p.parent_id
            shipped = conn.execute(
                select(_ship.c.order_no, _ship.c.state, _ship.c.distributor)
                .select_from(_sc.join(_ship, _ship.c.id == _sc.c.shipment_id))
                .where(_sc.c.code_id == row.id)
            ).first()
        h["containers"] = up
        h["shipment"] = dict(shipped._mapping) if shipped else None
        return {"ok": True, "code": h}


def jsonable(value: Any) -> Any:
    """Datetimes as ISO text, for json.dumps(default=…)."""
    iso = getattr(value, "isoformat", None)
    return iso() if iso else str(value)
