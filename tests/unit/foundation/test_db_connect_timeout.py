"""A PostgreSQL server that accepts the connection and never answers does not hang the station."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from station.errors import StationError
from station.store import db


def test_a_silent_postgresql_server_is_an_error_in_seconds(monkeypatch) -> None:
    monkeypatch.setattr(db, "PG_CONNECT_TIMEOUT_S", 1)
    held: list = []
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        port = srv.getsockname()[1]

        def take() -> None:  # accept, then say nothing
            try:
                while True:
                    held.append(srv.accept())
            except OSError:
                return  # the listening socket closed

        taker = threading.Thread(target=take, daemon=True)
        taker.start()
        t0 = time.monotonic()
        with pytest.raises(StationError, match=rf"127\.0\.0\.1:{port}.*timeout"):
            db.make_engine(f"postgresql://station@127.0.0.1:{port}/linestation")
        assert time.monotonic() - t0 < 8
        srv.shutdown(socket.SHUT_RDWR)  # wakes accept(); close() alone leaves the thread blocked
        taker.join(timeout=10)
    for conn, _ in held:
        conn.close()
