"""Checked by mypy, never called: each class here meets the Protocol of its role.

A driver that drifts from its Protocol (a renamed method, a changed signature) fails `make lint`
here rather than at run time on the line.
"""

from __future__ import annotations

from drivers.reader.base import CodeReader
from drivers.reader.link import Link, SerialLink, TcpLink
from drivers.reader.simport import PtySimPort, SimPort, TcpSimPort
from drivers.reader.stream import StreamReader


def _conforms(
    reader: StreamReader, tcp: TcpLink, serial: SerialLink, sim_tcp: TcpSimPort, sim_pty: PtySimPort
) -> tuple[CodeReader, Link, Link, SimPort, SimPort]:
    return reader, tcp, serial, sim_tcp, sim_pty
