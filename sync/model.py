"""Plain data the exporters read: one closed batch, its codes, links, pairs and containers.

The station fills these from its database; the exporters never see a session. Each iterable
factory on `BatchData` is called once per pass, so an exporter may walk the codes twice without
holding them in memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote

CODE_STATES = ("verified", "linked", "decommissioned", "destroyed", "void")
RETIRED_STATES = ("decommissioned", "destroyed")


class ExportError(Exception):
    """An exporter refused its input; the message names the batch and the offending value."""


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """What the batch file says about the work order."""

    batch_id: str
    station_id: str
    line: str
    product_gtin: str | None
    product_sku: str | None
    product_name: str
    lot: str
    produced: date | None
    expires: date | None
    closed_at: datetime
    biz_location: str | None = None
    read_point: str | None = None
    code_prefix: str = "https://id.linestation.example/code/"


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """One code and its final state: verified, linked, decommissioned, destroyed or void."""

    code: str
    level: str
    state: str
    time: datetime
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """Parent ← child between adjacent levels; action "add" packs, "delete" unpacks."""

    parent: str
    child: str
    parent_level: str
    child_level: str
    time: datetime
    action: str = "add"


@dataclass(frozen=True, slots=True)
class PairRecord:
    """The 1:1 pair inner (cap inside) ↔ outer (sellable item)."""

    inner: str
    outer: str
    time: datetime


@dataclass(frozen=True, slots=True)
class ContainerRecord:
    """A closed container: its code, level, number of direct children and status."""

    code: str
    level: str
    count: int
    status: str  # normal | mixed | partial


@dataclass(frozen=True, slots=True)
class BatchData:
    """One batch: info plus iterable factories (each call starts a fresh pass)."""

    info: BatchInfo
    codes: Callable[[], Iterable[CodeRecord]]
    links: Callable[[], Iterable[LinkRecord]]
    pairs: Callable[[], Iterable[PairRecord]]
    containers: Callable[[], Iterable[ContainerRecord]]
    levels: tuple[str, ...]


# A code already usable as an EPC: a GS1 Digital Link (or any http(s) URL) or an EPC URN, made
# only of characters that need no escaping in JSON and no percent-encoding in a URI.
_URI_CODE = re.compile(
    r"(?:https?://[A-Za-z0-9.\-]+(?::[0-9]+)?/|urn:epc:)"
    r"(?:[!#$&'()*+,\-./0-9:;=?@A-Z_a-z~]|%[0-9A-Fa-f]{2})*"
)
_PLAIN = re.compile(r"[A-Za-z0-9\-._~]+")


def epc_converter(prefix: str) -> Callable[[str], str]:
    """Return a function turning a code into an EPC URI (URLs kept, others prefixed and quoted)."""
    if not _URI_CODE.fullmatch(prefix):
        raise ExportError(
            f"code_prefix {prefix!r} is not an http(s) URL of plain URI characters ending in '/'"
        )
    match_uri = _URI_CODE.fullmatch
    match_plain = _PLAIN.fullmatch

    def to_epc(code: str) -> str:
        if code.isalnum() and code.isascii():  # the common case, ~10x cheaper than a regex
            return prefix + code
        if match_plain(code):
            return prefix + code
        if match_uri(code):
            return code
        return prefix + quote(code, safe="")

    return to_epc


def iso_time(moment: datetime) -> str:
    """ISO 8601 with an offset; a naive datetime is taken as UTC (the station stores UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


_OFFSETS: dict[object, str] = {}


def tz_offset(moment: datetime) -> str:
    """The ±HH:MM offset EPCIS wants in eventTimeZoneOffset."""
    offset = moment.utcoffset()
    text = _OFFSETS.get(offset)
    if text is None:
        minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
        sign = "-" if minutes < 0 else "+"
        minutes = abs(minutes)
        text = _OFFSETS[offset] = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return text


def safe_name(batch_id: str) -> str:
    """A file-name-safe form of the batch id."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", batch_id) or "batch"


def final_links(data: BatchData) -> Iterator[LinkRecord]:
    """The links as they stand when the batch closed: rework resolved within each parent's group.

    A child unpacked (action "delete") is dropped from its parent; the last "add" wins. Links must
    come grouped by parent, as BatchData promises; a parent seen again after its group is refused.
    """
    batch = data.info.batch_id
    done: set[str] = set()
    parent: str | None = None
    children: dict[str, LinkRecord] = {}
    for link in data.links():
        if link.parent != parent:
            if parent is not None:
                yield from children.values()
                done.add(parent)
            parent, children = link.parent, {}
            if parent in done:
                raise ExportError(
                    f"batch {batch}: links of parent {parent!r} are not grouped together"
                )
        if link.action == "add":
            children[link.child] = link
        elif link.action == "delete":
            children.pop(link.child, None)
        else:
            raise ExportError(
                f"batch {batch}: link {link.parent!r} ← {link.child!r} has action "
                f"{link.action!r}, expected 'add' or 'delete'"
            )
    yield from children.values()
