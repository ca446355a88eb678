"""A closed batch as an immutable, signed file set: the export files plus manifest.json.

manifest.json lists every file's name, size and SHA-256 with the batch id, station id and counts,
and carries the station's signature over its canonical body (the manifest without "signature",
JSON with sorted keys, no spaces, UTF-8). Signers: HMAC-SHA256 with a per-station key, or
Ed25519. The manifest is written last and renamed into place, so its presence means the set is
complete; every file is written to a .part name first for the same reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sync.csvrel import write_codes_csv, write_relations_csv
from sync.epcis import write_jsonld, write_xml2, write_xml12
from sync.mashangfangxin import write_upload
from sync.model import BatchData, ExportError, iso_time, safe_name

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
SIGNERS = ("hmac-sha256", "ed25519")

Writer = Callable[..., None]
# format name → (file suffix, text?, writer) for each file the format produces
FORMATS: dict[str, tuple[tuple[str, bool, Writer], ...]] = {
    "epcis-jsonld": ((".epcis.jsonld", True, write_jsonld),),
    "epcis-xml": ((".epcis.xml", False, write_xml2),),
    "epcis12-xml": ((".epcis12.xml", False, write_xml12),),
    "csv": ((".relations.csv", True, write_relations_csv), (".codes.csv", True, write_codes_csv)),
    "mashangfangxin": ((".mashangfangxin.zip.b64", False, write_upload),),
}


class ManifestError(ExportError):
    """A batch file set does not verify; the message names the file or the signature."""


def write_batch_files(
    data: BatchData,
    out_dir: Path | str,
    formats: Sequence[str],
    *,
    key: bytes,
    key_id: str,
    signer: str = "hmac-sha256",
    ed25519_private_key: bytes | None = None,
    overwrite: bool = False,
    pair_event: str = "association",
    capacities: Mapping[str, int] | None = None,
) -> Path:
    """Write the batch in each format to out_dir, then the signed manifest; return its path.

    `key` is the station's HMAC key (used when signer is hmac-sha256); for ed25519 pass the
    private key as 32 raw bytes or PEM. A directory that already holds a manifest is refused
    unless overwrite=True: a batch file set, once signed, is not silently replaced.
    pair_event goes to the EPCIS 2.0 writers; capacities (children per container level) to the
    码上放心 writer, which otherwise derives them from the full containers.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ExportError(f"unknown export format(s) {unknown}; choose from {sorted(FORMATS)}")
    sign = _signer(signer, key, ed25519_private_key)
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / MANIFEST).exists() and not overwrite:
        raise ExportError(f"{directory / MANIFEST} already exists: batch file set is sealed")
    stem = safe_name(data.info.batch_id)
    files = []
    options: dict[str, dict[str, Any]] = {
        "epcis-jsonld": {"pair_event": pair_event},
        "epcis-xml": {"pair_event": pair_event},
        "mashangfangxin": {"capacities": capacities},
    }
    for fmt in dict.fromkeys(formats):
        kwargs = options.get(fmt, {})
        for suffix, text, writer in FORMATS[fmt]:
            size, digest = _write_file(
                directory / (stem + suffix), text, lambda f, w=writer, k=kwargs: w(data, f, **k)
            )
            files.append({"name": stem + suffix, "format": fmt, "size": size, "sha256": digest})
    info = data.info
    body: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "batch_id": info.batch_id,
        "station_id": info.station_id,
        "line": info.line,
        "product_gtin": info.product_gtin,
        "product_sku": info.product_sku,
        "lot": info.lot,
        "closed_at": iso_time(info.closed_at),
        "counts": count_batch(data),
        "files": files,
        "signer": {"algorithm": signer, "key_id": key_id},
    }
    manifest = dict(body, signature=base64.b64encode(sign(canonical(body))).decode("ascii"))
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    path = directory / MANIFEST
    _write_file(path, True, lambda f: f.write(text))
    return path


def verify_manifest(
    directory: Path | str, key: bytes | Ed25519PublicKey, *, signer: str | None = None
) -> None:
    """Check the manifest's signature and every listed file's size and SHA-256; raise if not.

    `key` is the HMAC key, or the Ed25519 public key (object, 32 raw bytes or PEM). The expected
    signer is `signer` if given, else ed25519 for a public key object or PEM, else hmac-sha256;
    a manifest naming another algorithm is refused, so a public key is never used as HMAC key.
    """
    directory = Path(directory)
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        signature = base64.b64decode(manifest.pop("signature"), validate=True)
        algorithm = manifest["signer"]["algorithm"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ManifestError(f"{path}: unreadable manifest: {exc}") from exc
    expected = signer or _guess_signer(key)
    if algorithm != expected:
        raise ManifestError(f"{path}: signed with {algorithm!r}, expected {expected!r}")
    if not _check_signature(expected, key, canonical(manifest), signature):
        key_id = manifest["signer"].get("key_id")
        raise ManifestError(f"{path}: signature does not match (key id {key_id!r})")
    for entry in manifest.get("files", []):
        name = entry["name"]
        if Path(name).name != name or name in ("", ".", ".."):
            raise ManifestError(f"{path}: file name {name!r} is not a plain file name")
        target = directory / name
        if not target.is_file():
            raise ManifestError(f"{target}: listed in the manifest but missing")
        size, digest = _hash_file(target)
        if size != entry["size"] or not hmac.compare_digest(digest, entry["sha256"]):
            raise ManifestError(
                f"{target}: SHA-256/size do not match the manifest (got {size} bytes "
                f"{digest}, manifest says {entry['size']} bytes {entry['sha256']})"
            )


def canonical(body: dict[str, Any]) -> bytes:
    """The bytes that get signed: sorted keys, no whitespace, UTF-8."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def count_batch(data: BatchData) -> dict[str, Any]:
    """Counts for the manifest: codes by state and level, links by action, pairs, containers."""
    states: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    for rec in data.codes():
        states[rec.state] += 1
        if rec.state != "void":
            levels[rec.level] += 1
    links = Counter(link.action for link in data.links())
    containers: Counter[str] = Counter(f"{c.level}:{c.status}" for c in data.containers())
    return {
        "codes_by_state": dict(sorted(states.items())),
        "codes_by_level": dict(sorted(levels.items())),
        "links_by_action": dict(sorted(links.items())),
        "pairs": sum(1 for _ in data.pairs()),
        "containers_by_level_status": dict(sorted(containers.items())),
    }


class _HashingWriter(io.RawIOBase):
    """A raw binary sink that hashes and counts what passes through to the real file."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self.raw, self.sha, self.size = raw, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:  # type: ignore[override]
        self.raw.write(b)
        self.sha.update(b)
        n = memoryview(b).nbytes
        self.size += n
        return n


def _write_file(path: Path, text: bool, fill: Callable[[Any], None]) -> tuple[int, str]:
    part = path.with_name(path.name + ".part")
    try:
        with open(part, "wb") as raw:
            sink = _HashingWriter(raw)
            buffered = io.BufferedWriter(sink, buffer_size=1 << 20)
            if text:
                wrapper = io.TextIOWrapper(buffered, encoding="utf-8", newline="")
                fill(wrapper)
                wrapper.flush()
                wrapper.detach()
            else:
                fill(buffered)
            buffered.flush()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return sink.size, sink.sha.hexdigest()


def _hash_file(path: Path) -> tuple[int, str]:
    sha, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            sha.update(block)
            size += len(block)
    return size, sha.hexdigest()


def _signer(signer: str, key: bytes, private: bytes | None) -> Callable[[bytes], bytes]:
    if signer == "hmac-sha256":
        if not key:
            raise ExportError("hmac-sha256 signing needs the station's key (got an empty key)")
        return lambda body: hmac.new(key, body, hashlib.sha256).digest()
    if signer == "ed25519":
        if not private:
            raise ExportError("ed25519 signing needs ed25519_private_key (32 raw bytes or PEM)")
        return _load_private(private).sign
    raise ExportError(f"unknown signer {signer!r}; choose from {SIGNERS}")


def _load_private(private: bytes) -> Ed25519PrivateKey:
    if private.lstrip().startswith(b"-----"):
        loaded = serialization.load_pem_private_key(private, password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ExportError("ed25519_private_key PEM does not hold an Ed25519 key")
        return loaded
    return Ed25519PrivateKey.from_private_bytes(private)


def _guess_signer(key: bytes | Ed25519PublicKey) -> str:
    if isinstance(key, Ed25519PublicKey) or key.lstrip().startswith(b"-----BEGIN PUBLIC KEY"):
        return "ed25519"
    return "hmac-sha256"


def _check_signature(
    algorithm: str, key: bytes | Ed25519PublicKey, body: bytes, sig: bytes
) -> bool:
    if algorithm == "hmac-sha256":
        if isinstance(key, Ed25519PublicKey):
            return False
        return hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), sig)
    if algorithm == "ed25519":
        if isinstance(key, bytes):
            if key.lstrip().startswith(b"-----"):
                loaded = serialization.load_pem_public_key(key)
                if not isinstance(loaded, Ed25519PublicKey):
                    raise ManifestError("public key PEM does not hold an Ed25519 key")
                key = loaded
            else:
                key = Ed25519PublicKey.from_public_bytes(key)
        try:
            key.verify(sig, body)
        except InvalidSignature:
            return False
        return True
    raise ManifestError(f"unknown signature algorithm {algorithm!r}")
