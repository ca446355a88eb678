"""MELSEC MC protocol (SLMP), 3E frame, binary code: pure encode and decode, no I/O.

Request:  50 00 | network | PC | module I/O (2, LE) | station | data length (2, LE) |
          monitoring timer (2, LE, 250 ms units) | command (2) | subcommand (2) |
          head device (3, LE) | device code (1) | points (2) | write data
Response: D0 00 | network | PC | module I/O | station | data length | end code (2) | data
          (an end code other than 0: 9 bytes of error information follow instead of data)
The data length counts the bytes after it (timer or end code included). Words travel little-
endian; bits two to a byte, the first point in the high nibble (MELSEC Communication Protocol
Reference Manual, "Read data, write data").
"""

from __future__ import annotations

from dataclasses import dataclass

SUBHEADER_REQUEST = b"\x50\x00"
SUBHEADER_RESPONSE = b"\xd0\x00"
HEADER_LEN = 9
"""Subheader to data length: the bytes to read before the length says how many follow."""
CMD_BATCH_READ = 0x0401
CMD_BATCH_WRITE = 0x1401
SUB_WORD = 0x0000
SUB_BIT = 0x0001
DEVICE_CODES = {"D": 0xA8, "M": 0x90}
"""Device codes (Q/L subcommands): D data register, M internal relay."""
MAX_WORDS = 960
MAX_BITS = 7168

END_CODE_HINTS = {
    0xC050: "ASCII data received while the port is set to binary (or the reverse)",
    0xC051: "too many points for one request",
    0xC056: "the device address is beyond the CPU's device range: check the mc map",
    0xC059: "command or subcommand not supported by this CPU",
    0xC05B: "the CPU cannot read or write this device",
    0xC05C: "the request is malformed",
    0xC061: "the request data length does not match the data",
}


class MCCodecError(ValueError):
    """Bytes that are not a valid 3E binary frame."""


@dataclass(frozen=True)
class Route:
    """The access route of a 3E frame; the defaults address the CPU the Ethernet port is on."""

    network: int = 0x00
    pc: int = 0xFF
    module_io: int = 0x03FF
    station: int = 0x00

    def encode(self) -> bytes:
        """The five route bytes."""
        return (
            bytes([self.network, self.pc])
            + self.module_io.to_bytes(2, "little")
            + bytes([self.station])
        )

    @classmethod
    def decode(cls, b: bytes) -> Route:
        """Route from its five bytes."""
        return cls(b[0], b[1], int.from_bytes(b[2:4], "little"), b[4])


@dataclass(frozen=True)
class Request:
    """One batch read or write of a 3E frame."""

    command: int
    subcommand: int
    device_code: int
    head: int
    points: int
    data: bytes = b""
    route: Route = Route()
    timer: int = 4
    """Monitoring timer in 250 ms units (0 waits for ever)."""


@dataclass(frozen=True)
class Response:
    """A 3E answer: end code 0 and the data, or an end code and the error information."""

    end_code: int
    data: bytes = b""
    route: Route = Route()


def encode_request(req: Request) -> bytes:
    """A 3E binary request frame."""
    if not 0 <= req.head <= 0xFFFFFF:
        raise MCCodecError(f"head device number {req.head} out of 0..16777215")
    body = (
        req.timer.to_bytes(2, "little")
        + req.command.to_bytes(2, "little")
        + req.subcommand.to_bytes(2, "little")
        + req.head.to_bytes(3, "little")
        + bytes([req.device_code])
        + req.points.to_bytes(2, "little")
        + req.data
    )
    return SUBHEADER_REQUEST + req.route.encode() + len(body).to_bytes(2, "little") + body


def frame_length(header: bytes) -> int:
    """The whole frame's length from its first HEADER_LEN bytes (request or response)."""
    if len(header) < HEADER_LEN:
        raise MCCodecError(f"header needs {HEADER_LEN} bytes, got {len(header)}")
    if header[:2] not in (SUBHEADER_REQUEST, SUBHEADER_RESPONSE):
        raise MCCodecError(f"subheader {header[:2].hex(' ')} is not 3E binary (50 00 / d0 00)")
    return HEADER_LEN + int.from_bytes(header[7:9], "little")


def decode_request(frame: bytes) -> Request:
    """A 3E binary request frame back into its fields (the simulator's side)."""
    if frame[:2] != SUBHEADER_REQUEST:
        raise MCCodecError(f"subheader {frame[:2].hex(' ')} is not a 3E binary request (50 00)")
    if len(frame) < HEADER_LEN + 12 or frame_length(frame) != len(frame):
        raise MCCodecError(f"request of {len(frame)} bytes does not match its data length")
    b = frame[HEADER_LEN:]
    return Request(
        command=int.from_bytes(b[2:4], "little"),
        subcommand=int.from_bytes(b[4:6], "little"),
        head=int.from_bytes(b[6:9], "little"),
        device_code=b[9],
        points=int.from_bytes(b[10:12], "little"),
        data=bytes(b[12:]),
        route=Route.decode(frame[2:7]),
        timer=int.from_bytes(b[0:2], "little"),
    )


def encode_response(end_code: int, data: bytes = b"", route: Route = Route()) -> bytes:
    """A 3E binary response frame (data: the read data, or the error information)."""
    body = end_code.to_bytes(2, "little") + data
    return SUBHEADER_RESPONSE + route.encode() + len(body).to_bytes(2, "little") + body


def decode_response(frame: bytes) -> Response:
    """A 3E binary response frame into end code and data."""
    if frame[:2] != SUBHEADER_RESPONSE:
        raise MCCodecError(f"subheader {frame[:2].hex(' ')} is not a 3E binary response (d0 00)")
    if len(frame) < HEADER_LEN + 2 or frame_length(frame) != len(frame):
        raise MCCodecError(f"response of {len(frame)} bytes does not match its data length")
    return Response(
        end_code=int.from_bytes(frame[9:11], "little"),
        data=bytes(frame[11:]),
        route=Route.decode(frame[2:7]),
    )


def pack_words(values: list[int]) -> bytes:
    """Words, little-endian, two bytes each."""
    return b"".join((v & 0xFFFF).to_bytes(2, "little") for v in values)


def unpack_words(data: bytes, count: int) -> list[int]:
    """`count` little-endian words."""
    if len(data) != 2 * count:
        raise MCCodecError(f"expected {2 * count} bytes for {count} words, got {len(data)}")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, 2 * count, 2)]


def pack_bits(bits: list[bool]) -> bytes:
    """Bits two to a byte, the first in the high nibble; an odd count ends in a 0 nibble."""
    out = bytearray()
    for i in range(0, len(bits), 2):
        hi = 0x10 if bits[i] else 0
        lo = 0x01 if i + 1 < len(bits) and bits[i + 1] else 0
        out.append(hi | lo)
    return bytes(out)


def unpack_bits(data: bytes, count: int) -> list[bool]:
    """`count` bits from their nibbles."""
    if len(data) != (count + 1) // 2:
        raise MCCodecError(f"expected {(count + 1) // 2} bytes for {count} bits, got {len(data)}")
    return [bool((data[i // 2] >> (0 if i % 2 else 4)) & 0x0F) for i in range(count)]


def read_words(device: str, head: int, count: int, timer: int = 4) -> Request:
    """Batch read (0401) of `count` words from device `head` in word units."""
    return Request(CMD_BATCH_READ, SUB_WORD, DEVICE_CODES[device], head, count, timer=timer)


def write_words(device: str, head: int, values: list[int], timer: int = 4) -> Request:
    """Batch write (1401) of words in word units."""
    return Request(
        CMD_BATCH_WRITE, SUB_WORD, DEVICE_CODES[device], head, len(values), pack_words(values),
        timer=timer,
    )  # fmt: skip


def write_bits(device: str, head: int, bits: list[bool], timer: int = 4) -> Request:
    """Batch write (1401) of bits in bit units."""
    return Request(
        CMD_BATCH_WRITE, SUB_BIT, DEVICE_CODES[device], head, len(bits), pack_bits(bits),
        timer=timer,
    )  # fmt: skip
