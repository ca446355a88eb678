"""`binpacket`: a binary STX/ETX packet protocol with a length field and an XOR checksum.

Modelled on the packet shape of the Videojet 1000 Line Series WSI Communications Protocol
(P/N 462115-01, rev AD 2013: typed packets with a check, TCP port 3100 on those printers). Only
that document's outline was at hand, not its byte tables, so the type letters, the length field,
the check and the field layout are ours: the protocol carries a neutral name and will not talk to
a Videojet printer as is. Frame:

    STX(02) | TYPE (1 ASCII letter) | LEN (2 bytes, big endian) | PAYLOAD | ETX(03) | CHK

CHK is the XOR of every byte from TYPE to ETX. PAYLOAD fields are UTF-8 separated by US (1F).

    host -> printer                        printer -> host
    S job        select job                A kind            ack (kind letter S/U/Q/C/R)
    U text       update field (SINGLE)     N kind US reason  nak
    Q text       enqueue (FIFO)            T ready US faults US queue US count US ink  status
    C            clear queue               P count US text   print end (unsolicited)
    R            status request            M reason          missed trigger (unsolicited)
"""

from __future__ import annotations

from drivers.inkjet.messages import (
    Ack,
    ClearQueue,
    Enqueue,
    FrameError,
    Kind,
    Message,
    Missed,
    Nak,
    PrintEnd,
    SelectJob,
    StatusReport,
    StatusRequest,
    UpdateField,
)

STX, ETX, US = 0x02, 0x03, 0x1F
MAX_PAYLOAD = 1024
_KIND_LETTER = {
    Kind.SELECT: "S",
    Kind.UPDATE: "U",
    Kind.ENQUEUE: "Q",
    Kind.CLEAR: "C",
    Kind.STATUS: "R",
}
_LETTER_KIND = {v: k for k, v in _KIND_LETTER.items()}
_TYPES = frozenset(b"SUQCRANTPM")


def _check(body: bytes) -> int:
    x = 0
    for b in body:
        x ^= b
    return x


def _text(value: str) -> bytes:
    if any(ord(c) < 0x20 for c in value):
        raise ValueError(f"control character in {value!r}")
    return value.encode("utf-8")


def frame(type_: bytes, fields: list[bytes]) -> bytes:
    """Build one packet from a type letter and its payload fields."""
    payload = bytes([US]).join(fields)
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = type_ + len(payload).to_bytes(2, "big") + payload + bytes([ETX])
    return bytes([STX]) + body + bytes([_check(body)])


def _encode(msg: Message) -> bytes:
    match msg:
        case SelectJob(job):
            return frame(b"S", [_text(job)])
        case UpdateField(text):
            return frame(b"U", [_text(text)])
        case Enqueue(text):
            return frame(b"Q", [_text(text)])
        case ClearQueue():
            return frame(b"C", [])
        case StatusRequest():
            return frame(b"R", [])
        case Ack(kind):
            return frame(b"A", [_KIND_LETTER[kind].encode()])
        case Nak(kind, reason):
            return frame(b"N", [_KIND_LETTER[kind].encode(), _text(reason)])
        case StatusReport(ready, faults, queue_len, count, ink):
            fields = [b"1" if ready else b"0", ",".join(faults).encode(), b"%d" % queue_len]
            fields += [b"%d" % count, b"" if ink is None else b"%d" % ink]
            return frame(b"T", fields)
        case PrintEnd(count, text):
            return frame(b"P", [b"%d" % count, _text(text)])
        case Missed(reason):
            return frame(b"M", [_text(reason)])
    raise ValueError(f"binpacket cannot encode {msg!r}")


def _parse(type_: int, payload: bytes) -> Message:
    # An empty payload is no field for C and R, one empty text for the others.
    fields = [] if type_ in b"CR" and not payload else payload.decode("utf-8").split("\x1f")
    match chr(type_), fields:
        case "S", [job]:
            return SelectJob(job)
        case "U", [text]:
            return UpdateField(text)
        case "Q", [text]:
            return Enqueue(text)
        case "C", []:
            return ClearQueue()
        case "R", []:
            return StatusRequest()
        case "A", [k]:
            return Ack(_LETTER_KIND[k])
        case "N", [k, reason]:
            return Nak(_LETTER_KIND[k], reason)
        case "T", [ready, faults, queue, count, ink]:
            names = tuple(f for f in faults.split(",") if f)
            pct = int(ink) if ink else None
            return StatusReport(ready == "1", names, int(queue), int(count), pct)
        case "P", [count, text]:
            return PrintEnd(int(count), text)
        case "M", [reason]:
            return Missed(reason)
    raise ValueError(f"fields {fields!r} do not fit type {chr(type_)}")


class BinPacketDecoder:
    """Incremental binpacket parser; drops bytes up to the next STX after any bad frame."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Message | FrameError]:
        """Consume bytes; return messages and FrameError flags in stream order."""
        buf = self._buf
        buf += data
        out: list[Message | FrameError] = []
        while buf:
            start = buf.find(STX)
            if start < 0:
                out.append(FrameError("garbage between frames", bytes(buf)))
                buf.clear()
                break
            if start:
                out.append(FrameError("garbage between frames", bytes(buf[:start])))
                del buf[:start]
            if len(buf) < 4:
                break
            size = int.from_bytes(buf[2:4], "big")
            if buf[1] not in _TYPES or size > MAX_PAYLOAD:
                out.append(FrameError("bad packet header", bytes(buf[:4])))
                del buf[:1]
                continue
            end = 4 + size
            if len(buf) < end + 2:
                break
            if buf[end] != ETX:
                # A frame cut short: the next frame's bytes landed where ETX should be.
                out.append(FrameError("truncated packet (no ETX)", bytes(buf[:end])))
                del buf[:1]
                continue
            raw = bytes(buf[: end + 2])
            del buf[: end + 2]
            if _check(raw[1:-1]) != raw[-1]:
                out.append(FrameError("bad checksum", raw))
                continue
            try:
                out.append(_parse(raw[1], raw[4:end]))
            except (ValueError, KeyError, UnicodeDecodeError) as exc:
                out.append(FrameError(f"bad packet payload: {exc}", raw))
        return out


class BinPacketCodec:
    """The binpacket wire protocol."""

    name = "binpacket"

    def encode(self, msg: Message) -> bytes:
        """One packet for `msg`."""
        return _encode(msg)

    def decoder(self) -> BinPacketDecoder:
        """A fresh incremental decoder."""
        return BinPacketDecoder()

    def damage(self, frame: bytes) -> bytes:
        """The packet with a wrong check byte."""
        return frame[:-1] + bytes([frame[-1] ^ 0x5A])


CODEC = BinPacketCodec()
