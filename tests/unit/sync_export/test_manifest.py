"""Signed batch file sets: every format written, hashes and signature verified, tampering caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.manifest import FORMATS, ManifestError, verify_manifest, write_batch_files
from sync.mashangfangxin import read_upload
from sync.model import ExportError

KEY = b"station-01-secret-key-32-bytes!!"


def write_all(batch, directory: Path, **kwargs) -> Path:
    kwargs.setdefault("key", KEY)
    kwargs.setdefault("key_id", "st01-2026")
    return write_batch_files(batch, directory, list(FORMATS), **kwargs)


def test_manifest_lists_every_file_with_counts(batch, tmp_path) -> None:
    path = write_all(batch, tmp_path)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    names = sorted(f["name"] for f in manifest["files"])
    assert names == sorted(
        "B-2026_11-0042" + suffix for specs in FORMATS.values() for suffix, _, _ in specs
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names, "manifest.json"])
    for entry in manifest["files"]:
        assert (tmp_path / entry["name"]).stat().st_size == entry["size"]
    assert manifest["batch_id"] == "B-2026/11-0042" and manifest["station_id"] == "ST-01"
    assert manifest["counts"]["codes_by_state"] == {
        "decommissioned": 1, "destroyed": 1, "linked": 53, "verified": 2, "void": 3,
    }  # fmt: skip
    assert manifest["counts"]["links_by_action"] == {"add": 30, "delete": 1}
    assert manifest["counts"]["pairs"] == 24
    assert manifest["counts"]["containers_by_level_status"]["case:mixed"] == 1
    assert manifest["signer"] == {"algorithm": "hmac-sha256", "key_id": "st01-2026"}
    verify_manifest(tmp_path, KEY)


def test_hmac_tampering_is_named(batch, tmp_path) -> None:
    write_all(batch, tmp_path)
    csv_file = tmp_path / "B-2026_11-0042.codes.csv"
    original = csv_file.read_bytes()
    csv_file.write_bytes(original.replace(b",void,", b",verified,", 1))
    with pytest.raises(ManifestError, match=r"B-2026_11-0042\.codes\.csv: SHA-256"):
        verify_manifest(tmp_path, KEY)
    csv_file.write_bytes(original)
    verify_manifest(tmp_path, KEY)
    with pytest.raises(ManifestError, match="signature does not match"):
        verify_manifest(tmp_path, b"another station's key")
    manifest = tmp_path / "manifest.json"
    doc = json.loads(manifest.read_text(encoding="utf-8"))
    doc["counts"]["pairs"] = 23
    manifest.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ManifestError, match=r"manifest\.json: signature does not match"):
        verify_manifest(tmp_path, KEY)


def test_ed25519_signature_and_tampering(batch, tmp_path) -> None:
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = private.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    write_all(batch, tmp_path, key=b"", signer="ed25519", ed25519_private_key=raw)
    verify_manifest(tmp_path, public)
    verify_manifest(tmp_path, pem)
    # the manifest's algorithm never decides alone: a public key is not an HMAC key
    with pytest.raises(ManifestError, match="signed with 'ed25519', expected 'hmac-sha256'"):
        verify_manifest(tmp_path, KEY)
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(ManifestError, match="signature does not match"):
        verify_manifest(tmp_path, other)
    jsonld = tmp_path / "B-2026_11-0042.epcis.jsonld"
    jsonld.write_bytes(jsonld.read_bytes().replace(b"L2611-A", b"L2611-B"))
    with pytest.raises(ManifestError, match=r"B-2026_11-0042\.epcis\.jsonld"):
        verify_manifest(tmp_path, public)
    jsonld.unlink()
    with pytest.raises(ManifestError, match=r"epcis\.jsonld: listed in the manifest but missing"):
        verify_manifest(tmp_path, public)


def test_refusals(batch, tmp_path) -> None:
    with pytest.raises(ExportError, match="unknown export format"):
        write_batch_files(batch, tmp_path, ["pdf"], key=KEY, key_id="k")
    with pytest.raises(ExportError, match="ed25519_private_key"):
        write_batch_files(batch, tmp_path, ["csv"], key=KEY, key_id="k", signer="ed25519")
    write_batch_files(batch, tmp_path, ["csv"], key=KEY, key_id="k")
    with pytest.raises(ExportError, match="sealed"):
        write_batch_files(batch, tmp_path, ["csv"], key=KEY, key_id="k")
    assert not list(tmp_path.glob("*.part"))


def test_options_reach_the_writers(batch, tmp_path) -> None:
    write_batch_files(
        batch, tmp_path, ["epcis-jsonld", "mashangfangxin"], key=KEY, key_id="k",
        pair_event="aggregation", capacities={"box": 5, "case": 2},
    )  # fmt: skip
    jsonld = (tmp_path / "B-2026_11-0042.epcis.jsonld").read_text(encoding="utf-8")
    assert "AssociationEvent" not in jsonld and jsonld.count('"AggregationEvent"') == 10 + 24
    payload = (tmp_path / "B-2026_11-0042.mashangfangxin.zip.b64").read_bytes()
    assert b'packageSpec="1:2:10"' in read_upload(payload)[1]
    verify_manifest(tmp_path, KEY)
