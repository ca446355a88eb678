"""A closed shipment order as a signed file set: an EPCIS 2.0 shipping event and an 出库单 CSV.

Plain data in (`ShipmentInfo`, `ShipmentEntry`), files out; no database. The set has the same
shape as a batch file set (files, then `manifest.json` signed over its canonical body), and its
`batch_id` is the shipment's unit id, so the outbox, every transport and the reference receiver
carry it like a batch, once.

- `<unit>.epcis.jsonld`: one ObjectEvent OBSERVE, bizStep `shipping`, disposition `in_transit`,
  epcList = the order's top-level codes (a pallet stands for what it holds: the batch files
  already said what is inside), the order as a bizTransaction of type `po`, sourceList and
  destinationList with `owning_party` and `location` (GS1 Digital Link GLN URIs: AI 417 for a
  party, 414 for a location; a party without a GLN gets the station's resolver URI).
- `<unit>.outbound.csv`: the out-bound bill (出库单) modelled on 码上放心-style bill uploads, one
  row per top-level code: 单据编号, 单据时间, 单据类型, 发货单位, 发货单位编码, 收货单位,
  收货单位编码, 追溯码, 包装层级, 生产批号, 商品编码, 含码数. Our model, not a certified format.
"""

from __future__ import annotations

import base64
import csv
import json
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from sync.epcis.jsonld import CONTEXT_URL
from sync.manifest import MANIFEST, MANIFEST_VERSION, _signer, _write_file, canonical
from sync.model import ExportError, epc_converter, iso_time, safe_name, tz_offset

BILL_TYPE = "销售出库"  # sales out-bound
BILL_HEADER = ("单据编号", "单据时间", "单据类型", "发货单位", "发货单位编码", "收货单位",
               "收货单位编码", "追溯码", "包装层级", "生产批号", "商品编码", "含码数")  # fmt: skip
SHIPPING = ("shipping", "in_transit")


@dataclass(frozen=True, slots=True)
class ShipmentInfo:
    """The order's header: who ships to whom, when it was sealed, how codes become EPCs."""

    unit_id: str
    order: str
    station_id: str
    shipper: str
    shipper_gln: str | None
    owner_gln: str | None
    distributor: str
    distributor_gln: str | None
    closed_at: datetime
    closed_by: str
    code_prefix: str
    resolver: str


@dataclass(frozen=True, slots=True)
class ShipmentEntry:
    """One top-level code of the order and what it carries."""

    code: str
    level: str
    batch_id: str | None
    lot: str | None
    gtin: str | None
    codes: int


def party_uri(info: ShipmentInfo, gln: str | None, name: str) -> str:
    """A party's id: GS1 Digital Link of its GLN (AI 417), else a resolver URI of its name."""
    if gln:
        return f"https://id.gs1.org/417/{gln}"
    return f"{info.resolver.rstrip('/')}/party/{quote(name, safe='')}"


def location_uri(info: ShipmentInfo, gln: str | None, name: str) -> str:
    """A location's id: GS1 Digital Link of its GLN (AI 414), else a resolver URI of its name."""
    if gln:
        return f"https://id.gs1.org/414/{gln}"
    return f"{info.resolver.rstrip('/')}/location/{quote(name, safe='')}"


def biz_transaction(info: ShipmentInfo) -> str:
    """The order as a business transaction URI (CBV `urn:epcglobal:cbv:bt:<GLN>:<id>` form)."""
    gln = info.owner_gln or info.shipper_gln
    if gln:
        return f"urn:epcglobal:cbv:bt:{gln}:{quote(info.order, safe='')}"
    return f"{info.resolver.rstrip('/')}/po/{quote(info.order, safe='')}"


def shipping_event(info: ShipmentInfo, entries: Sequence[ShipmentEntry]) -> dict[str, Any]:
    """The EPCIS 2.0 ObjectEvent of the shipment."""
    if not entries:
        raise ExportError(f"shipment {info.order}: no codes on the order")
    to_epc = epc_converter(info.code_prefix)
    event_id = "urn:uuid:" + str(
        uuid.uuid5(uuid.NAMESPACE_URL, "https://linestation.example/shipment/" + info.unit_id)
    )
    return {
        "type": "ObjectEvent",
        "eventTime": iso_time(info.closed_at),
        "eventTimeZoneOffset": tz_offset(_aware(info.closed_at)),
        "eventID": event_id,
        "epcList": [to_epc(e.code) for e in entries],
        "action": "OBSERVE",
        "bizStep": SHIPPING[0],
        "disposition": SHIPPING[1],
        "readPoint": {"id": location_uri(info, info.shipper_gln, info.station_id)},
        "bizTransactionList": [{"type": "po", "bizTransaction": biz_transaction(info)}],
        "sourceList": [
            {"type": "owning_party",
             "source": party_uri(info, info.owner_gln or info.shipper_gln, info.shipper)},
            {"type": "location", "source": location_uri(info, info.shipper_gln, info.station_id)},
        ],
        "destinationList": [
            {"type": "owning_party",
             "destination": party_uri(info, info.distributor_gln, info.distributor)},
            {"type": "location",
             "destination": location_uri(info, info.distributor_gln, info.distributor)},
        ],
    }  # fmt: skip


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def write_shipping_jsonld(
    info: ShipmentInfo, entries: Sequence[ShipmentEntry], out: IO[str]
) -> None:
    """The EPCISDocument holding the shipping event."""
    doc = {
        "@context": CONTEXT_URL,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": iso_time(info.closed_at),
        "epcisBody": {"eventList": [shipping_event(info, entries)]},
    }
    out.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")


def write_outbound_csv(info: ShipmentInfo, entries: Sequence[ShipmentEntry], out: IO[str]) -> None:
    """The out-bound bill (出库单), one row per top-level code."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BILL_HEADER)
    when = iso_time(info.closed_at)
    for e in entries:
        writer.writerow((info.order, when, BILL_TYPE, info.shipper, info.owner_gln or
                         info.shipper_gln or info.station_id, info.distributor,
                         info.distributor_gln or "", e.code, e.level, e.lot or "", e.gtin or "",
                         e.codes))  # fmt: skip


def write_shipment_files(
    info: ShipmentInfo,
    entries: Sequence[ShipmentEntry],
    out_dir: Path | str,
    *,
    key: bytes,
    key_id: str,
) -> Path:
    """Write the event and the bill, then the signed manifest (HMAC-SHA256); its path."""
    sign = _signer("hmac-sha256", key, None)
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / MANIFEST).exists():
        raise ExportError(f"{directory / MANIFEST} already exists: the shipment set is sealed")
    stem = safe_name(info.unit_id)
    files = []
    for suffix, fmt, writer in (
        (".epcis.jsonld", "epcis-jsonld", write_shipping_jsonld),
        (".outbound.csv", "outbound-csv", write_outbound_csv),
    ):
        size, digest = _write_file(
            directory / (stem + suffix), True, lambda f, w=writer: w(info, entries, f)
        )
        files.append({"name": stem + suffix, "format": fmt, "size": size, "sha256": digest})
    levels = Counter(e.level for e in entries)
    body: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "kind": "shipment",
        "batch_id": info.unit_id,
        "order": info.order,
        "station_id": info.station_id,
        "distributor": info.distributor,
        "distributor_gln": info.distributor_gln,
        "closed_at": iso_time(info.closed_at),
        "batches": sorted({e.batch_id for e in entries if e.batch_id}),
        "counts": {
            "entries_by_level": dict(sorted(levels.items())),
            "codes": sum(e.codes for e in entries),
        },
        "files": files,
        "signer": {"algorithm": "hmac-sha256", "key_id": key_id},
    }
    manifest = dict(body, signature=base64.b64encode(sign(canonical(body))).decode("ascii"))
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    path = directory / MANIFEST
    _write_file(path, True, lambda f: f.write(text))
    return path
