"""Commands for the process that runs the line, through the store (table `line_commands`).

While a run is on, its runner is the store's one writer for the line's open containers: another
process (`station pallet hold` in a terminal) must not change them behind its back. It queues a
command row instead; the runner polls for rows of its station, takes one (queued → taken, a
conditional update, so a row is taken once), carries it out in its own thread and writes the
outcome (done or failed, with a JSON result). The caller waits for that outcome; one that gives up
cancels its row if it was not taken yet. A row older than `max_age_s` that nobody took is expired,
never carried out late.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, insert, select, update

from station.errors import StationError
from station.store import audit
from station.store.models import LineCommand

_cmds = LineCommand.__table__
QUEUED, TAKEN, DONE, FAILED = "queued", "taken", "done", "failed"
CANCELLED, EXPIRED = "cancelled", "expired"
MAX_AGE_S = 30.0


class CommandFailed(StationError):
    """The line refused the command; the message says why, the exit code is the line's."""

    def __init__(self, text: str, exit_code: int = 2) -> None:
        super().__init__(text)
        self.exit_code = exit_code


class NotTaken(StationError):
    """Nobody took the command in time (the row was cancelled: nothing was done)."""

    exit_code = 1


@dataclass(frozen=True)
class Command:
    """One command row as the runner sees it."""

    id: int
    command: str
    args: dict
    user: str


def queue(engine: Engine, station_id: str, command: str, args: dict, user: str) -> int:
    """Queue `command` for the line of `station_id`; its row id."""
    with engine.begin() as conn:
        return int(
            conn.execute(
                insert(_cmds)
                .values(
                    station_id=station_id,
                    command=command,
                    args=json.dumps(args, ensure_ascii=False),
                    user=user,
                    state=QUEUED,
                    created_at=audit.now(),
                )
                .returning(_cmds.c.id)
            ).scalar_one()
        )


def pending(engine: Engine, station_id: str) -> bool:
    """Is a command queued for this station? (a cheap read the runner makes twice a second)"""
    with engine.connect() as conn:
        return (
            conn.execute(
                select(_cmds.c.id)
                .where(_cmds.c.station_id == station_id, _cmds.c.state == QUEUED)
                .limit(1)
            ).first()
            is not None
        )


def take(engine: Engine, station_id: str, max_age_s: float = MAX_AGE_S) -> list[Command]:
    """Take every queued command of the station, oldest first; expire those too old to run."""
    cutoff = audit.now() - timedelta(seconds=max_age_s)
    out: list[Command] = []
    with engine.begin() as conn:
        rows = conn.execute(
            select(_cmds.c.id, _cmds.c.command, _cmds.c.args, _cmds.c.user, _cmds.c.created_at)
            .where(_cmds.c.station_id == station_id, _cmds.c.state == QUEUED)
            .order_by(_cmds.c.id)
        ).all()
        for r in rows:
            state = TAKEN if r.created_at >= cutoff else EXPIRED
            done = audit.now() if state == EXPIRED else None
            n = conn.execute(
                update(_cmds)
                .where(_cmds.c.id == r.id, _cmds.c.state == QUEUED)
                .values(state=state, done_at=done)
            ).rowcount
            if n == 1 and state == TAKEN:
                out.append(Command(r.id, r.command, json.loads(r.args or "{}"), r.user))
    return out


def finish(engine: Engine, command_id: int, *, ok: bool, result: dict) -> None:
    """Write a taken command's outcome: done with its result, or failed with {'error': …}."""
    with engine.begin() as conn:
        conn.execute(
            update(_cmds)
            .where(_cmds.c.id == command_id, _cmds.c.state == TAKEN)
            .values(
                state=DONE if ok else FAILED,
                result=json.dumps(result, ensure_ascii=False, default=str),
                done_at=audit.now(),
            )
        )


def wait(engine: Engine, command_id: int, *, take_s: float, run_s: float = 60.0) -> dict:
    """The command's result once the line has carried it out.

    NotTaken (after cancelling the row) when nobody took it within `take_s`; CommandFailed with
    the line's message when it refused. A taken command gets `run_s` more to finish.
    """
    start = time.monotonic()
    while True:
        with engine.connect() as conn:
            r = conn.execute(
                select(_cmds.c.state, _cmds.c.result).where(_cmds.c.id == command_id)
            ).one()
        if r.state == DONE:
            return json.loads(r.result or "{}")
        if r.state == FAILED:
            said = json.loads(r.result or "{}")
            raise CommandFailed(said.get("error", "refused"), int(said.get("exit", 2)))
        if r.state == EXPIRED:
            raise NotTaken("the line took the command too late and dropped it; nothing was done")
        waited = time.monotonic() - start
        if r.state == QUEUED and waited > take_s:
            with engine.begin() as conn:
                n = conn.execute(
                    update(_cmds)
                    .where(_cmds.c.id == command_id, _cmds.c.state == QUEUED)
                    .values(state=CANCELLED, done_at=audit.now())
                ).rowcount
            if n == 1:
                raise NotTaken(f"the line did not take the command within {take_s:g} s")
            continue  # taken meanwhile: wait for its outcome
        if r.state == TAKEN and waited > take_s + run_s:
            raise NotTaken(f"the line took the command but gave no outcome in {run_s:g} s")
        time.sleep(0.05)
