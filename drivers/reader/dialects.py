"""What differs between reader brands on the wire: the software trigger bytes and command echoes.

Named dialects follow the vendor's own document:
- ``keyence``: SR series command communication (SR-750/SR-1000/SR-2000 manuals): timing ON
  ``LON`` and OFF ``LOFF``, terminated by CR. With "response string" enabled the reader answers
  ``OK,LON`` or ``ER,LON,nn`` before the read data; by default it sends only the read data.
  The SR default read-error string is ``ERROR`` (set ``noread="ERROR"`` or change it on the
  reader).
- ``cognex``: DataMan Control Commands (DMCC), default header ``||>``, footer CR LF:
  ``||>TRIGGER ON`` / ``||>TRIGGER OFF``. In the default silent response mode the reader
  answers a trigger with the formatted result data (or its no-read string) only.
- ``generic``: hardware trigger, or any trigger string the reader was set to accept
  (Hikrobot ID and most Chinese readers take a user-defined TCP/serial trigger string).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    """Trigger bytes and the command echoes to drop or turn into faults."""

    name: str
    trigger_on: bytes = b""
    trigger_off: bytes = b""
    echo: re.Pattern[str] | None = None
    fault: re.Pattern[str] | None = None

    def is_echo(self, text: str) -> bool:
        """True for a command acknowledgement that is not a read result."""
        return self.echo is not None and self.echo.fullmatch(text) is not None

    def fault_of(self, text: str) -> str | None:
        """The device's error text when the message is a command error reply, else None."""
        if self.fault is None:
            return None
        m = self.fault.fullmatch(text)
        return None if m is None else text


GENERIC = Dialect("generic")
KEYENCE = Dialect(
    "keyence",
    trigger_on=b"LON\r",
    trigger_off=b"LOFF\r",
    echo=re.compile(r"OK, ?(?:LON|LOFF)"),
    # ER,LON,nn: e.g. a second LON while a read is still running; nn is Keyence's error code.
    fault=re.compile(r"ER, ?(?:LON|LOFF), ?\d+"),
)
COGNEX = Dialect("cognex", trigger_on=b"||>TRIGGER ON\r\n", trigger_off=b"||>TRIGGER OFF\r\n")

DIALECTS: dict[str, Dialect] = {d.name: d for d in (GENERIC, KEYENCE, COGNEX)}


def get_dialect(name: str, trigger_command: bytes | None = None) -> Dialect:
    """Look a dialect up by name; ``trigger_command`` overrides its trigger-on bytes."""
    try:
        dialect = DIALECTS[name]
    except KeyError:
        raise ValueError(f"unknown reader dialect {name!r}; known: {sorted(DIALECTS)}") from None
    if trigger_command is not None:
        dialect = Dialect(
            dialect.name, trigger_command, dialect.trigger_off, dialect.echo, dialect.fault
        )
    return dialect
