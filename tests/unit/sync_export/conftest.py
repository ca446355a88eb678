"""Generated batches for the exporter tests: every event kind, or a large plain one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from sync.epcis import SCHEMA_DIR
from sync.model import (
    BatchData,
    BatchInfo,
    CodeRecord,
    ContainerRecord,
    LinkRecord,
    PairRecord,
)

LEVELS = ("inner", "outer", "box", "case")
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=timezone(timedelta(hours=8)))


def code(level_digit: int, index: int) -> str:
    """A 20-digit trace code starting with 8 (码上放心-shaped)."""
    return f"8{level_digit}{index:018d}"


def make_batch(
    n: int,
    *,
    box: int = 10,
    case: int = 5,
    special: bool = True,
    outer_code: Callable[[int], str] | None = None,
    lot: str = "L2611-A",
    precompute: bool = False,
    paired: bool = True,
) -> BatchData:
    """A batch of n outer items, each paired with an inner code, boxed and cased.

    With special=True it also holds: item 1 unpacked from box 0 and decommissioned, a replacement
    packed in its place, a destroyed code, three void codes, a partial box/case and a mixed case.
    precompute=True builds every code string up front, so that a memory trace started afterwards
    sees the exporter's allocations rather than the test data's. paired=False leaves out the
    inner ↔ outer pairs (the inner codes stay).
    """
    n_boxes = -(-n // box)
    n_cases = -(-n_boxes // case)

    def table(make: Callable[[int], str], size: int) -> Callable[[int], str]:
        if not precompute:
            return make
        return [make(i) for i in range(size)].__getitem__

    inner = table(lambda i: code(1, i), n + 5)
    outer = table(outer_code or (lambda i: code(2, i)), n + 5)
    box_code = table(lambda i: code(3, i), n_boxes)
    case_code = table(lambda i: code(4, i), n_cases)
    replacement, destroyed = n, n + 1
    voids = (n + 2, n + 3, n + 4)

    # 100 items/s, the line's top speed; one datetime per second keeps generation cheap
    seconds = [T0 + timedelta(seconds=k) for k in range((n + 10) // 100 + 1)]

    def t(i: int) -> datetime:
        return seconds[i // 100]

    def codes() -> Iterator[CodeRecord]:
        for i in range(n):
            yield CodeRecord(inner(i), "inner", "linked", t(i))
            if special and i == 1:
                yield CodeRecord(outer(i), "outer", "decommissioned", t(n + 5), "sampled by QA")
            else:
                yield CodeRecord(outer(i), "outer", "linked", t(i))
        if special:
            yield CodeRecord(outer(replacement), "outer", "linked", t(n + 6))
            yield CodeRecord(inner(replacement), "inner", "linked", t(n + 6))
            yield CodeRecord(outer(destroyed), "outer", "destroyed", t(n + 7), "crushed cap")
            for v in voids:
                yield CodeRecord(outer(v), "outer", "void", t(v), "printer silent")
        for b in range(n_boxes):
            yield CodeRecord(box_code(b), "box", "linked", t(min(n, (b + 1) * box)))
        for c in range(n_cases):
            yield CodeRecord(case_code(c), "case", "verified", t(n + 8))

    def links() -> Iterator[LinkRecord]:
        for b in range(n_boxes):
            parent = box_code(b)
            items = range(b * box, min(n, (b + 1) * box))
            for i in items:
                yield LinkRecord(parent, outer(i), "box", "outer", t(i))
            if special and b == 0:
                yield LinkRecord(parent, outer(1), "box", "outer", t(n + 5), "delete")
                yield LinkRecord(parent, outer(replacement), "box", "outer", t(n + 6))
        for c in range(n_cases):
            parent = case_code(c)
            for b in range(c * case, min(n_boxes, (c + 1) * case)):
                yield LinkRecord(parent, box_code(b), "case", "box", t(n + 8))

    def pairs() -> Iterator[PairRecord]:
        if not paired:
            return
        for i in range(n):
            yield PairRecord(inner(i), outer(i), t(i))
        if special:
            # the replacement cap was paired later, in rework
            yield PairRecord(inner(replacement), outer(replacement), t(n + 6))

    def containers() -> Iterator[ContainerRecord]:
        for b in range(n_boxes):
            count = min(n, (b + 1) * box) - b * box
            yield ContainerRecord(
                box_code(b), "box", count, "normal" if count == box else "partial"
            )
        for c in range(n_cases):
            count = min(n_boxes, (c + 1) * case) - c * case
            status = "normal" if count == case else "partial"
            if special and c == 0:
                status = "mixed"
            yield ContainerRecord(case_code(c), "case", count, status)

    info = BatchInfo(
        batch_id="B-2026/11-0042",
        station_id="ST-01",
        line="L1",
        product_gtin="09506000134352",
        product_sku="SKU-42",
        product_name="止咳糖浆 100 ml",
        lot=lot,
        produced=date(2026, 11, 24),
        expires=date(2028, 11, 23),
        closed_at=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        biz_location="urn:epc:id:sgln:9506000.13435.0",
        read_point="urn:epc:id:sgln:9506000.13435.1",
    )
    return BatchData(info, codes, links, pairs, containers, LEVELS)


@pytest.fixture
def batch() -> BatchData:
    """A small batch covering every event kind."""
    return make_batch(23, box=4, case=3)


@pytest.fixture
def batch_factory() -> Callable[..., BatchData]:
    """make_batch itself, for tests that need another shape."""
    return make_batch


@pytest.fixture(scope="session")
def schemas() -> Path:
    """The GS1 EPCIS 2.0 schema folder the project carries (sync/epcis/schemas)."""
    assert SCHEMA_DIR.is_dir(), f"EPCIS schemas not found at {SCHEMA_DIR}"
    return SCHEMA_DIR
