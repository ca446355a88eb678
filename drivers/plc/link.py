"""One pymodbus sync client: URL parsing, per-call timeout, error translation, reconnect backoff."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.pdu import ModbusPDU

from drivers.errors import DriverConnectionError, DriverProtocolError, DriverTimeout
from drivers.plc.base import ModbusRefused

EXCEPTION_HINTS = {
    1: ("illegal function", "enable this function code (FC01/03/05/06/16) in the PLC's server"),
    2: (
        "illegal data address",
        "the address is outside the PLC's mapped area: check the plc register map",
    ),
    3: ("illegal data value", "the PLC refused the value written"),
    4: ("server device failure", "the PLC program or its Modbus server reports a fault"),
    5: ("acknowledge (busy, processing)", "retry later"),
    6: ("server device busy", "retry later"),
    10: ("gateway path unavailable", "check the gateway's routing and unit_id"),
    11: ("gateway target did not respond", "the serial device behind the gateway is silent"),
}


@dataclass(frozen=True)
class LinkSettings:
    """Where the PLC is: TCP host and port, or an RTU serial port (any pyserial URL)."""

    kind: str
    host: str = ""
    port: int = 502
    serial_port: str = ""
    baudrate: int = 19200
    parity: str = "E"
    bytesize: int = 8
    stopbits: int = 1


def _close_client(client: ModbusTcpClient | ModbusSerialClient) -> None:
    # pymodbus leaves the sync clients' close() unannotated; this gives it its real type.
    close: Callable[[], None] = client.close
    close()


def parse_url(url: str) -> LinkSettings:
    """`modbus-tcp://host[:port]` or `modbus-rtu://<port>?baudrate=&parity=&bytesize=&stopbits=`."""
    if url.startswith("modbus-tcp://"):
        parts = urlsplit(url)
        if not parts.hostname:
            raise ValueError(f"plc url {url!r}: no host (modbus-tcp://host:port)")
        return LinkSettings("tcp", host=parts.hostname, port=parts.port or 502)
    if url.startswith("modbus-rtu://"):
        rest = url[len("modbus-rtu://") :]
        port, _, query = rest.partition("?")
        if not port:
            raise ValueError(f"plc url {url!r}: no serial port (modbus-rtu:///dev/ttyUSB0)")
        q = {k: v[-1] for k, v in parse_qs(query).items()}
        unknown = set(q) - {"baudrate", "parity", "bytesize", "stopbits"}
        if unknown:
            raise ValueError(f"plc url {url!r}: unknown option(s) {sorted(unknown)}")
        parity = q.get("parity", "E").upper()
        if parity not in ("N", "E", "O"):
            raise ValueError(f"plc url {url!r}: parity must be N, E or O")
        return LinkSettings(
            "rtu",
            serial_port=port,
            baudrate=int(q.get("baudrate", 19200)),
            parity=parity,
            bytesize=int(q.get("bytesize", 8)),
            stopbits=int(q.get("stopbits", 1)),
        )
    raise ValueError(f"plc url {url!r}: expected modbus-tcp://host:port or modbus-rtu://port")


class ModbusLink:
    """A Modbus master for one device; every call bounded by timeout_s, errors name device and port.

    After a timeout or a lost link the client is closed (a late answer must not be taken for the
    next one) and the next call reconnects. A failed connect doubles the wait before the next
    attempt (backoff_min_s .. backoff_max_s); calls inside that wait fail at once, never block.
    """

    def __init__(
        self,
        url: str,
        *,
        name: str,
        unit_id: int,
        timeout_s: float,
        backoff_min_s: float = 0.05,
        backoff_max_s: float = 5.0,
    ) -> None:
        self.url = url
        self.name = name
        self.settings = parse_url(url)
        self.unit_id = unit_id
        self.timeout_s = timeout_s
        self.backoff_min_s = backoff_min_s
        self.backoff_max_s = backoff_max_s
        self.backoff_s = 0.0
        self.connects = 0
        self._next_attempt = 0.0
        self._client: ModbusTcpClient | ModbusSerialClient | None = None
        self._lock = threading.RLock()

    @property
    def connected(self) -> bool:
        """True while a client is open."""
        return self._client is not None

    def _new_client(self) -> ModbusTcpClient | ModbusSerialClient:
        s = self.settings
        if s.kind == "tcp":
            return ModbusTcpClient(
                s.host, port=s.port, timeout=self.timeout_s, retries=0, name=self.name
            )
        return ModbusSerialClient(
            s.serial_port,
            baudrate=s.baudrate,
            parity=s.parity,
            bytesize=s.bytesize,
            stopbits=s.stopbits,
            timeout=self.timeout_s,
            retries=0,
            name=self.name,
        )

    def open(self) -> bool:
        """Connect if not connected; True when this call made a new connection."""
        with self._lock:
            if self._client is not None:
                return False
            now = time.monotonic()
            if now < self._next_attempt:
                wait_ms = (self._next_attempt - now) * 1000
                raise DriverConnectionError(
                    self.name, self.url, f"not connected; next attempt in {wait_ms:.0f} ms"
                )
            client = self._new_client()
            if not client.connect():
                _close_client(client)
                self.backoff_s = min(
                    self.backoff_max_s, max(self.backoff_min_s, self.backoff_s * 2)
                )
                self._next_attempt = time.monotonic() + self.backoff_s
                if self.settings.kind == "tcp":
                    what = f"cannot connect within {self.timeout_s} s"
                    check = "check power, cable, IP address and port"
                else:
                    what = f"cannot open serial port {self.settings.serial_port}"
                    check = "check the adapter is plugged in and no other program holds it"
                raise DriverConnectionError(
                    self.name,
                    self.url,
                    what,
                    f"retrying in {self.backoff_s * 1000:.0f} ms; {check}",
                )
            # Only a modbus-rtu url makes a serial client (see _new_client).
            if isinstance(client, ModbusSerialClient) and client.socket is not None:
                # Bytes of an answer that came after we gave up would frame-shift the next one.
                client.socket.reset_input_buffer()
            self._client = client
            self.backoff_s = 0.0
            self.connects += 1
            return True

    def close(self) -> None:
        """Close the client; the next call reconnects."""
        with self._lock:
            if self._client is not None:
                _close_client(self._client)
                self._client = None

    def call(
        self, what: str, fc: int, fn: Callable[[ModbusTcpClient | ModbusSerialClient], ModbusPDU]
    ) -> ModbusPDU:
        """Run one request of function code `fc`; any failure is a DriverError naming `what`."""
        with self._lock:
            self.open()
            client = self._client
            assert client is not None
            try:
                rsp = fn(client)
            except ModbusIOException as exc:
                self.close()
                if "No response" in str(exc):
                    raise DriverTimeout(
                        self.name, self.url, f"{what}: no answer within {self.timeout_s} s"
                    ) from exc
                raise DriverProtocolError(self.name, self.url, f"{what}: {exc}") from exc
            except ConnectionException as exc:
                self.close()
                raise DriverConnectionError(self.name, self.url, f"{what}: link lost") from exc
            except ModbusException as exc:
                self.close()
                raise DriverProtocolError(self.name, self.url, f"{what}: {exc}") from exc
            except OSError as exc:
                self.close()
                raise DriverConnectionError(self.name, self.url, f"{what}: {exc}") from exc
            if rsp.function_code & 0x7F != fc:
                # RTU has no transaction id: a late answer to an abandoned request looks valid.
                self.close()
                raise DriverProtocolError(
                    self.name, self.url, f"{what}: answer to FC{rsp.function_code}, asked FC{fc}"
                )
            if rsp.isError():
                code = int(getattr(rsp, "exception_code", 0))
                text, hint = EXCEPTION_HINTS.get(code, (f"exception {code}", ""))
                raise ModbusRefused(
                    self.name,
                    self.url,
                    f"{what}: PLC answered exception {code} ({text})",
                    hint,
                    code,
                )
            return rsp

    def read(self, address: int, count: int, what: str) -> list[int]:
        """FC03 read holding registers."""
        rsp = self.call(
            what,
            3,
            lambda c: c.read_holding_registers(address, count=count, device_id=self.unit_id),
        )
        regs = list(rsp.registers)
        if len(regs) < count:
            self.close()
            raise DriverProtocolError(
                self.name, self.url, f"{what}: asked {count} registers, got {len(regs)}"
            )
        return regs[:count]

    def write(self, address: int, values: list[int], what: str) -> None:
        """FC06 for one register, FC16 for several."""
        if len(values) == 1:
            self.call(
                what, 6, lambda c: c.write_register(address, values[0], device_id=self.unit_id)
            )
        else:
            self.call(
                what, 16, lambda c: c.write_registers(address, values, device_id=self.unit_id)
            )

    def write_coil(self, address: int, value: bool, what: str) -> None:
        """FC05 write single coil."""
        self.call(what, 5, lambda c: c.write_coil(address, value, device_id=self.unit_id))
