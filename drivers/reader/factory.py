"""`open_reader`, the one way to get a fixed code reader; apart from base.py (the Protocol)."""

from __future__ import annotations

from drivers.reader.base import CodeReader
from drivers.reader.stream import StreamReader


def open_reader(
    url: str,
    *,
    name: str = "reader",
    prefix: str = "",
    suffix: str = "\r\n",
    separator: str = ";",
    noread: str = "NOREAD",
    dialect: str = "generic",
    timeout_s: float = 1.0,
    trigger_command: bytes | None = None,
    encoding: str = "utf-8",
    baudrate: int = 9600,
    max_len: int | None = None,
) -> CodeReader:
    """Build a reader for a URL (tcp://host:port or any pyserial URL); call connect() to open it.

    ``dialect`` picks the trigger bytes (generic, keyence, cognex); ``trigger_command`` sets
    them for readers whose trigger string is user-defined (Hikrobot, most others).
    """
    return StreamReader(
        url,
        name=name,
        prefix=prefix,
        suffix=suffix,
        separator=separator,
        noread=noread,
        dialect=dialect,
        timeout_s=timeout_s,
        trigger_command=trigger_command,
        encoding=encoding,
        baudrate=baudrate,
        max_len=max_len,
    )
