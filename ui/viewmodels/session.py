"""Who is logged in, what their role may do, and the display language."""

from __future__ import annotations

from collections.abc import Callable

from psygnal import Signal

from station import users
from ui.viewmodels import Runner, run_now

# The screens and the action a role needs for each (see station.users.BASE_ROLES).
SCREENS: dict[str, tuple[str, ...]] = {
    "operator": ("line.run",),
    "collect": ("line.run",),
    "orders": ("batch.manage",),
    "qa": ("qa.scan",),
    "it": ("sync", "export", "devices"),
}
LANGUAGES = ("zh", "en")


class SessionModel:
    """The logged-in user and role; login by PIN or badge; language switch."""

    logged_in = Signal(str, str)  # name, role
    logged_out = Signal()
    login_failed = Signal(str)  # message from station.users
    language_changed = Signal(str)

    def __init__(self, engine, settings, *, run: Runner = run_now, language: str | None = None):
        self.engine = engine
        self.settings = settings
        self.run = run
        self.user: str | None = None
        self.role: str | None = None
        self.language = language or settings.station.language
        self.busy = False

    # -- login --------------------------------------------------------------------------------
    def login(self, name: str, pin: str) -> None:
        """Check name (or badge) and PIN off the UI thread; emits logged_in or login_failed."""
        name = name.strip()
        if not name:
            self.login_failed.emit("")
            return
        self.busy = True

        def work() -> tuple[str, str]:
            role = users.login(self.engine, self.settings, name, pin)
            return self._name_for(name), role  # a badge logs in as its owner

        self.run(work, lambda got: self._logged_in(*got), self._failed)

    def login_badge(self, badge: str) -> None:
        """A badge scanned by the keyboard-wedge reader: the badge text with an empty PIN."""
        self.login(badge, "")

    def _logged_in(self, name: str, role: str) -> None:
        self.busy = False
        self.user, self.role = name, role
        self.logged_in.emit(name, role)

    def start_as(self, name: str, role: str) -> None:
        """Open the session for a user the caller authenticated already (`station demo --ui`)."""
        self._logged_in(name, role)

    def _name_for(self, name_or_badge: str) -> str:
        for u in users.list_users(self.engine):
            if u.name == name_or_badge:
                return u.name
        from sqlalchemy import select

        from station.store.models import User

        t = User.__table__
        with self.engine.connect() as conn:
            found = conn.execute(select(t.c.name).where(t.c.badge == name_or_badge)).scalar()
        return found or name_or_badge

    def _failed(self, exc: Exception) -> None:
        self.busy = False
        self.login_failed.emit(str(exc))

    def logout(self) -> None:
        """Back to the login screen."""
        self.user = self.role = None
        self.logged_out.emit()

    # -- what the role may do ---------------------------------------------------------------
    def can(self, action: str) -> bool:
        """True if the logged-in role may perform `action`."""
        if self.role is None:
            return False
        allowed = users.roles(self.settings).get(self.role, frozenset())
        return "*" in allowed or action in allowed

    def screens(self) -> list[str]:
        """The screens this role may open, in menu order."""
        return [s for s, needs in SCREENS.items() if any(self.can(a) for a in needs)]

    @property
    def reveal(self) -> bool:
        """May this role see secret (inner) codes in full?"""
        return self.role in users.SECRET_VIEWERS

    def check_pin(self, pin: str, done: Callable[[], None], failed: Callable[[str], None]) -> None:
        """Signature: the logged-in user enters the PIN again; done() if it is theirs."""
        if self.user is None:
            failed("not logged in")
            return
        user = self.user
        self.run(
            lambda: users.login(self.engine, self.settings, user, pin),
            lambda _role: done(),
            lambda exc: failed(str(exc)),
        )

    # -- language -----------------------------------------------------------------------------
    def set_language(self, lang: str) -> None:
        """Switch the display language at run time ('zh' or 'en')."""
        if lang not in LANGUAGES:
            raise ValueError(f"language {lang!r}: use one of {', '.join(LANGUAGES)}")
        if lang != self.language:
            self.language = lang
            self.language_changed.emit(lang)

    def toggle_language(self) -> None:
        """中文 ⇄ English."""
        self.set_language("en" if self.language == "zh" else "zh")
