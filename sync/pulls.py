"""Pulls from upstream: work orders and code pools, over HTTP (JSON / text lines) or a drop folder.

Sources are a URL (`http://…`, `https://…`) or a folder:
- work orders: HTTP GET returns a JSON list (or {"work_orders": [...]}); a folder holds
  `*.json` files, each one order or a list. Files are read, never moved: an order already known
  to the station is the station's to skip (by order_id).
- codes: HTTP GET `<url>?level=<level>&count=<n>` returns text, one code per line (or JSON
  {"codes": [...]}); a folder holds `codes-<level>*.txt` files, consumed whole and moved to
  `imported/` once read to the end, so a code file is never imported twice.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sync.errors import PullError
from sync.transports.base import check_response, transport_error

log = logging.getLogger(__name__)

Source = str | Path
MAX_CODE_LEN = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class WorkOrder(BaseModel):
    """One work order from upstream; unknown extra fields pass through untouched."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    order_id: str = Field(min_length=1, max_length=64)
    gtin: str | None = None
    sku: str | None = Field(default=None, min_length=1)
    lot: str = Field(min_length=1, max_length=20)  # GS1 AI (10) holds at most 20 characters
    production_date: date
    expiry_date: date | None = None
    line: str | None = None
    planned_quantity: int = Field(gt=0)

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.isdigit() or len(value) not in (8, 12, 13, 14):
            raise ValueError("must be 8, 12, 13 or 14 digits")
        value = value.zfill(14)
        expected = _gs1_check_digit(value[:-1])
        if int(value[-1]) != expected:
            raise ValueError(f"check digit is {value[-1]}, expected {expected}")
        return value

    @model_validator(mode="after")
    def _product_and_dates(self) -> WorkOrder:
        if not self.gtin and not self.sku:
            raise ValueError("needs 'gtin' or 'sku' to name the product")
        if self.expiry_date and self.expiry_date < self.production_date:
            raise ValueError("'expiry_date' is before 'production_date'")
        return self


def _gs1_check_digit(body: str) -> int:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def _is_url(source: Source) -> bool:
    return isinstance(source, str) and source.startswith(("http://", "https://"))


def pull_work_orders(
    source: Source, *, timeout_s: float = 15.0, auth_token: str | None = None
) -> list[dict[str, Any]]:
    """Fetch and validate work orders; PullError names the order and field at fault."""
    items: list[tuple[str, Any]] = []
    if _is_url(source):
        body = _get_json(str(source), {}, timeout_s, auth_token, "work orders")
        if isinstance(body, dict) and "work_orders" in body:
            body = body["work_orders"]
        if not isinstance(body, list):
            raise PullError(f"work orders from {source}: expected a JSON list of orders")
        items = [(f"{source} item {i + 1}", item) for i, item in enumerate(body)]
    else:
        folder = Path(source)
        if not folder.is_dir():
            raise PullError(f"work order folder {folder} is missing: mount it or fix the path")
        for path in sorted(folder.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except (OSError, ValueError) as exc:
                raise PullError(f"work order file {path}: not readable JSON: {exc}") from exc
            entries = data if isinstance(data, list) else [data]
            items += [(f"{path.name} item {i + 1}", item) for i, item in enumerate(entries)]
    orders: list[dict[str, Any]] = []
    seen: set[str] = set()
    for where, item in items:
        order = _validate_order(where, item)
        if order["order_id"] in seen:
            raise PullError(f"{where}: order_id {order['order_id']!r} appears twice")
        seen.add(order["order_id"])
        orders.append(order)
    return orders


def _validate_order(where: str, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise PullError(f"{where}: a work order must be a JSON object")
    try:
        return WorkOrder.model_validate(item).model_dump()
    except ValidationError as exc:
        label = f"{where} (order_id {item.get('order_id')!r})"
        problems = "; ".join(
            f"field '{'.'.join(str(p) for p in err['loc']) or '(order)'}': {err['msg']}"
            for err in exc.errors()
        )
        raise PullError(f"{label}: {problems}") from exc


def pull_codes(
    source: Source,
    level: str,
    count: int,
    *,
    timeout_s: float = 30.0,
    auth_token: str | None = None,
    request_id: str | None = None,
) -> Iterator[str]:
    """Yield code lines for `level` from upstream: up to count over HTTP, whole files from a folder.

    Over HTTP the request carries an Idempotency-Key (request_id), so asking again after a lost
    answer returns the same allocation instead of burning a second one.
    """
    if count <= 0:
        return
    if _is_url(source):
        yield from _codes_http(str(source), level, count, timeout_s, auth_token, request_id)
    else:
        yield from _codes_folder(Path(source), level, count)


def _codes_http(
    url: str, level: str, count: int, timeout_s: float, token: str | None, request_id: str | None
) -> Iterator[str]:
    what = f"code pool {level} from {url}"
    headers = {"Idempotency-Key": request_id or uuid.uuid4().hex, "Accept": "text/plain"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    params = {"level": level, "count": str(count)}
    try:
        with (
            httpx.Client(timeout=timeout_s) as client,
            client.stream("GET", url, params=params, headers=headers) as response,
        ):
            if not response.is_success:
                response.read()
                try:
                    check_response(response, what)
                except Exception as exc:
                    raise PullError(str(exc)) from exc
            if response.headers.get("Content-Type", "").startswith("application/json"):
                body = json.loads(response.read())
                lines = body.get("codes") if isinstance(body, dict) else body
                if not isinstance(lines, list):
                    raise PullError(f"{what}: JSON answer has no 'codes' list")
                yield from _clean_lines(lines, what)
            else:
                # Streamed line by line: a pool of a million codes never sits in memory twice.
                yield from _clean_lines(response.iter_lines(), what)
    except httpx.HTTPError as exc:
        raise PullError(str(transport_error(exc, what))) from exc
    except ValueError as exc:
        raise PullError(f"{what}: answer is not valid JSON: {exc}") from exc


def _codes_folder(folder: Path, level: str, count: int) -> Iterator[str]:
    if not folder.is_dir():
        raise PullError(f"code folder {folder} is missing: mount it or fix the path")
    done = folder / "imported"
    given = 0
    for path in sorted(folder.glob(f"codes-{level}*.txt")):
        if given >= count:
            return
        with path.open(encoding="utf-8-sig") as f:
            for code in _clean_lines(f, str(path)):
                given += 1
                yield code
        done.mkdir(exist_ok=True)
        path.replace(done / path.name)


def _clean_lines(lines: Iterable[Any], where: str) -> Iterator[str]:
    for number, raw in enumerate(lines, start=1):
        code = str(raw).strip()
        if not code or code.startswith("#"):
            continue
        if len(code) > MAX_CODE_LEN or _CONTROL.search(code):
            raise PullError(f"{where} line {number}: not a code (too long or control characters)")
        yield code


def _get_json(
    url: str, params: dict[str, str], timeout_s: float, token: str | None, what: str
) -> Any:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with httpx.Client(timeout=timeout_s) as client:
            response = client.get(url, params=params, headers=headers)
    except httpx.HTTPError as exc:
        raise PullError(str(transport_error(exc, f"{what} from {url}"))) from exc
    try:
        check_response(response, f"{what} from {url}")
        return response.json()
    except ValueError as exc:
        raise PullError(f"{what} from {url}: answer is not JSON") from exc
    except Exception as exc:
        raise PullError(str(exc)) from exc


class Restocker:
    """Tops a code pool up when it falls below low_water; the station wires the three callables.

    fetch(level, count) yields codes (e.g. functools.partial(pull_codes, url));
    import_codes(level, codes) stores them and returns how many were new;
    available(level) counts codes still available. Call check() off the line loop: it makes
    one upstream call at most, never two at once for one level, and waits retry_after_s after
    a failure before trying again.
    """

    def __init__(
        self,
        low_water: int,
        fetch: Callable[[str, int], Iterable[str]],
        import_codes: Callable[[str, Iterable[str]], int],
        available: Callable[[str], int],
        *,
        high_water: int | None = None,
        retry_after_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if low_water < 0:
            raise ValueError("low_water must be ≥ 0")
        self.low_water = low_water
        self.high_water = high_water if high_water is not None else max(2 * low_water, 1)
        if self.high_water <= low_water:
            raise ValueError("high_water must be above low_water")
        self._fetch, self._import, self._available = fetch, import_codes, available
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._busy: set[str] = set()
        self._failed_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self.last_error: str = ""

    def needed(self, level: str) -> int:
        """How many codes a restock of level would ask for now (0 when above low water)."""
        have = self._available(level)
        return 0 if have >= self.low_water else self.high_water - have

    def check(self, level: str) -> int:
        """Restock level if it is below low water; return how many codes were imported."""
        with self._lock:
            failed = self._failed_at.get(level)
            if level in self._busy or (
                failed is not None and self._clock() - failed < self._retry_after_s
            ):
                return 0
            self._busy.add(level)
        try:
            count = self.needed(level)
            if count <= 0:
                return 0
            imported = self._import(level, self._fetch(level, count))
            self._failed_at.pop(level, None)
            return imported
        except Exception as exc:
            self.last_error = f"restocking {level}: {exc}"
            log.warning("%s", self.last_error)
            self._failed_at[level] = self._clock()
            return 0
        finally:
            with self._lock:
                self._busy.discard(level)
