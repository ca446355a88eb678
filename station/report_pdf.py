"""PDF output of the batch report: no PDF library is installed, so say so and suggest HTML."""

from __future__ import annotations

from station.errors import InputError


def render(data: dict) -> bytes:
    """The report as PDF bytes; InputError naming the way out while no PDF renderer exists."""
    raise InputError(
        "PDF output needs a PDF library, and none is installed on this station; use "
        "`--format html --out report.html` and print that page to PDF from a browser"
    )
