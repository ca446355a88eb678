"""GS1 element strings from a decoded symbol, split with biip."""

from __future__ import annotations

import biip

GS1_SYMBOLOGY_IDS = frozenset({"]d2", "]Q3", "]C1", "]e0", "]J1"})


def split_gs1(symbology_id: str, raw: bytes) -> dict[str, str] | None:
    """AI → value for a GS1 symbol's raw bytes (FNC1 as GS, 0x1D); None if it does not parse."""
    if symbology_id not in GS1_SYMBOLOGY_IDS:
        return None
    try:
        message = biip.parse(symbology_id + raw.decode("latin-1")).gs1_message
    except (biip.ParseError, ValueError):
        return None
    if message is None:
        return None
    return {element.ai.ai: element.value for element in message.element_strings}
