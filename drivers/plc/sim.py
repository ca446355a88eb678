"""SimPLC: a pymodbus server with the line PLC's register map and a moving conveyor.

    with SimPLC() as sim:                      # Modbus TCP on 127.0.0.1, free port, own thread
        plc = open_plc(sim.url)                # sim.url = modbus-tcp://127.0.0.1:N
        seq = sim.trigger()                    # an item passes the photocell
        sim.conveyor(6000)                     # or let items pass at 6000 per minute

    SimPLC(transport="rtu")                    # Modbus RTU over a pair of ptys: modbus-rtu:///dev/pts/N

The PLC side of every handshake is simcore.PlcCore's, shared with the S7 and MC simulators:
triggers bump the counter and fill the trigger ring; reject requests are consumed from the reject
ring up to the station's pointer and counted in rejects_done; the PLC heartbeat ticks every
heartbeat_period_s; line stop halts the conveyor. The register image is owned here under the
core's lock and copied into pymodbus's store inside the server's access hook, which also tells
the core what the station wrote.

Fault injection: silent (requests are served, answers dropped), delay_s (slow answers),
exception (answer every request with that Modbus exception code), drop_connections(),
set_heartbeat_running(False), hold_rejects (the PLC stops consuming), stop()/start() (the same
port again).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.plc.base import RegisterMap
from drivers.plc.layout import Bit, Layout, Word
from drivers.plc.simcore import CoreFacade, PlcCore
from drivers.plc.simpty import PtyBridge

U16 = 0x10000
HR, COIL = "HR", "COIL"
"""Layout areas of the Modbus simulator: holding registers and coils."""


def register_layout(m: RegisterMap) -> Layout:
    """The RegisterMap as a Layout (holding registers and coils), for the shared PLC core."""

    def hr(a: int | None) -> Word | None:
        return None if a is None else Word(HR, a)

    def coil(a: int | None) -> Bit | None:
        return None if a is None else Bit(COIL, a)

    return Layout(
        trigger_counter=Word(HR, m.trigger_counter),
        plc_heartbeat=Word(HR, m.plc_heartbeat),
        rejects_done=Word(HR, m.rejects_done),
        trigger_ring=Word(HR, m.trigger_ring),
        trigger_ring_len=m.trigger_ring_len,
        station_heartbeat=Word(HR, m.station_heartbeat),
        stack_light=Word(HR, m.stack_light),
        reject_write_ptr=Word(HR, m.reject_write_ptr),
        reject_ring=Word(HR, m.reject_ring),
        reject_ring_len=m.reject_ring_len,
        reject_bit=coil(m.reject_coil),
        line_stop_bit=coil(m.line_stop_coil),
        line_stop_word=hr(m.line_stop_register),
        case_result=hr(m.case_result),
        cases_placed=hr(m.cases_placed),
        max_read=125,
        what="plc register map",
    )


class _Image:
    """Holding registers and coils as the core's SignalStore (callers hold core.lock)."""

    def __init__(self, registers: int, coils: int) -> None:
        self.hr = [0] * registers
        self.coils = [False] * coils

    def get(self, word: Word) -> int:
        return self.hr[word.index]

    def put(self, word: Word, value: int) -> None:
        self.hr[word.index] = value % U16

    def get_bit(self, bit: Bit) -> bool:
        return self.coils[bit.index]

    def put_bit(self, bit: Bit, on: bool) -> None:
        self.coils[bit.index] = on

    def clear(self) -> None:
        self.hr[:] = [0] * len(self.hr)
        self.coils[:] = [False] * len(self.coils)


class SimPLC(CoreFacade):
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
        self.silent = False
        self.delay_s = 0.0
        self.exception: int | None = None
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
        self._image = _Image(max(addrs) + 1, max(m.reject_coil or 0, m.line_stop_coil or 0) + 1)
        self.core = PlcCore(
            register_layout(m),
            self._image,
            name=f"sim-plc-{transport}",
            first_seq=first_seq,
            heartbeat_period_s=heartbeat_period_s,
            station_timeout_ms=station_timeout_ms,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
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
                [SimData(0, count=len(self._image.coils), values=False, datatype=DataType.BITS)],
                [SimData(0, count=16, values=False, datatype=DataType.BITS)],
                [SimData(0, count=len(self._image.hr), values=0, datatype=DataType.REGISTERS)],
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
        self.core.start()

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
        self.core.stop()
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
            # pymodbus leaves ModbusBaseServer.shutdown() unannotated; this gives it its real type.
            shutdown: Callable[[], Awaitable[None]] = self._server.shutdown
            await shutdown()
        me = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not me]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

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
        with self.core.lock:
            if fc in (1, 5, 15):
                for i, bit in enumerate(values or []):
                    if address + i < len(self._image.coils):
                        self._image.coils[address + i] = bool(bit)
                self.core.station_wrote_bits(COIL, address, address + len(values or []))
                return None
            if values is not None:
                self._image.hr[address : address + len(values)] = [int(v) for v in values]
                self.core.station_wrote_words(HR, address, address + len(values))
            registers[: len(self._image.hr)] = self._image.hr  # the block starts at 0
        return None

    # -- world hooks (trigger, conveyor, rejects, stack_light... are CoreFacade's) -------------
    def register(self, address: int) -> int:
        """One holding register of the image, for tests and the demo."""
        with self.core.lock:
            return self._image.hr[address]

    def set_register(self, address: int, value: int) -> None:
        """Preset one holding register (a counter near its wrap, a stale pointer after a reboot)."""
        with self.core.lock:
            self._image.hr[address] = value % U16

    def reboot(self) -> None:
        """Power-cycle: connections drop, every register and coil is 0, then serve again."""
        self._halt()  # RTU keeps its pty pair: the cable stays plugged in
        self.core.power_cycle()
        self.start()

    def drop_connections(self) -> None:
        """Close every client connection (the listener stays)."""
        server, loop = self._server, self._loop
        if server is None or loop is None:
            return

        def _drop() -> None:
            for conn in list(server.active_connections.values()):
                conn.close()

        loop.call_soon_threadsafe(_drop)
