"""码上放心-style relation file for the Chinese drug trace platform (we model it, not certify it).

The platform takes one XML relation document per batch, zipped and base64-encoded for upload.
Trace codes are 20 digits starting with 8; every code written is checked and the first bad one
is named in the error. The inner cap code is a consumer code, not a trace code, so the inner
level and the inner ↔ outer pairs stay out.

Layout (attribute names follow the public relation files; treat them as our model):

    <Document version="1.0" batchId=… stationId=…>
      <Relation productCode=… productName=… cascade="3" packageSpec="1:5:50">
        <Batch batchNo=… madeDate=… validateDate=… lineName=… count=…>
          <Code curCode=… packLayer="1" parentCode=…/>                 items, layer 1
          <Code curCode=… packLayer="2" parentCode=… status="正常"/>    containers, upward

packageSpec is cumulative from the top: "1:5:50" is one case holding 5 boxes holding 50 items in
all. Capacities come from the full ("normal") containers of each level unless given. A container
is 正常 (normal), 拼箱 (mixed: several lots or products) or 零箱 (partial: not full).
"""

from __future__ import annotations

import base64
import io
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from typing import IO

from lxml import etree

from sync.model import BatchData, ExportError, final_links, safe_name

STATUS_TEXT = {"normal": "正常", "mixed": "拼箱", "partial": "零箱"}
NON_TRACE_LEVELS = ("inner",)


class MashangfangxinError(ExportError):
    """The batch cannot be expressed as a 码上放心 relation file (names the code or level)."""


def check_code(code: str, level: str) -> str:
    """Return `code` if it is a 20-digit trace code starting with 8, else raise naming it."""
    if len(code) != 20 or not code.isdigit() or not code.isascii() or code[0] != "8":
        raise MashangfangxinError(
            f"code {code!r} (level {level}) is not a 码上放心 trace code: "
            "expected 20 digits starting with 8"
        )
    return code


def trace_levels(data: BatchData) -> tuple[str, ...]:
    """The batch's levels that carry trace codes, smallest first."""
    return tuple(level for level in data.levels if level not in NON_TRACE_LEVELS)


def derive_capacities(data: BatchData) -> dict[str, int]:
    """Children per container for each container level, from its full (normal) containers."""
    full: dict[str, int] = {}
    any_: dict[str, int] = {}
    for box in data.containers():
        any_[box.level] = max(any_.get(box.level, 0), box.count)
        if box.status == "normal":
            full[box.level] = max(full.get(box.level, 0), box.count)
    return {level: full.get(level, count) for level, count in any_.items()}


def packing_ratio(levels: Sequence[str], capacities: Mapping[str, int]) -> str:
    """Cumulative ratio top level first, e.g. levels (outer, box, case), box 10, case 5 → 1:5:50."""
    figures = [1]
    for level in reversed(levels[1:]):
        capacity = capacities.get(level)
        if not capacity or capacity < 1:
            raise MashangfangxinError(f"no capacity known for level {level!r}")
        figures.append(figures[-1] * capacity)
    return ":".join(str(f) for f in figures)


def write_relation_xml(
    data: BatchData, out: IO[bytes], *, capacities: Mapping[str, int] | None = None
) -> None:
    """Write the relation XML document to binary `out`, streaming the item rows."""
    info = data.info
    containers = {}
    for box in data.containers():
        containers[check_code(box.code, box.level)] = box
    trace = trace_levels(data)
    if not trace:
        raise MashangfangxinError(f"batch {info.batch_id}: no trace-code levels in {data.levels}")
    present = {box.level for box in containers.values()}
    levels = [trace[0]] + [level for level in trace[1:] if level in present]
    layer = {level: i + 1 for i, level in enumerate(levels)}
    caps = dict(capacities) if capacities is not None else derive_capacities(data)
    ratio = packing_ratio(levels, caps)
    item_level = levels[0]
    parent_of: dict[str, str] = {}
    # items in the batch file = items packed in the first container level
    count = sum(
        box.count for box in containers.values() if len(levels) > 1 and box.level == levels[1]
    )

    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        doc = {"version": "1.0", "batchId": info.batch_id, "stationId": info.station_id}
        with xf.element("Document", doc):
            relation = {
                "productCode": info.product_gtin or info.product_sku or "",
                "productName": info.product_name,
                "cascade": str(len(levels)),
                "packageSpec": ratio,
            }
            with xf.element("Relation", relation):
                batch = {
                    "batchNo": info.lot,
                    "madeDate": info.produced.isoformat() if info.produced else "",
                    "validateDate": info.expires.isoformat() if info.expires else "",
                    "lineName": info.line,
                    "count": str(count),
                }
                with xf.element("Batch", batch):
                    for link in final_links(data):
                        parent, child, child_level = link.parent, link.child, link.child_level
                        if child_level == item_level:
                            check_code(child, child_level)
                            check_code(parent, link.parent_level)
                            xf.write("\n")
                            xf.write(_code(child, 1, parent))
                        elif child_level in layer:
                            parent_of[child] = parent
                    for code, box in containers.items():
                        if box.level not in layer:
                            raise MashangfangxinError(
                                f"container {code!r} has level {box.level!r}, not one of {levels}"
                            )
                        element = _code(code, layer[box.level], parent_of.get(code, ""))
                        element.set("status", STATUS_TEXT.get(box.status, box.status))
                        xf.write("\n")
                        xf.write(element)
                    xf.write("\n")


def write_upload(
    data: BatchData, out: IO[bytes], *, capacities: Mapping[str, int] | None = None
) -> None:
    """Write the upload payload: the relation XML, zipped, base64-encoded (ASCII) to `out`."""
    # The zip is spooled (memory up to 16 MB, then disk) because base64 needs the finished zip.
    name = safe_name(data.info.batch_id) + ".xml"
    with tempfile.SpooledTemporaryFile(max_size=16 << 20) as spool:
        with (
            zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive,
            archive.open(name, "w") as member,
        ):
            write_relation_xml(data, member, capacities=capacities)
        spool.seek(0)
        while block := spool.read(3 << 16):  # a multiple of 3: no padding mid-stream
            out.write(base64.b64encode(block))


def read_upload(payload: bytes) -> tuple[str, bytes]:
    """Decode an upload payload back to (file name, XML bytes); the inverse of write_upload."""
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(payload, validate=True)))
    names = archive.namelist()
    if len(names) != 1:
        raise MashangfangxinError(f"upload holds {len(names)} files, expected one XML")
    return names[0], archive.read(names[0])


def _code(code: str, layer: int, parent: str) -> etree._Element:
    return etree.Element("Code", curCode=code, packLayer=str(layer), parentCode=parent)
