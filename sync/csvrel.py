"""CSV batch files: the relations as they stand when the batch closed, and every code's fate.

relations: parent,child,parent_level,child_level,batch,time — inner ↔ outer pairs first (parent is
the outer code), then container links. Rework is resolved: a child unpacked from a box is not
listed under it; the EPCIS document keeps the history. Links must come grouped by parent, as
`BatchData` promises; a parent that comes back after its group ended is refused.

codes: code,level,state,time,reason — every code including void ones (state "void"), so upstream
knows which printed codes must never be accepted. Open the files with newline="".
"""

from __future__ import annotations

import csv
from typing import IO

from sync.model import BatchData, final_links, iso_time

RELATION_HEADER = ("parent", "child", "parent_level", "child_level", "batch", "time")
CODE_HEADER = ("code", "level", "state", "time", "reason")


def write_relations_csv(data: BatchData, out: IO[str]) -> None:
    """Write the final parent/child relations of the batch, one row each."""
    batch = data.info.batch_id
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RELATION_HEADER)
    row = writer.writerow
    for pair in data.pairs():
        row((pair.outer, pair.inner, "outer", "inner", batch, iso_time(pair.time)))
    for link in final_links(data):
        row((link.parent, link.child, link.parent_level, link.child_level, batch,
             iso_time(link.time)))  # fmt: skip


def write_codes_csv(data: BatchData, out: IO[str]) -> None:
    """Write every code of the batch with its state (void ones included, rejected ones not)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CODE_HEADER)
    row = writer.writerow
    for rec in data.codes():
        if rec.state == "rejected":  # waits for QA; not part of the batch file yet
            continue
        row((rec.code, rec.level, rec.state, iso_time(rec.time), rec.reason or ""))
