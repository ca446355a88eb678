"""SimS7PLC: python-snap7's own S7 server holding the line's data blocks, and the PLC logic.

    with SimS7PLC() as sim:              # ISO-on-TCP on 127.0.0.1, free port; sim.url = s7://...
        plc = S7PLC(sim.url)
        seq = sim.trigger()              # an item passes the photocell
        sim.conveyor(6000)               # or let items pass at 6000 per minute

The PLC side of every handshake is simcore.PlcCore's (the same as the other simulators); this
file only puts it on snap7's server: each DB of the map is registered as a bytearray, the core
reads and writes it under the server's area lock, and the server's write event tells the core
what the station wrote before the answer goes out.

Fault injection: silent (requests served, answers dropped), delay_s, drop_connections(),
set_heartbeat_running(False), hold_rejects, stop()/start() (the same port again), reboot().
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Mapping
from typing import Any

from snap7.server import EVC_DATA_WRITE, Server
from snap7.type import SrvArea, SrvEvent, WordLen

from drivers.plc.layout import Bit, Word
from drivers.plc.s7.addresses import S7Map, S7Word, parse_s7_address, word_ref
from drivers.plc.simcore import CoreFacade, PlcCore


class _LineServer(Server):
    """snap7's server with three things a line test needs.

    A BIT write sets one bit (snap7 3.3's server writes the item's data byte over the whole
    byte, a real CPU does not); answers can be dropped or delayed; client sockets are kept so
    stop() and drop_connections() cut them at once (snap7 waits up to 5 s for an idle client).
    """

    def __init__(self) -> None:
        super().__init__(log=False)
        self.silent = False
        self.delay_s = 0.0
        self._socks: set[socket.socket] = set()
        self._socks_lock = threading.Lock()

    def _handle_client(self, client_socket: socket.socket, address: tuple[str, int]) -> None:
        with self._socks_lock:
            self._socks.add(client_socket)
        try:
            super()._handle_client(client_socket, address)
        finally:
            with self._socks_lock:
                self._socks.discard(client_socket)

    def drop_connections(self) -> None:
        """Cut every client connection (the listener stays)."""
        with self._socks_lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> int:
        """Stop listening and cut every client at once."""
        self.drop_connections()
        code = super().stop()
        self.drop_connections()
        return code

    def _process_request(self, request_data: bytes, client_address: tuple[str, int]) -> Any:
        if self.delay_s:
            time.sleep(self.delay_s)
        answer = super()._process_request(request_data, client_address)
        return None if self.silent else answer

    def _parse_address_specification(self, addr_spec: bytes) -> dict[str, Any]:
        spec = super()._parse_address_specification(addr_spec)
        if spec and spec.get("word_len") == WordLen.Bit and len(addr_spec) >= 12:
            spec["bit"] = struct.unpack(">I", b"\x00" + addr_spec[9:12])[0] & 7
        return spec

    def _parse_write_address(self, request: dict[str, Any]) -> Any:
        parsed = super()._parse_write_address(request)
        spec = request.get("parameters", {}).get("address_spec", {})
        if parsed is None or "bit" not in spec:
            return parsed
        area, db, start, count, data = parsed
        key = (area, db)
        if key not in self.memory_areas or start >= len(self.memory_areas[key]):
            return parsed  # the server refuses it as it would any write
        with self.area_locks[key]:
            old = self.memory_areas[key][start]
        mask = 1 << spec["bit"]
        new = old | mask if data[0] & 1 else old & ~mask
        return area, db, start, count, bytearray([new])


class _DbStore:
    """The DBs as words and bits, under the server's area locks."""

    def __init__(self, server: _LineServer, sizes: dict[str, int]) -> None:
        self.server = server
        self.dbs = {area: bytearray(n * 2) for area, n in sizes.items()}

    def register(self) -> None:
        for area, buf in self.dbs.items():
            self.server.register_area(SrvArea.DB, int(area[2:]), buf)

    def _locked(self, area: str) -> tuple[bytearray, Any]:
        db = int(area[2:])
        return self.dbs[area], (SrvArea.DB, db)

    def get(self, word: Word) -> int:
        buf, key = self._locked(word.area)
        self.server.lock_area(*key)
        try:
            return int.from_bytes(buf[word.index * 2 : word.index * 2 + 2], "big")
        finally:
            self.server.unlock_area(*key)

    def put(self, word: Word, value: int) -> None:
        buf, key = self._locked(word.area)
        self.server.lock_area(*key)
        try:
            buf[word.index * 2 : word.index * 2 + 2] = (value & 0xFFFF).to_bytes(2, "big")
        finally:
            self.server.unlock_area(*key)

    def get_bit(self, bit: Bit) -> bool:
        return bool(self.dbs[bit.area][bit.index // 8] >> (bit.index % 8) & 1)

    def put_bit(self, bit: Bit, on: bool) -> None:
        buf, key = self._locked(bit.area)
        self.server.lock_area(*key)
        try:
            mask = 1 << (bit.index % 8)
            buf[bit.index // 8] = buf[bit.index // 8] | mask if on else buf[bit.index // 8] & ~mask
        finally:
            self.server.unlock_area(*key)

    def clear(self) -> None:
        for area, buf in self.dbs.items():
            self.server.lock_area(*self._locked(area)[1])
            buf[:] = bytes(len(buf))
            self.server.unlock_area(*self._locked(area)[1])


class SimS7PLC(CoreFacade):
    """A simulated line PLC on snap7's S7 server; see the module docstring."""

    def __init__(
        self,
        s7_map: S7Map | Mapping[str, Any] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        first_seq: int = 1,
        heartbeat_period_s: float = 0.1,
        station_timeout_ms: int = 2000,
        db_bytes: int | None = None,
    ) -> None:
        if s7_map is None:
            s7_map = S7Map()
        elif not isinstance(s7_map, S7Map):
            s7_map = S7Map.from_dict(s7_map)
        self.map = s7_map
        self.host, self.port = host, port
        sizes = s7_map.layout.areas()
        if db_bytes is not None:  # a DB shorter (or longer) than the map, as a real one may be
            sizes = {a: (db_bytes + 1) // 2 for a in sizes}
        self._server = _LineServer()
        self._store = _DbStore(self._server, sizes)
        self._store.register()
        self._server.set_events_callback(self._event)
        self.core = PlcCore(
            s7_map.layout,
            self._store,
            name="sim-plc-s7",
            first_seq=first_seq,
            heartbeat_period_s=heartbeat_period_s,
            station_timeout_ms=station_timeout_ms,
        )
        self.url = ""
        self._serving = False

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> SimS7PLC:
        """Serve (on the same port again after stop()) and start the PLC program."""
        if self._serving:
            return self
        self._server.start_to(self.host, self.port)
        sock = self._server.server_socket
        assert sock is not None
        self.port = sock.getsockname()[1]
        self.url = f"s7://{self.host}:{self.port}?rack=0&slot=1"
        self.core.start()
        self._serving = True
        return self

    def stop(self) -> None:
        """Close the listener and every connection; start() serves the same port again."""
        if not self._serving:
            return
        self._serving = False
        self.core.stop()
        self._server.stop()

    def __enter__(self) -> SimS7PLC:
        """start() and return self."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """stop()."""
        self.stop()

    def _event(self, event: SrvEvent) -> None:
        if event.EvtCode != EVC_DATA_WRITE or event.EvtRetCode:
            return
        area = f"DB{event.EvtParam2}"
        start, size = event.EvtParam3, event.EvtParam4
        self.core.station_wrote_words(area, start // 2, (start + size + 1) // 2)
        self.core.station_wrote_bits(area, start * 8, (start + size) * 8)

    # -- fault injection ----------------------------------------------------------------------
    @property
    def silent(self) -> bool:
        """While True requests are served but no answer is sent."""
        return self._server.silent

    @silent.setter
    def silent(self, on: bool) -> None:
        self._server.silent = on

    @property
    def delay_s(self) -> float:
        """Seconds each answer is held back."""
        return self._server.delay_s

    @delay_s.setter
    def delay_s(self, seconds: float) -> None:
        self._server.delay_s = seconds

    def drop_connections(self) -> None:
        """Cut every client connection (the listener stays)."""
        self._server.drop_connections()

    def reboot(self) -> None:
        """Power-cycle: connections drop, every word and bit is 0, then serve again."""
        self.stop()
        self.core.power_cycle()
        self.start()

    # -- words by S7 address, for tests and the demo ----------------------------------------
    def word(self, address: str) -> int:
        """One DB word by its S7 address (`DB10.DBW0`)."""
        return self._store.get(_word(address))

    def set_word(self, address: str, value: int) -> None:
        """Preset one DB word (a counter near its wrap)."""
        self._store.put(_word(address), value)


def _word(address: str) -> Word:
    a = parse_s7_address(address)
    if not isinstance(a, S7Word):
        raise ValueError(f"{address!r} is a bit, not a word")
    return word_ref(a)
