"""Checked by mypy, never called: each class here meets the Protocol of its role.

A driver that drifts from its Protocol (a renamed method, a changed signature) fails `make lint`
here rather than at run time on the line.
"""

from __future__ import annotations

from drivers.inkjet.base import InkjetPrinter
from drivers.inkjet.codecs.binpacket import BinPacketCodec, BinPacketDecoder
from drivers.inkjet.codecs.bracetext import BraceTextCodec, BraceTextDecoder
from drivers.inkjet.driver import InkjetDriver
from drivers.inkjet.link import Link, SerialLink, TcpLink
from drivers.inkjet.messages import Codec, Decoder


def _conforms(
    driver: InkjetDriver,
    tcp: TcpLink,
    serial: SerialLink,
    binpacket: BinPacketCodec,
    bracetext: BraceTextCodec,
    binpacket_decoder: BinPacketDecoder,
    bracetext_decoder: BraceTextDecoder,
) -> tuple[InkjetPrinter, Link, Link, Codec, Codec, Decoder, Decoder]:
    return driver, tcp, serial, binpacket, bracetext, binpacket_decoder, bracetext_decoder
