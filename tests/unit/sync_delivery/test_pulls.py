"""Work orders and code pools from upstream (HTTP on 127.0.0.1 and a drop folder); Restocker."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from sync.errors import PullError
from sync.pulls import Restocker, pull_codes, pull_work_orders

ORDER = {
    "order_id": "WO-1",
    "gtin": "06901234567892",
    "lot": "L2611",
    "production_date": "2026-11-24",
    "expiry_date": "2028-11-23",
    "line": "line-7",
    "planned_quantity": 12000,
    "customer_note": "kept as is",
}


class Upstream(ThreadingHTTPServer):
    """A fake upstream ERP: /orders (JSON) and /codes (text lines), recording requests."""

    def __init__(self, orders: object) -> None:
        self.orders = orders
        self.requests: list[tuple[str, dict[str, list[str]], str]] = []
        super().__init__(("127.0.0.1", 0), _UpstreamHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _UpstreamHandler(BaseHTTPRequestHandler):
    server: Upstream

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        self.server.requests.append((url.path, query, self.headers.get("Idempotency-Key", "")))
        if url.path == "/orders":
            data, kind, status = json.dumps(self.server.orders).encode(), "application/json", 200
        elif url.path == "/codes":
            n = int(query["count"][0])
            level = query["level"][0]
            text = "# pool\n" + "".join(f"{level}-{i:05d}\n" for i in range(n))
            data, kind, status = text.encode(), "text/plain", 200
        else:
            data, kind, status = b'{"detail": "no such pool"}', "application/json", 404
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream([ORDER])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_work_orders_over_http_are_validated_and_normalised(upstream: Upstream) -> None:
    [order] = pull_work_orders(upstream.url + "/orders")
    assert order["production_date"] == date(2026, 11, 24)
    assert order["planned_quantity"] == 12000
    assert order["customer_note"] == "kept as is"
    upstream.orders = {"work_orders": [{**ORDER, "gtin": "6901234567892"}]}
    assert pull_work_orders(upstream.url + "/orders")[0]["gtin"] == "06901234567892"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"gtin": "06901234567893"}, "field 'gtin'.*check digit"),
        ({"planned_quantity": 0}, "field 'planned_quantity'"),
        ({"lot": ""}, "field 'lot'"),
        ({"production_date": "24.11.2026"}, "field 'production_date'"),
        ({"expiry_date": "2025-01-01"}, "'expiry_date' is before"),
        ({"gtin": None}, "needs 'gtin' or 'sku'"),
        ({"order_id": None}, "field 'order_id'"),
    ],
)
def test_bad_work_orders_name_the_order_and_field(
    upstream: Upstream, change: dict, expected: str
) -> None:
    upstream.orders = [{**ORDER, **change}]
    with pytest.raises(PullError, match=expected) as info:
        pull_work_orders(upstream.url + "/orders")
    assert "item 1" in str(info.value)


def test_work_orders_from_a_drop_folder(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(ORDER))
    (tmp_path / "b.json").write_text(
        json.dumps([{**ORDER, "order_id": "WO-2", "gtin": None, "sku": "CAP-500"}])
    )
    orders = pull_work_orders(tmp_path)
    assert [o["order_id"] for o in orders] == ["WO-1", "WO-2"]
    (tmp_path / "c.json").write_text(json.dumps(ORDER))
    with pytest.raises(PullError, match="WO-1' appears twice"):
        pull_work_orders(tmp_path)
    with pytest.raises(PullError, match="missing"):
        pull_work_orders(tmp_path / "absent")


def test_work_order_http_errors_are_clear(upstream: Upstream) -> None:
    with pytest.raises(PullError, match="HTTP 404: no such pool"):
        pull_work_orders(upstream.url + "/nothing")
    upstream.orders = {"orders": 1}
    with pytest.raises(PullError, match="expected a JSON list"):
        pull_work_orders(upstream.url + "/orders")


def test_codes_over_http_carry_an_idempotency_key(upstream: Upstream) -> None:
    codes = list(pull_codes(upstream.url + "/codes", "inner", 5, request_id="req-1"))
    assert codes == [f"inner-{i:05d}" for i in range(5)]
    assert upstream.requests[-1] == ("/codes", {"level": ["inner"], "count": ["5"]}, "req-1")
    with pytest.raises(PullError, match="HTTP 404: no such pool"):
        list(pull_codes(upstream.url + "/pool-gone", "inner", 5))


def test_codes_from_a_folder_are_consumed_once(tmp_path: Path) -> None:
    (tmp_path / "codes-outer-1.txt").write_text("A1\nA2\n\n# comment\n")
    (tmp_path / "codes-outer-2.txt").write_text("B1\n")
    (tmp_path / "codes-box-1.txt").write_text("X1\n")
    assert list(pull_codes(tmp_path, "outer", 2)) == ["A1", "A2"]
    assert (tmp_path / "imported" / "codes-outer-1.txt").exists()
    assert list(pull_codes(tmp_path, "outer", 10)) == ["B1"]
    assert list(pull_codes(tmp_path, "outer", 10)) == []
    (tmp_path / "codes-box-2.txt").write_text("ok\nbad\x07code\n")
    with pytest.raises(PullError, match=r"codes-box-2\.txt line 2"):
        list(pull_codes(tmp_path, "box", 10))


class Pool:
    def __init__(self, have: int) -> None:
        self.have = have
        self.fetched: list[int] = []
        self.fail = False

    def fetch(self, level: str, count: int) -> Iterable[str]:
        self.fetched.append(count)
        if self.fail:
            raise PullError("upstream down")
        return [f"{level}-{i}" for i in range(count)]

    def import_codes(self, level: str, codes: Iterable[str]) -> int:
        n = len(list(codes))
        self.have += n
        return n

    def available(self, level: str) -> int:
        return self.have


def test_restocker_tops_up_below_low_water_only() -> None:
    pool = Pool(have=150)
    r = Restocker(100, pool.fetch, pool.import_codes, pool.available, high_water=500)
    assert r.check("outer") == 0 and pool.fetched == []
    pool.have = 99
    assert r.check("outer") == 401
    assert pool.have == 500 and pool.fetched == [401]


def test_restocker_waits_after_a_failure() -> None:
    now = [0.0]
    pool = Pool(have=0)
    pool.fail = True
    r = Restocker(
        10, pool.fetch, pool.import_codes, pool.available, retry_after_s=60, clock=lambda: now[0]
    )
    assert r.check("box") == 0 and "upstream down" in r.last_error
    assert r.check("box") == 0 and pool.fetched == [20]  # no second call within 60 s
    now[0] = 61
    pool.fail = False
    assert r.check("box") == 20
    with pytest.raises(ValueError):
        Restocker(10, pool.fetch, pool.import_codes, pool.available, high_water=10)
