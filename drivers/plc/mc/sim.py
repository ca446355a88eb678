"""SimMCPLC: a MELSEC MC protocol port (3E binary over TCP) holding D and M, and the PLC logic.

    with SimMCPLC() as sim:              # 127.0.0.1, free port; sim.url = mc://127.0.0.1:N
        plc = MCPLC(sim.url)
        seq = sim.trigger()

The PLC side of every handshake is simcore.PlcCore's (the same as the other simulators); this
file serves batch read and batch write (0401/1401, word and bit units, D and M) with mccodec and
tells the core what the station wrote before it answers.

Fault injection: silent (requests served, answers dropped), delay_s, end_code (answer every
request with it), drop_connections(), set_heartbeat_running(False), hold_rejects,
stop()/start() (the same port again), reboot().
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

from drivers.plc.layout import Bit, Word
from drivers.plc.mc import codec as mc
from drivers.plc.mc.addresses import MCMap
from drivers.plc.simcore import CoreFacade, PlcCore

END_DEVICE_RANGE = 0xC056
END_NOT_SUPPORTED = 0xC059
END_MALFORMED = 0xC05C


class _DeviceStore:
    """D registers and M relays; the simulator holds core.lock around every access."""

    def __init__(self, d_points: int, m_points: int) -> None:
        self.d = [0] * d_points
        self.m = [False] * m_points

    def get(self, word: Word) -> int:
        return self.d[word.index]

    def put(self, word: Word, value: int) -> None:
        self.d[word.index] = value & 0xFFFF

    def get_bit(self, bit: Bit) -> bool:
        return self.m[bit.index]

    def put_bit(self, bit: Bit, on: bool) -> None:
        self.m[bit.index] = on

    def clear(self) -> None:
        self.d[:] = [0] * len(self.d)
        self.m[:] = [False] * len(self.m)


class SimMCPLC(CoreFacade):
    """A simulated line PLC on a MELSEC MC protocol port; see the module docstring."""

    def __init__(
        self,
        mc_map: MCMap | Mapping[str, Any] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        first_seq: int = 1,
        heartbeat_period_s: float = 0.1,
        station_timeout_ms: int = 2000,
        d_points: int | None = None,
    ) -> None:
        if mc_map is None:
            mc_map = MCMap()
        elif not isinstance(mc_map, MCMap):
            mc_map = MCMap.from_dict(mc_map)
        self.map = mc_map
        self.host, self.port = host, port
        areas = mc_map.layout.areas()
        self._store = _DeviceStore(
            d_points if d_points is not None else areas.get("D", 0), areas.get("M", 0) * 16
        )
        self.core = PlcCore(
            mc_map.layout,
            self._store,
            name="sim-plc-mc",
            first_seq=first_seq,
            heartbeat_period_s=heartbeat_period_s,
            station_timeout_ms=station_timeout_ms,
        )
        self.silent = False
        self.delay_s = 0.0
        self.end_code: int | None = None
        self.url = ""
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> SimMCPLC:
        """Listen (on the same port again after stop()) and start the PLC program."""
        if self._listener is not None:
            return self
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind((self.host, self.port))
        lst.listen(4)
        self.port = lst.getsockname()[1]
        self.url = f"mc://{self.host}:{self.port}"
        self._listener = lst
        t = threading.Thread(
            target=self._accept, args=(lst,), name="sim-plc-mc-listen", daemon=True
        )
        self._threads = [t]
        t.start()
        self.core.start()
        return self

    def stop(self) -> None:
        """Close the listener and every connection, join the threads; start() serves again."""
        lst, self._listener = self._listener, None
        if lst is None:
            return
        self.core.stop()
        lst.close()
        self.drop_connections()
        for t in list(self._threads):
            t.join(timeout=5)
        self._threads = []

    def __enter__(self) -> SimMCPLC:
        """start() and return self."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """stop()."""
        self.stop()

    def drop_connections(self) -> None:
        """Close every client connection (the listener stays)."""
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def reboot(self) -> None:
        """Power-cycle: connections drop, every register and relay is 0, then serve again."""
        self.stop()
        self.core.power_cycle()
        self.start()

    # -- serving ------------------------------------------------------------------------------
    def _accept(self, lst: socket.socket) -> None:
        lst.settimeout(0.05)
        while self._listener is lst:
            try:
                conn, _ = lst.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._conns_lock:
                self._conns.add(conn)
            t = threading.Thread(
                target=self._serve, args=(conn,), name="sim-plc-mc-conn", daemon=True
            )
            self._threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn:
                while True:
                    header = _recv(conn, mc.HEADER_LEN)
                    if header is None:
                        return
                    rest = _recv(conn, mc.frame_length(header) - mc.HEADER_LEN)
                    if rest is None:
                        return
                    answer = self._answer(header + rest)
                    if self.delay_s:
                        time.sleep(self.delay_s)
                    if not self.silent:
                        conn.sendall(answer)
        except (OSError, mc.MCCodecError):
            return
        finally:
            with self._conns_lock:
                self._conns.discard(conn)

    def _answer(self, frame: bytes) -> bytes:
        try:
            req = mc.decode_request(frame)
        except mc.MCCodecError:
            return mc.encode_response(END_MALFORMED, frame[2:7] + frame[11:15])
        info = req.route.encode() + frame[11:15]  # error information: route, command, subcommand
        if self.end_code is not None:
            return mc.encode_response(self.end_code, info, req.route)
        code, data = self._execute(req)
        return mc.encode_response(code, data if code == 0 else info, req.route)

    def _execute(self, req: mc.Request) -> tuple[int, bytes]:
        word = req.subcommand == mc.SUB_WORD
        if req.device_code == mc.DEVICE_CODES["D"] and word:
            memory: list[Any] = self._store.d
        elif req.device_code == mc.DEVICE_CODES["M"] and not word:
            memory = self._store.m
        else:
            return END_NOT_SUPPORTED, b""
        lo, hi = req.head, req.head + req.points
        if req.points < 1 or hi > len(memory):
            return END_DEVICE_RANGE, b""
        with self.core.lock:
            if req.command == mc.CMD_BATCH_READ:
                part = memory[lo:hi]
                return 0, mc.pack_words(part) if word else mc.pack_bits(part)
            if req.command != mc.CMD_BATCH_WRITE:
                return END_NOT_SUPPORTED, b""
            try:
                values = (
                    mc.unpack_words(req.data, req.points)
                    if word
                    else mc.unpack_bits(req.data, req.points)
                )
            except mc.MCCodecError:
                return END_MALFORMED, b""
            memory[lo:hi] = values
            if word:
                self.core.station_wrote_words("D", lo, hi)
            else:
                self.core.station_wrote_bits("M", lo, hi)
            return 0, b""

    # -- registers by MELSEC name, for tests and the demo --------------------------------------
    def register(self, number: int) -> int:
        """D<number>."""
        with self.core.lock:
            return self._store.d[number]

    def set_register(self, number: int, value: int) -> None:
        """Preset D<number> (a counter near its wrap)."""
        with self.core.lock:
            self._store.d[number] = value & 0xFFFF

    def relay(self, number: int) -> bool:
        """M<number>."""
        with self.core.lock:
            return self._store.m[number]


def _recv(conn: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf
