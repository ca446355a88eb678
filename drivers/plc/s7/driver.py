"""S7PLC: the line PLC on a Siemens S7 (S7-300/400/1200/1500) over ISO-on-TCP, with python-snap7.

The handshakes are HandshakePLC's (the Modbus ones, see README.md) on the data-block words and
bits of an `S7Map`. A poll is one read of counter + trigger ring (+ heartbeat and rejects done);
a reject request is one write of pointer + ring; bits are written as S7 BIT items, so the PLC's
other bits in that byte stay as they are. Words are big-endian (S7 order).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from snap7.client import Client
from snap7.error import S7ConnectionError, S7Error, S7ProtocolError, S7TimeoutError
from snap7.type import Area, WordLen

from drivers.errors import DeviceFault, DriverConnectionError, DriverProtocolError, DriverTimeout
from drivers.plc.handshake import BusLink, HandshakePLC
from drivers.plc.layout import Bit, Word
from drivers.plc.s7.addresses import S7Map, bit_name, word_name

T = TypeVar("T")


class S7Refused(DeviceFault):
    """The CPU answered and refused the item (no such DB, out of range, optimized access)."""


@dataclass(frozen=True)
class S7Settings:
    """Where the CPU is: host, ISO-on-TCP port, rack and slot."""

    host: str
    port: int = 102
    rack: int = 0
    slot: int = 1


def parse_s7_url(url: str) -> S7Settings:
    """`s7://host[:port][?rack=0&slot=1]` (S7-1200/1500: rack 0 slot 1; S7-300: slot 2)."""
    parts = urlsplit(url)
    if parts.scheme != "s7" or not parts.hostname:
        raise ValueError(f"plc url {url!r}: expected s7://host[:port]?rack=0&slot=1")
    q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(q) - {"rack", "slot"}
    if unknown:
        raise ValueError(f"plc url {url!r}: unknown option(s) {sorted(unknown)}; known: rack, slot")
    try:
        rack, slot = int(q.get("rack", 0)), int(q.get("slot", 1))
    except ValueError:
        raise ValueError(f"plc url {url!r}: rack and slot are numbers") from None
    if not (0 <= rack <= 7 and 0 <= slot <= 31):
        raise ValueError(f"plc url {url!r}: rack 0..7 and slot 0..31")
    return S7Settings(parts.hostname, parts.port or 102, rack, slot)


class _Client(Client):
    """snap7's client with our timeout from the first S7 request on.

    snap7 3.3 opens the connection with a fixed 5 s socket timeout and only then lets us change
    it; the S7 setup exchange (the first request) already runs on the bounded socket here.
    """

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self.timeout_s = timeout_s

    def _setup_communication(self) -> None:
        conn = self.connection
        if conn is not None and conn.socket is not None:
            conn.timeout = self.timeout_s
            conn.socket.settimeout(self.timeout_s)
        super()._setup_communication()


class S7Bus(BusLink):
    """Words and bits of data blocks through one snap7 client; calls bounded by timeout_s."""

    def __init__(self, url: str, *, name: str, timeout_s: float) -> None:
        super().__init__(url, name, timeout_s)
        self.settings = parse_s7_url(url)
        self._client: Client | None = None

    def _connect(self) -> None:
        s = self.settings
        # snap7 connects with a fixed 5 s timeout: a quick TCP probe keeps a dead host within ours.
        socket.create_connection((s.host, s.port), timeout=self.timeout_s).close()
        client = _Client(self.timeout_s)
        self._client = client
        client.connect(s.host, s.rack, s.slot, s.port)

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.disconnect()
            except (S7Error, OSError):
                pass

    def _call(self, what: str, fn: Callable[[Client], T]) -> T:
        with self._lock:
            self.open()
            assert self._client is not None
            try:
                return fn(self._client)
            except (S7TimeoutError, TimeoutError) as exc:
                self.close()
                raise DriverTimeout(
                    self.name, self.url, f"{what}: no answer within {self.timeout_s} s"
                ) from exc
            except S7ProtocolError as exc:
                text = str(exc)
                # A well-formed error answer (item return code, or error class in the header)
                # is the CPU refusing this request; the link itself is fine.
                if "operation failed" in text or "protocol error (class=" in text:
                    raise S7Refused(
                        self.name,
                        self.url,
                        f"{what}: PLC refused: {text}",
                        "check the s7 map: the DB exists, is long enough and has "
                        "'optimized block access' switched off; PUT/GET is allowed",
                    ) from exc
                self.close()
                raise DriverProtocolError(self.name, self.url, f"{what}: {text}") from exc
            except (S7ConnectionError, S7Error, OSError) as exc:
                self.close()
                raise DriverConnectionError(
                    self.name, self.url, f"{what}: link lost ({exc})"
                ) from exc

    def read(self, word: Word, count: int, what: str) -> list[int]:
        """Read `count` big-endian words of a DB (one S7 read)."""
        db = int(word.area[2:])
        data = self._call(
            f"{what} ({word_name(word)}, {count} words)",
            lambda c: c.db_read(db, word.index * 2, count * 2),
        )
        if len(data) != count * 2:
            self.close()
            raise DriverProtocolError(
                self.name, self.url, f"{what}: asked {count * 2} bytes, got {len(data)}"
            )
        return [int.from_bytes(data[i : i + 2], "big") for i in range(0, count * 2, 2)]

    def write(self, word: Word, values: list[int], what: str) -> None:
        """Write big-endian words into a DB (one S7 write)."""
        db = int(word.area[2:])
        data = bytearray(b"".join((v & 0xFFFF).to_bytes(2, "big") for v in values))
        self._call(f"{what} ({word_name(word)})", lambda c: c.db_write(db, word.index * 2, data))

    def write_bit(self, bit: Bit, on: bool, what: str) -> None:
        """Write one S7 BIT item (the CPU leaves the byte's other bits alone)."""
        db = int(bit.area[2:])
        self._call(
            f"{what} ({bit_name(bit)})",
            lambda c: c.write_area(Area.DB, db, bit.index, bytearray([int(on)]), WordLen.Bit),
        )


class S7PLC(HandshakePLC):
    """The line PLC on a Siemens S7; see the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        s7_map: S7Map | Mapping[str, Any] | None = None,
        name: str = "plc",
        timeout_s: float = 0.5,
        heartbeat_timeout_ms: int = 2000,
    ) -> None:
        if s7_map is None:
            s7_map = S7Map()
        elif not isinstance(s7_map, S7Map):
            s7_map = S7Map.from_dict(s7_map)
        self.map = s7_map
        bus = S7Bus(url, name=name, timeout_s=timeout_s)
        super().__init__(
            url, bus, s7_map.layout, name=name, heartbeat_timeout_ms=heartbeat_timeout_ms
        )
