"""SimPLC: a pymodbus server with the line PLC's register map and a moving conveyor.

    with SimPLC() as sim:                      # Modbus TCP on 127.0.0.1, free port, own thread
        plc = open_plc(sim.url)                # sim.url = modbus-tcp://127.0.0.1:N
        seq = sim.trigger()                    # an item passes the photocell
        sim.conveyor(6000)                     # or let items pass at 6000 per minute

    SimPLC(transport="rtu")                    # Modbus RTU over a pair of ptys: modbus-rtu:///dev/pts/N

The PLC side of every handshake lives here (see drivers/plc/modbus.py): triggers bump the counter
and fill the trigger ring; reject requests are consumed from the reject ring up to the station's
pointer and counted in rejects_done; the PLC heartbeat ticks every heartbeat_period_s; line stop
halts the conveyor. World hooks are thread-safe: the register image is owned here under a lock
and copied into pymodbus's store inside the server's access hook.

Fault injection: silent (requests are served, answers dropped), delay_s (slow answers),
exception (answer every request with that Modbus exception code), drop_connections(),
set_heartbeat_running(False), hold_rejects (the PLC stops consuming), stop()/start() (the same
port again).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.plc.base import BUZZER_BIT, STACK_BITS, RegisterMap, StackLight
from drivers.plc.simpty import PtyBridge

U16 = 0x10000


class SimPLC:
    """A simulated line PLC over Modbus TCP or RTU; see the module docstring."""

    def __init__(
        self,
        register_map: RegisterMap | Mapping[str, Any] | None = None,
        *,
        transport: str = "tcp",
        host: str = "127.0.0.1",
        port: int = 0,
        first_seq: int = 1,
        heartbeat_period_s: float = 0.1,
        station_timeout_ms: int = 2000,
    ) -> None:
        if transport not in ("tcp", "rtu"):
            raise ValueError(f"transport must be tcp or rtu, got {transport!r}")
        if register_map is None:
            register_map = RegisterMap()
        elif not isinstance(register_map, RegisterMap):
            register_map = RegisterMap.from_dict(register_map)
        self.map: RegisterMap = register_map
        self.transport, self.host, self.port = transport, host, port
        self.heartbeat_period_s = heartbeat_period_s
        self.station_timeout_ms = station_timeout_ms
        self.silent = False
        self.delay_s = 0.0
        self.exception: int | None = None
        self.errors: list[str] = []
        self.on_trigger: Callable[[int], None] | None = None
        """Called with each seq as the item passes the photocell (conveyor: in the sim thread)."""
        self.url = ""
        m = self.map
        addrs = [
            m.trigger_counter,
            m.plc_heartbeat,
            m.rejects_done,
            m.trigger_ring + m.trigger_ring_len - 1,
            m.station_heartbeat,
            m.stack_light,
            m.reject_write_ptr,
            m.reject_ring + m.reject_ring_len - 1,
            m.line_stop_register or 0,
            (m.case_result or 0) + 1,
            m.cases_placed or 0,
        ]
        self._hr = [0] * (max(addrs) + 1)
        self._coils = [False] * (max(m.reject_coil or 0, m.line_stop_coil or 0) + 1)
        self._lock = threading.Lock()
        self._seq = (first_seq - 1) % U16
        self._triggered = 0
        self._rejects: list[int] = []
        self._hold = False
        self._hb_running = True
        self._station_hb_at: float | None = None
        self._rate = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._tasks: list[asyncio.Task] = []
        self._conveyor_task: asyncio.Task | None = None
        self._bridge: PtyBridge | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> SimPLC:
        """Serve (TCP: on the same port again after stop()) in a thread of its own."""
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name=f"sim-plc-{self.transport}", daemon=True
        )
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._serve(), loop).result(timeout=5)
        except BaseException:
            self.stop()
            raise
        return self

    async def _serve(self) -> None:
        m = self.map
        device = SimDevice(
            id=m.unit_id,
            simdata=(
                [SimData(0, count=len(self._coils), values=False, datatype=DataType.BITS)],
                [SimData(0, count=16, values=False, datatype=DataType.BITS)],
                [SimData(0, count=len(self._hr), values=0, datatype=DataType.REGISTERS)],
                [SimData(0, count=1, values=0, datatype=DataType.REGISTERS)],
            ),
            action=self._access,
        )
        if self.transport == "tcp":
            self._server = ModbusTcpServer(
                device, address=(self.host, self.port), trace_packet=self._trace_packet
            )
        else:
            if self._bridge is None:
                self._bridge = PtyBridge()
            self._server = ModbusSerialServer(
                device,
                port=self._bridge.server_port,
                baudrate=19200,
                parity="N",  # Linux ptys refuse PARENB (EINVAL); real RTU lines use E
                timeout=0.05,
                trace_packet=self._trace_packet,
            )
        await self._server.serve_forever(background=True)
        if self.transport == "tcp":
            self.port = self._server.transport.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
            self.url = f"modbus-tcp://{self.host}:{self.port}"
        else:
            assert self._bridge is not None
            self.url = f"modbus-rtu://{self._bridge.client_port}?baudrate=19200&parity=N"
        self._tasks = [asyncio.create_task(self._tick_heartbeat())]
        if self._rate:
            self._conveyor_task = asyncio.create_task(self._run_conveyor(self._rate))

    def stop(self) -> None:
        """Close the listener and every connection, join the thread; start() serves again.

        TCP comes back on the same port; RTU on a new pty pair (new url), see reboot().
        """
        self._halt()
        if self._bridge is not None:
            self._bridge.close()
            self._bridge = None

    def _halt(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=5)
            finally:
                loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
        self._loop = self._thread = self._server = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            await self._server.shutdown()
        me = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not me]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._conveyor_task = None

    def __enter__(self) -> SimPLC:
        """start() and return self."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """stop()."""
        self.stop()

    # -- the server's access hook (runs in the server thread) ---------------------------------
    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        return b"" if sending and self.silent else data

    async def _access(
        self,
        fc: int,
        start: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.exception is not None:
            return ExcCodes(self.exception)
        with self._lock:
            if fc in (1, 5, 15):
                for i, bit in enumerate(values or []):
                    self._coil_written(address + i, bool(bit))
                return None
            if values is not None:
                self._hr[address : address + len(values)] = [int(v) for v in values]
                self._registers_written(address, len(values))
            registers[: len(self._hr)] = self._hr  # the block starts at 0 (start == 0)
        return None

    def _coil_written(self, address: int, on: bool) -> None:
        if address < len(self._coils):
            self._coils[address] = on
        if on and address == self.map.reject_coil:
            # A simple PLC kicks the item at the kicker now; the seq is the last one triggered.
            self._rejects.append(self._seq)
            done = self.map.rejects_done
            self._hr[done] = (self._hr[done] + 1) % U16

    def _registers_written(self, address: int, count: int) -> None:
        m = self.map
        written = range(address, address + count)
        if m.station_heartbeat in written:
            self._station_hb_at = time.monotonic()
        if m.reject_write_ptr in written and m.reject_coil is None:
            pending = (self._hr[m.reject_write_ptr] - self._hr[m.rejects_done]) % U16
            if pending > m.reject_ring_len:
                self.errors.append(f"reject ring overrun: {pending} pending")
            if not self._hold:
                self._consume_rejects()

    def _consume_rejects(self) -> None:
        m = self.map
        while self._hr[m.rejects_done] != self._hr[m.reject_write_ptr]:
            done = self._hr[m.rejects_done]
            self._rejects.append(self._hr[m.reject_ring + done % m.reject_ring_len])
            self._hr[m.rejects_done] = (done + 1) % U16

    async def _tick_heartbeat(self) -> None:
        addr = self.map.plc_heartbeat
        while True:
            await asyncio.sleep(self.heartbeat_period_s)
            if self._hb_running:
                with self._lock:
                    self._hr[addr] = (self._hr[addr] + 1) % U16

    async def _run_conveyor(self, rate_per_min: float) -> None:
        loop = asyncio.get_running_loop()
        interval = 60.0 / rate_per_min
        due = loop.time()
        while True:
            due += interval
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not self.line_stop:
                self.trigger()

    # -- world hooks --------------------------------------------------------------------------
    def trigger(self) -> int:
        """An item passes the photocell: ring slot, then counter, in one scan; returns the seq."""
        m = self.map
        with self._lock:
            self._seq = seq = (self._seq + 1) % U16
            count = self._hr[m.trigger_counter]
            self._hr[m.trigger_ring + count % m.trigger_ring_len] = seq
            self._hr[m.trigger_counter] = (count + 1) % U16
            self._triggered += 1
        if self.on_trigger is not None:
            self.on_trigger(seq)
        return seq

    @property
    def triggered(self) -> int:
        """Triggers made since this simulator was built."""
        return self._triggered

    def rejects(self) -> list[int]:
        """Sequence numbers the PLC consumed for rejection since the last call, in order."""
        with self._lock:
            out, self._rejects = self._rejects, []
            return out

    @property
    def hold_rejects(self) -> bool:
        """While True the PLC does not consume reject requests (a busy or stuck PLC)."""
        return self._hold

    @hold_rejects.setter
    def hold_rejects(self, hold: bool) -> None:
        with self._lock:
            self._hold = hold
            if not hold:
                self._consume_rejects()

    @property
    def stack_light(self) -> StackLight:
        """The colour the station set."""
        bits = self._hr[self.map.stack_light] & 7
        return next((k for k, v in STACK_BITS.items() if v == bits), StackLight.OFF)

    @property
    def buzzer(self) -> bool:
        """True when the station switched the buzzer on."""
        return bool(self._hr[self.map.stack_light] & BUZZER_BIT)

    @property
    def line_stop(self) -> bool:
        """True while the station requests a line stop (the conveyor halts)."""
        if self.map.line_stop_coil is not None:
            return self._coils[self.map.line_stop_coil]
        return bool(self._hr[self.map.line_stop_register or 0])

    @property
    def case_result(self) -> tuple[int, int] | None:
        """(case number, verdict) the station wrote last, or None before its first verdict."""
        a = self.map.case_result
        if a is None:
            return None
        with self._lock:
            no, verdict = self._hr[a], self._hr[a + 1]
        return (no, verdict) if verdict else None

    @property
    def cases_placed(self) -> int:
        """The station's cases-placed counter (u16)."""
        a = self.map.cases_placed
        with self._lock:
            return self._hr[a] if a is not None else 0

    def register(self, address: int) -> int:
        """One holding register of the image, for tests and the demo."""
        with self._lock:
            return self._hr[address]

    def set_register(self, address: int, value: int) -> None:
        """Preset one holding register (a counter near its wrap, a stale pointer after a reboot)."""
        with self._lock:
            self._hr[address] = value % U16

    def reboot(self) -> None:
        """Power-cycle: connections drop, every register and coil is 0, then serve again."""
        self._halt()  # RTU keeps its pty pair: the cable stays plugged in
        with self._lock:
            self._hr = [0] * len(self._hr)
            self._coils = [False] * len(self._coils)
        self.start()

    def set_heartbeat_running(self, running: bool) -> None:
        """Stop (False) or restart the PLC's heartbeat counter."""
        self._hb_running = running

    @property
    def station_alive(self) -> bool:
        """True when the station's heartbeat register was written within station_timeout_ms."""
        at = self._station_hb_at
        return at is not None and (time.monotonic() - at) * 1000 <= self.station_timeout_ms

    def conveyor(self, rate_per_min: float) -> None:
        """Let items pass the photocell at this rate (0 stops); paused while line stop is set."""
        self._rate = max(0.0, rate_per_min)
        loop = self._loop
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._set_conveyor(), loop).result(timeout=2)

    async def _set_conveyor(self) -> None:
        if self._conveyor_task is not None:
            self._conveyor_task.cancel()
            self._conveyor_task = None
        if self._rate:
            self._conveyor_task = asyncio.create_task(self._run_conveyor(self._rate))

    def drop_connections(self) -> None:
        """Close every client connection (the listener stays)."""
        server, loop = self._server, self._loop
        if server is None or loop is None:
            return

        def _drop() -> None:
            for conn in list(server.active_connections.values()):
                conn.close()

        loop.call_soon_threadsafe(_drop)
