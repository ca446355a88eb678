"""The byte-exact splitter, and the folder drop (atomic, idempotent, clear errors)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import pytest
from sync_delivery_helpers import write_batch

from sync.errors import PermanentError, TransientError
from sync.transports import FolderTransport
from sync.transports.split import (
    SplitError,
    gap_after,
    part_bytes,
    part_stream,
    plan_parts,
    reassemble,
    scan_events,
)

TRICKY = (
    b'{"@context": ["x", {"a": "b"}], "type": "EPCISDocument",\n'
    b' "epcisHeader": {"eventList": [{"not": "these"}]},\n'
    b' "epcisBody": {\n  "eventList": [\n'
    b'   {"type": "ObjectEvent", "note": "braces } ] { [ and \\"quotes\\"", "n": [1, {"x": 2}]},\n'
    b'   {"type": "ObjectEvent", "k\\"ey": "v"}  ,  {"type": "AggregationEvent", "childEPCs": []}\n'
    b'  ],\n  "extension": {"z": 1}\n }\n}\n'
)


def test_scanner_finds_exactly_the_events_of_the_body() -> None:
    spans = scan_events(TRICKY)
    events = [json.loads(TRICKY[a:b]) for a, b in spans.spans]
    assert [e["type"] for e in events] == ["ObjectEvent", "ObjectEvent", "AggregationEvent"]
    assert events[0]["note"] == 'braces } ] { [ and "quotes"'
    assert TRICKY[: spans.head_end].rstrip().endswith(b"[")
    assert TRICKY[spans.tail_start :].lstrip().startswith(b"]")


@pytest.mark.parametrize(
    ("max_events", "max_bytes"), [(1, None), (2, None), (None, 330), (5, 10**6)]
)
def test_parts_are_valid_documents_under_limits_and_rebuild_the_original(
    max_events: int | None, max_bytes: int | None
) -> None:
    spans = scan_events(TRICKY)
    ranges = plan_parts(spans, max_events, max_bytes)
    parts = [part_bytes(TRICKY, spans, i, j) for i, j in ranges]
    for (i, j), part in zip(ranges, parts, strict=True):
        length, chunks = part_stream(TRICKY, spans, i, j, chunk=7)
        assert length == len(part) and b"".join(chunks) == part
    gaps = [gap_after(TRICKY, spans, j) for _, j in ranges[:-1]]
    seen = []
    for part in parts:
        doc = json.loads(part)
        events = doc["epcisBody"]["eventList"]
        assert doc["epcisBody"]["extension"] == {"z": 1}
        assert max_events is None or len(events) <= max_events
        assert max_bytes is None or len(part) <= max_bytes
        seen += events
    assert len(seen) == 3
    assert reassemble(parts, gaps) == TRICKY


def test_splitter_refuses_what_cannot_be_cut() -> None:
    spans = scan_events(TRICKY)
    with pytest.raises(SplitError, match="over the server's limit"):
        plan_parts(spans, None, 100)
    with pytest.raises(SplitError, match="truncated"):
        scan_events(TRICKY[:-5])
    with pytest.raises(SplitError, match=r"no epcisBody\.eventList"):
        scan_events(b'{"epcisHeader": {"eventList": []}}')
    empty = b'{"epcisBody": {"eventList": [ ]}}'
    assert plan_parts(scan_events(empty), 1, None) == [(0, 0)]


def test_folder_drop_writes_every_file_manifest_last_and_is_idempotent(tmp_path: Path) -> None:
    batch = write_batch(tmp_path / "out", "B1")
    drop = tmp_path / "share"
    drop.mkdir()
    order: list[str] = []
    real_replace = os.replace

    def spy(src: object, dst: object) -> None:
        order.append(Path(str(dst)).name)
        real_replace(src, dst)  # type: ignore[arg-type]

    transport = FolderTransport(drop)
    os.replace = spy  # type: ignore[assignment]
    try:
        result = transport.deliver(batch, "B1")
    finally:
        os.replace = real_replace
    assert order == ["batch.jsonld", "relations.csv", "manifest.json"]
    assert result.ack_id == str(drop / "B1")
    for name in ("batch.jsonld", "relations.csv", "manifest.json"):
        assert (drop / "B1" / name).read_bytes() == (batch / name).read_bytes()
    assert sorted(p.name for p in (drop / "B1").iterdir()) == [
        "batch.jsonld",
        "manifest.json",
        "relations.csv",
    ]
    assert transport.deliver(batch, "B1").message == "already in the folder"
    other = write_batch(tmp_path / "other", "B1", events=7)
    with pytest.raises(PermanentError, match="different batch file set"):
        transport.deliver(other, "B1")


def test_folder_missing_names_the_folder_and_what_to_do(tmp_path: Path) -> None:
    batch = write_batch(tmp_path / "out", "B1")
    with pytest.raises(TransientError) as info:
        FolderTransport(tmp_path / "usb-stick").deliver(batch, "B1")
    assert str(tmp_path / "usb-stick") in str(info.value)
    assert "plug" in str(info.value)


def test_folder_full_before_writing(tmp_path: Path) -> None:
    batch = write_batch(tmp_path / "out", "B1")
    (tmp_path / "share").mkdir()
    with pytest.raises(TransientError, match="is full") as info:
        FolderTransport(tmp_path / "share", min_free_bytes=2**62).deliver(batch, "B1")
    assert str(tmp_path / "share") in str(info.value)
    assert not (tmp_path / "share" / "B1").exists()


def test_folder_full_while_writing_leaves_no_half_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = write_batch(tmp_path / "out", "B1")
    (tmp_path / "share").mkdir()
    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync_fails_second_time(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_fails_second_time)
    with pytest.raises(TransientError, match="is full while writing"):
        FolderTransport(tmp_path / "share").deliver(batch, "B1")
    left = sorted(p.name for p in (tmp_path / "share" / "B1").iterdir())
    assert left == ["batch.jsonld"]  # no temp file, no manifest: readers do not take it
    monkeypatch.setattr(os, "fsync", real_fsync)
    FolderTransport(tmp_path / "share").deliver(batch, "B1")  # space freed: resumes
    assert (tmp_path / "share" / "B1" / "manifest.json").exists()


def test_folder_full_on_a_real_small_filesystem(tmp_path: Path) -> None:
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        batch = write_batch(tmp_path / "out", "B1")
        # Passes the free-space check by bytes, but tmpfs counts 4 KiB pages: ENOSPC mid-write.
        (batch / "relations.csv").write_bytes(b"x" * 62_000)
        with pytest.raises(TransientError, match="is full while writing"):
            FolderTransport(mount).deliver(batch, "B1")
        assert not any(p.name.endswith(".tmp") for p in mount.rglob("*"))
    finally:
        subprocess.run(["umount", str(mount)], check=False)
