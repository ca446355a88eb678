"""One simulated line of the plant test: reserve from its blocks, verify or void, until empty.

Run as `python plant_worker.py DB_URL CONFIG STATION_ID SEED`; the test SIGKILLs it at random and
starts it again. On (re)start it voids what it had reserved and not finished (write-ahead: a
code that may have left for the printer is never reused), like the real line's resume.
"""

from __future__ import annotations

import json
import random
import sys

from sqlalchemy import select

from station.config import load_settings
from station.errors import NotFound
from station.line.store import LineStore, PoolEmpty
from station.store import batches, lifecycle
from station.store.db import make_engine
from station.store.lifecycle import State
from station.store.models import Code

RESERVE = 500  # codes per write-ahead reservation
VOID_SHARE = 0.03


def main(url: str, config: str, sid: str, seed: int) -> int:
    """Consume the plant pool as line `sid`; prints one JSON summary line at the end."""
    settings = load_settings(config)
    engine = make_engine(url, migrate=False)
    batch_id = f"{sid}-PLANT"
    try:
        batches.get(engine, batch_id)
    except NotFound:
        batches.create(
            engine, settings, product="WATER-550", lot=sid, quantity=1, batch_id=batch_id, user=sid
        )
    codes = Code.__table__
    with engine.begin() as conn:
        left = [
            (r.id, r.code)
            for r in conn.execute(
                select(codes.c.id, codes.c.code).where(
                    codes.c.batch_id == batch_id, codes.c.state == "reserved"
                )
            )
        ]
        lifecycle.move(
            conn,
            [i for i, _ in left],
            State.VOID,
            user=sid,
            reason="restart",
            batch_id=batch_id,
            expect=State.RESERVED,
            labels=[c for _, c in left],
        )
    store = LineStore(engine, batch_id, "WATER-550", sid)
    rng = random.Random(seed)
    done = 0
    while True:
        try:
            rows = store.reserve("outer", RESERVE)
        except PoolEmpty:
            break
        for row in rows:
            store.move(row, State.VOID if rng.random() < VOID_SHARE else State.VERIFIED)
        store.flush()
        done += len(rows)
    print(json.dumps({"line": sid, "done": done, "voided_on_restart": len(left)}), flush=True)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
