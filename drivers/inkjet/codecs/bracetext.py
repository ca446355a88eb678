"""`bracetext`: a text protocol of brace-framed, pipe-separated commands.

Modelled on the Markem-Imaje NGPCL style as public integrations use it (`{~JS0|job|0|}` selects a
job, `{~JU0||0|field|value|}` updates a field, the printer echoes `{~JS0|}` on success); no vendor
document was at hand, and the queue, clear, status, print-end and missed-trigger commands are ours,
so the protocol carries a neutral name. There is no checksum on this wire: framing errors
(garbage, a frame cut by the next `{`, unknown commands) are flagged.

    host -> printer                         printer -> host
    {~JS0|job|0|}        select job         {~JS0|} / {~JS1|reason|}        ack / nak
    {~JU0||0|CODE|text|} update (SINGLE)    {~JU0|} / {~JU1|reason|}
    {~JQ0|CODE|text|}    enqueue (FIFO)     {~JQ0|} / {~JQ1|reason|}
    {~JC|}               clear queue        {~JC0|} / {~JC1|reason|}
    {~DR|}               status request     {~DS0|ready|faults|queue|count|ink|}
                                            {~PE0|count|text|}  print end (unsolicited)
                                            {~PM0|reason|}      missed trigger (unsolicited)

Frames are sent followed by CR; CR, LF and spaces between frames are ignored. `CODE` is the name of
the variable field in the printer's job.
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

FIELD = "CODE"
MAX_FRAME = 1024
_KIND_HEAD = {
    Kind.SELECT: "JS",
    Kind.UPDATE: "JU",
    Kind.ENQUEUE: "JQ",
    Kind.CLEAR: "JC",
    Kind.STATUS: "DS",
}
_HEAD_KIND = {v: k for k, v in _KIND_HEAD.items()}
_BLANK = frozenset(b"\r\n \t")


def _text(value: str) -> str:
    if any(ord(c) < 0x20 or c in "{}|" for c in value):
        raise ValueError(f"character not allowed on bracetext in {value!r}")
    return value


def frame(head: str, fields: list[str]) -> bytes:
    """Build `{~head|f1|f2|}` + CR."""
    body = "".join(f"|{f}" for f in fields)
    return f"{{~{head}{body}|}}\r".encode()


def _encode(msg: Message) -> bytes:
    match msg:
        case SelectJob(job):
            return frame("JS0", [_text(job), "0"])
        case UpdateField(text):
            return frame("JU0", ["", "0", FIELD, _text(text)])
        case Enqueue(text):
            return frame("JQ0", [FIELD, _text(text)])
        case ClearQueue():
            return frame("JC", [])
        case StatusRequest():
            return frame("DR", [])
        case Ack(kind):
            return frame(_KIND_HEAD[kind] + "0", [])
        case Nak(kind, reason):
            return frame(_KIND_HEAD[kind] + "1", [_text(reason)])
        case StatusReport(ready, faults, queue_len, count, ink):
            ink_s = "" if ink is None else str(ink)
            fields = ["1" if ready else "0", ",".join(faults), str(queue_len), str(count), ink_s]
            return frame("DS0", fields)
        case PrintEnd(count, text):
            return frame("PE0", [str(count), _text(text)])
        case Missed(reason):
            return frame("PM0", [_text(reason)])
    raise ValueError(f"bracetext cannot encode {msg!r}")


def _parse(content: str) -> Message:
    if not content.startswith("~") or not content.endswith("|"):
        raise ValueError("not a ~command| frame")
    head, *fields = content[1:-1].split("|")
    match head, fields:
        case "JS0", [job, _]:
            return SelectJob(job)
        case "JU0", ["", _, _, text]:
            return UpdateField(text)
        case "JQ0", [_, text]:
            return Enqueue(text)
        case "JC", []:
            return ClearQueue()
        case "DR", []:
            return StatusRequest()
        case "DS0", [ready, faults, queue, count, ink]:
            names = tuple(f for f in faults.split(",") if f)
            pct = int(ink) if ink else None
            return StatusReport(ready == "1", names, int(queue), int(count), pct)
        case "PE0", [count, text]:
            return PrintEnd(int(count), text)
        case "PM0", [reason]:
            return Missed(reason)
        case _, [] if head[:2] in _HEAD_KIND and head[2:] == "0":
            return Ack(_HEAD_KIND[head[:2]])
        case _, [reason] if head[:2] in _HEAD_KIND and head[2:] == "1":
            return Nak(_HEAD_KIND[head[:2]], reason)
    raise ValueError(f"unknown command {head!r} with {len(fields)} fields")


class BraceTextDecoder:
    """Incremental bracetext parser; a `{` inside an open frame starts over there."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Message | FrameError]:
        """Consume bytes; return messages and FrameError flags in stream order."""
        buf = self._buf
        buf += data
        out: list[Message | FrameError] = []
        while buf:
            start = buf.find(b"{")
            junk = bytes(buf if start < 0 else buf[:start])
            if junk.strip(b"\r\n \t"):
                out.append(FrameError("garbage between frames", junk))
            if start < 0:
                buf.clear()
                break
            del buf[:start]
            end = buf.find(b"}")
            again = buf.find(b"{", 1, end if end >= 0 else len(buf))
            if again > 0:
                out.append(FrameError("truncated frame", bytes(buf[:again])))
                del buf[:again]
                continue
            if end < 0:
                if len(buf) > MAX_FRAME:
                    out.append(FrameError("frame too long", bytes(buf[:64])))
                    del buf[:1]
                    continue
                break
            raw = bytes(buf[: end + 1])
            del buf[: end + 1]
            try:
                out.append(_parse(raw[1:-1].decode("utf-8")))
            except (ValueError, UnicodeDecodeError) as exc:
                out.append(FrameError(f"bad frame: {exc}", raw))
        return out


class BraceTextCodec:
    """The bracetext wire protocol."""

    name = "bracetext"

    def encode(self, msg: Message) -> bytes:
        """One frame (with trailing CR) for `msg`."""
        return _encode(msg)

    def decoder(self) -> BraceTextDecoder:
        """A fresh incremental decoder."""
        return BraceTextDecoder()

    def damage(self, frame: bytes) -> bytes:
        """No checksum on this wire: spoil the command marker so the frame fails to parse."""
        return frame.replace(b"{~", b"{#", 1)


CODEC = BraceTextCodec()
