"""Opt-in check against a real printer: LINESTATION_HARDWARE=inkjet:<protocol>:<url>."""

from __future__ import annotations

import os

import pytest

from drivers.inkjet.base import open_inkjet

_SPEC = next(
    (s for s in os.environ.get("LINESTATION_HARDWARE", "").split() if s.startswith("inkjet:")), ""
)


@pytest.mark.hardware
@pytest.mark.skipif(
    not _SPEC,
    reason="needs a real CIJ/TIJ inkjet printer: LINESTATION_HARDWARE=inkjet:<protocol>:<url>",
)
def test_real_printer_answers_status() -> None:
    _, protocol, url = _SPEC.split(":", 2)
    with open_inkjet(protocol, url, name="hardware-inkjet", timeout_s=2.0) as p:
        st = p.status()
        assert st.print_count >= 0
        assert p.in_flight() == []
