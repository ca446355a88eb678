"""MCPLC: the line PLC on a Mitsubishi MELSEC (iQ-R, iQ-F, Q, L) over MC protocol 3E binary/TCP.

The handshakes are HandshakePLC's (the Modbus ones, see README.md) on the D registers and M relays
of an `MCMap`. A poll is one batch read (0401) of counter + trigger ring (+ heartbeat and rejects
done); a reject request is one batch write (1401) of pointer + ring; a bit is one batch write in
bit units, which leaves every other relay alone. A 3E frame has no serial number: after a timeout
the connection is closed so a late answer is never taken for the next request.
"""

from __future__ import annotations

import math
import socket
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from drivers.errors import DeviceFault, DriverConnectionError, DriverProtocolError, DriverTimeout
from drivers.plc.handshake import BusLink, HandshakePLC
from drivers.plc.layout import Bit, Word
from drivers.plc.mc import codec as mc
from drivers.plc.mc.addresses import MCMap, bit_name, word_name


class MCRefused(DeviceFault):
    """The CPU answered with an end code other than 0; `code` is the end code."""

    def __init__(self, device: str, port: str, what: str, hint: str, code: int) -> None:
        super().__init__(device, port, what, hint)
        self.code = code


def parse_mc_url(url: str) -> tuple[str, int]:
    """`mc://host[:port]` → (host, port); the port is the one opened for MC protocol (5007)."""
    parts = urlsplit(url)
    if parts.scheme != "mc" or not parts.hostname:
        raise ValueError(f"plc url {url!r}: expected mc://host:port (3E binary over TCP)")
    if parts.query:
        raise ValueError(f"plc url {url!r}: takes no options")
    return parts.hostname, parts.port or 5007


class MCBus(BusLink):
    """D words and M bits over one TCP connection speaking 3E binary frames."""

    def __init__(self, url: str, *, name: str, timeout_s: float) -> None:
        super().__init__(url, name, timeout_s)
        self.host, self.port = parse_mc_url(url)
        self.timer = max(1, math.ceil(timeout_s / 0.25))  # the CPU gives up no later than we do
        self._sock: socket.socket | None = None

    def _connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock

    def _drop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def _recv(self, n: int, deadline: float, what: str) -> bytes:
        assert self._sock is not None
        buf = b""
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self._sock.settimeout(left)
            chunk = self._sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed by the PLC")
            buf += chunk
        return buf

    def exchange(self, req: mc.Request, what: str) -> bytes:
        """Send one request, return the response data; every failure a DriverError naming what."""
        with self._lock:
            self.open()
            assert self._sock is not None
            deadline = time.monotonic() + self.timeout_s
            try:
                self._sock.sendall(mc.encode_request(req))
                header = self._recv(mc.HEADER_LEN, deadline, what)
                frame = header + self._recv(mc.frame_length(header) - mc.HEADER_LEN, deadline, what)
                rsp = mc.decode_response(frame)
            except TimeoutError as exc:
                self.close()
                raise DriverTimeout(
                    self.name, self.url, f"{what}: no answer within {self.timeout_s} s"
                ) from exc
            except mc.MCCodecError as exc:
                self.close()
                raise DriverProtocolError(self.name, self.url, f"{what}: {exc}") from exc
            except OSError as exc:
                self.close()
                raise DriverConnectionError(
                    self.name, self.url, f"{what}: link lost ({exc})"
                ) from exc
            if rsp.route != req.route:
                self.close()
                raise DriverProtocolError(
                    self.name, self.url, f"{what}: answer for another route {rsp.route}"
                )
            if rsp.end_code:
                hint = mc.END_CODE_HINTS.get(rsp.end_code, "see the CPU manual's error codes")
                raise MCRefused(
                    self.name,
                    self.url,
                    f"{what}: PLC answered end code 0x{rsp.end_code:04X}",
                    hint,
                    rsp.end_code,
                )
            return rsp.data

    def read(self, word: Word, count: int, what: str) -> list[int]:
        """Batch read of `count` D registers in word units."""
        req = mc.read_words(word.area, word.index, count, self.timer)
        data = self.exchange(req, f"{what} ({word_name(word)}, {count} words)")
        try:
            return mc.unpack_words(data, count)
        except mc.MCCodecError as exc:
            self.close()
            raise DriverProtocolError(self.name, self.url, f"{what}: {exc}") from exc

    def write(self, word: Word, values: list[int], what: str) -> None:
        """Batch write of D registers in word units."""
        req = mc.write_words(word.area, word.index, values, self.timer)
        self.exchange(req, f"{what} ({word_name(word)})")

    def write_bit(self, bit: Bit, on: bool, what: str) -> None:
        """Batch write of one M relay in bit units."""
        req = mc.write_bits(bit.area, bit.index, [on], self.timer)
        self.exchange(req, f"{what} ({bit_name(bit)})")


class MCPLC(HandshakePLC):
    """The line PLC on a MELSEC CPU; see the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        mc_map: MCMap | Mapping[str, Any] | None = None,
        name: str = "plc",
        timeout_s: float = 0.5,
        heartbeat_timeout_ms: int = 2000,
    ) -> None:
        if mc_map is None:
            mc_map = MCMap()
        elif not isinstance(mc_map, MCMap):
            mc_map = MCMap.from_dict(mc_map)
        self.map = mc_map
        bus = MCBus(url, name=name, timeout_s=timeout_s)
        super().__init__(
            url, bus, mc_map.layout, name=name, heartbeat_timeout_ms=heartbeat_timeout_ms
        )
