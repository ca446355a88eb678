"""One unit's signed file set: EPCIS 2.0 JSON-LD, CSV and 码上放心-style files, then the manifest.

The same shape as a batch file set (`sync.manifest`): each file written to `.part`, fsynced and
renamed, then `manifest.json` signed over its canonical body. The manifest's `batch_id` is the
unit's key (the receiver's idempotency key); `unit` says which batch, kind, place in the chain
and the unit before it, so upstream can tell a gap. CSV and 码上放心 files carry the release
flag: `released` 0 until the batch's release unit.

- `<unit>.relations.csv`: action,parent,child,parent_level,child_level,batch,time — pairs
  (parent = outer) and container links, removals first.
- `<unit>.codes.csv`: code,level,state,time,reason,released — every code the unit tells something
  about (commissioned, retired, released, void).
- `<unit>.mashangfangxin.zip.b64`: our model of the platform's relation XML, each `Code` with
  `action` add/delete, containers with their status, `Batch released="0|1"`; inner caps stay out.
"""

from __future__ import annotations

import base64
import csv
import json
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from lxml import etree

from sync.manifest import MANIFEST, MANIFEST_VERSION, _signer, _write_file, canonical
from sync.mashangfangxin import STATUS_TEXT, check_code, packing_ratio
from sync.model import ExportError, iso_time, safe_name
from sync.units import UnitData, write_unit_jsonld

UNIT_FORMATS = ("epcis-jsonld", "csv", "mashangfangxin")
RELATION_HEADER = ("action", "parent", "child", "parent_level", "child_level", "batch", "time")
CODE_HEADER = ("code", "level", "state", "time", "reason", "released")


def write_unit_relations(unit: UnitData, out: IO[str]) -> None:
    """The unit's relation changes, removals first."""
    batch = unit.info.batch.batch_id
    w = csv.writer(out, lineterminator="\n")
    w.writerow(RELATION_HEADER)
    for action, pairs in (("delete", unit.unpairs), ("add", unit.pairs)):
        for p in pairs:
            w.writerow((action, p.outer, p.inner, "outer", "inner", batch, iso_time(p.time)))
    for links in (unit.unlinks, unit.links):
        for r in links:
            w.writerow(
                (
                    r.action,
                    r.parent,
                    r.child,
                    r.parent_level,
                    r.child_level,
                    batch,
                    iso_time(r.time),
                )
            )


def write_unit_codes(unit: UnitData, out: IO[str]) -> None:
    """Every code the unit tells something about, with the release flag."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CODE_HEADER)
    released = "1" if unit.info.released else "0"
    for records, flag in (
        (unit.commission, released),
        (unit.voids, "0"),
        (unit.retire, "0"),
        (unit.activate, "1"),
    ):
        for r in records:
            w.writerow((r.code, r.level, r.state, iso_time(r.time), r.reason or "", flag))


def write_unit_relation_xml(
    unit: UnitData, out: IO[bytes], *, capacities: Mapping[str, int] | None = None
) -> None:
    """The unit's relations in our model of the 码上放心 relation XML (see the module doc)."""
    info = unit.info.batch
    trace = [lv for lv in unit.levels if lv != "inner"]
    layer = {lv: i + 1 for i, lv in enumerate(trace)}
    try:
        ratio = packing_ratio(trace, capacities or {})
    except ExportError:
        ratio = ""
    root = etree.Element(
        "Document",
        version="1.0",
        batchId=unit.info.unit_id,
        stationId=info.station_id,
        unitKind=unit.info.kind,
    )
    rel = etree.SubElement(
        root,
        "Relation",
        productCode=info.product_gtin or info.product_sku or "",
        productName=info.product_name,
        cascade=str(len(trace)),
        packageSpec=ratio,
    )
    batch = etree.SubElement(
        rel,
        "Batch",
        batchNo=info.lot,
        lineName=info.line,
        madeDate=info.produced.isoformat() if info.produced else "",
        validateDate=info.expires.isoformat() if info.expires else "",
        released="1" if unit.info.released or unit.activate else "0",
    )
    for links in (unit.unlinks, unit.links):
        for r in links:
            if r.child_level not in layer:
                continue
            etree.SubElement(
                batch,
                "Code",
                curCode=check_code(r.child, r.child_level),
                packLayer=str(layer[r.child_level]),
                parentCode=check_code(r.parent, r.parent_level),
                action=r.action,
            )
    for box in unit.containers:
        if box.level in layer:
            etree.SubElement(
                batch,
                "Code",
                curCode=check_code(box.code, box.level),
                packLayer=str(layer[box.level]),
                status=STATUS_TEXT.get(box.status, box.status),
            )
    for r in unit.retire:
        if r.level in layer:
            etree.SubElement(
                batch,
                "Code",
                curCode=check_code(r.code, r.level),
                packLayer=str(layer[r.level]),
                action="retire",
            )
    out.write(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))


def write_unit_upload(
    unit: UnitData, out: IO[bytes], *, capacities: Mapping[str, int] | None = None
) -> None:
    """The relation XML, zipped, base64-encoded (as the batch file's upload payload)."""
    name = safe_name(unit.info.unit_id) + ".xml"
    with tempfile.SpooledTemporaryFile(max_size=16 << 20) as spool:
        with (
            zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive,
            archive.open(name, "w") as member,
        ):
            write_unit_relation_xml(unit, member, capacities=capacities)
        spool.seek(0)
        while block := spool.read(3 << 16):
            out.write(base64.b64encode(block))


def write_unit_files(
    unit: UnitData,
    out_dir: Path | str,
    formats: tuple[str, ...] | list[str],
    *,
    key: bytes,
    key_id: str,
    pair_event: str = "association",
    capacities: Mapping[str, int] | None = None,
) -> Path:
    """Write the unit's files in `formats` (JSON-LD always) and its signed manifest; its path.

    Formats a unit has no file for (the EPCIS XML ones) are left to the whole-batch export.
    """
    sign = _signer("hmac-sha256", key, None)
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / MANIFEST).exists():
        raise ExportError(f"{directory / MANIFEST} already exists: the unit is sealed")
    info = unit.info
    stem = safe_name(info.unit_id)
    writers: list[tuple[str, str, bool, Any]] = [
        (
            ".epcis.jsonld",
            "epcis-jsonld",
            True,
            lambda f: write_unit_jsonld(unit, f, pair_event=pair_event),
        ),
    ]
    if "csv" in formats:
        writers.append((".relations.csv", "csv", True, lambda f: write_unit_relations(unit, f)))
        writers.append((".codes.csv", "csv", True, lambda f: write_unit_codes(unit, f)))
    if "mashangfangxin" in formats:
        writers.append(
            (
                ".mashangfangxin.zip.b64",
                "mashangfangxin",
                False,
                lambda f: write_unit_upload(unit, f, capacities=capacities),
            )
        )
    files = []
    for suffix, fmt, text, fill in writers:
        size, digest = _write_file(directory / (stem + suffix), text, fill)
        files.append({"name": stem + suffix, "format": fmt, "size": size, "sha256": digest})
    b = info.batch
    body: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "kind": "unit",
        "batch_id": info.unit_id,
        "unit": {
            "batch": b.batch_id,
            "kind": info.kind,
            "seq": info.seq,
            "previous": info.previous,
            "pallet": info.subject,
            "released": info.released or bool(unit.activate),
            "reason": info.reason,
        },
        "station_id": b.station_id,
        "line": b.line,
        "product_gtin": b.product_gtin,
        "product_sku": b.product_sku,
        "lot": b.lot,
        "sealed_at": iso_time(info.sealed_at),
        "counts": unit.counts(),
        "files": files,
        "signer": {"algorithm": "hmac-sha256", "key_id": key_id},
    }
    if unit.summary is not None:
        body["batch_counts"] = unit.summary
    manifest = dict(body, signature=base64.b64encode(sign(canonical(body))).decode("ascii"))
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    path = directory / MANIFEST
    _write_file(path, True, lambda f: f.write(text))
    return path
