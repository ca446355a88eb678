"""What the reference receiver checks: the manifest signature and the EPCIS document.

The EPCIS JSON Schema is GS1's official one (draft-07), carried unchanged in the package
(`sync/epcis/schemas/`, see its README) unless a path is given. JSON-LD contexts are
resolved locally: the GS1 context URLs map to the copy beside the schema; any other remote context
is refused rather than fetched, and every compact IRI (`prefix:term`) used as a key must have its
prefix defined by the EPCIS context or an inline context object.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.epcis import SCHEMA_DIR

SCHEMA_ENV = "LINESTATION_EPCIS_SCHEMA"
EPCIS_CONTEXT_URLS = frozenset(
    {
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
        "https://gs1.github.io/EPCIS/epcis-context.jsonld",
    }
)
_ABSOLUTE_SCHEMES = ("http:", "https:", "urn:", "tag:", "mailto:")


class ValidationFailed(ValueError):
    """The document or manifest is not acceptable; the message says where and why."""


def default_schema_path() -> Path:
    """$LINESTATION_EPCIS_SCHEMA, else the GS1 schema carried in sync/epcis/schemas/."""
    env = os.environ.get(SCHEMA_ENV)
    if env:
        return Path(env)
    return SCHEMA_DIR / "EPCIS-JSON-Schema.json"


class EpcisValidator:
    """Validates EPCIS 2.0 JSON documents against the official schema, contexts resolved locally."""

    def __init__(self, schema_path: Path | None = None) -> None:
        path = Path(schema_path) if schema_path else default_schema_path()
        if not path.is_file():
            raise FileNotFoundError(
                f"EPCIS JSON Schema not found at {path}: pass schema_path or set ${SCHEMA_ENV}"
            )
        schema = json.loads(path.read_text(encoding="utf-8"))
        self._validator = jsonschema.Draft7Validator(
            schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
        )
        self.context_prefixes = _context_terms(path.with_name("epcis-context.jsonld"))

    def check(self, doc: Any) -> None:
        """Raise ValidationFailed with the first schema or context errors found."""
        errors = sorted(self._validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            shown = "; ".join(_describe(e) for e in errors[:5])
            more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
            raise ValidationFailed(f"EPCIS schema: {shown}{more}")
        prefixes = self._resolve_context(doc.get("@context"))
        for i, event in enumerate(doc.get("epcisBody", {}).get("eventList", [])):
            _check_keys(event, prefixes, f"$.epcisBody.eventList[{i}]")

    def _resolve_context(self, context: Any) -> set[str]:
        items = context if isinstance(context, list) else [context]
        prefixes: set[str] = set()
        has_epcis = False
        for item in items:
            if isinstance(item, str):
                if item not in EPCIS_CONTEXT_URLS:
                    raise ValidationFailed(
                        f"JSON-LD context {item!r} is not known here; this receiver resolves only "
                        "the GS1 EPCIS context, locally (put your terms in an inline context)"
                    )
                has_epcis = True
                prefixes |= self.context_prefixes
            elif isinstance(item, dict):
                prefixes |= {k for k, v in item.items() if isinstance(v, str)}
        if not has_epcis:
            raise ValidationFailed("@context does not include the GS1 EPCIS 2.0 context")
        return prefixes


@lru_cache(maxsize=4)
def _context_terms(path: Path) -> frozenset[str]:
    try:
        ctx = json.loads(path.read_text(encoding="utf-8"))["@context"]
    except (OSError, ValueError, KeyError):
        return frozenset({"epcis", "cbv", "cbvmda", "gs1", "rdfs", "owl", "xsd", "dcterms"})
    return frozenset(k for k in ctx if not k.startswith("@"))


def _check_keys(node: Any, prefixes: set[str], where: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if ":" in key and not key.startswith(_ABSOLUTE_SCHEMES) and not key.startswith("@"):
                prefix = key.split(":", 1)[0]
                if prefix not in prefixes:
                    raise ValidationFailed(
                        f"{where}: key {key!r} uses prefix {prefix!r} that no @context defines"
                    )
            _check_keys(value, prefixes, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _check_keys(value, prefixes, f"{where}[{i}]")


def _describe(error: jsonschema.ValidationError) -> str:
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    # Errors under if/then/allOf are vague at the top; the deepest context names the field.
    best = jsonschema.exceptions.best_match([error]) if not error.context else error
    while best.context:
        best = jsonschema.exceptions.best_match(best.context)
    if best is not error:
        sub = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in best.absolute_path)
        return f"at {sub}: {best.message}"
    return f"at {path}: {error.message}"


def canonical_body(manifest: dict[str, Any]) -> bytes:
    """The signed bytes: the manifest without `signature` as JSON, keys sorted, no spaces, UTF-8.

    Same rule as sync/manifest.py `canonical`.
    """
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_manifest(manifest: dict[str, Any], key: bytes, key_id: str) -> dict[str, Any]:
    """Return a copy of manifest with an hmac-sha256 signature (tooling and tests)."""
    value = hmac.new(key, canonical_body(manifest), hashlib.sha256).hexdigest()
    return {**manifest, "signature": {"alg": "hmac-sha256", "key_id": key_id, "value": value}}


def verify_manifest(raw: bytes, key: bytes | None) -> dict[str, Any]:
    """Parse manifest bytes and check the signature (skipped when key is None).

    Two layouts are accepted: sync/manifest.py's (`signature` base64, `signer.algorithm` and
    `signer.key_id` inside the signed body) and the compact one (`signature` = {"alg", "key_id",
    "value" hex}). The algorithm is fixed by the key, never by the manifest: a PEM public key
    means ed25519, anything else is an HMAC-SHA256 secret (so a public key is never used as an
    HMAC secret an attacker could know).
    """
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise ValidationFailed(f"manifest is not JSON: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise ValidationFailed("manifest has no 'files' list")
    if not isinstance(manifest.get("batch_id"), str) or not manifest["batch_id"]:
        raise ValidationFailed("manifest has no batch_id")
    # Both become paths in the store: refuse anything that could climb out of it.
    plain_name(manifest["batch_id"], "batch_id")
    for entry in manifest["files"]:
        plain_name(entry.get("name") if isinstance(entry, dict) else None, "file name")
    if key is None:
        return manifest
    alg, key_id, signature = _signature(manifest)
    expected = "ed25519" if key.lstrip().startswith(b"-----BEGIN PUBLIC KEY") else "hmac-sha256"
    if alg != expected:
        raise ValidationFailed(f"manifest signed with {alg!r}, this receiver expects {expected!r}")
    body = canonical_body(manifest)
    if expected == "hmac-sha256":
        good = hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), signature)
    else:
        public = serialization.load_pem_public_key(key)
        if not isinstance(public, Ed25519PublicKey):
            raise ValidationFailed("the receiver's public key is not an Ed25519 key")
        try:
            public.verify(signature, body)
            good = True
        except InvalidSignature:
            good = False
    if not good:
        raise ValidationFailed(
            f"manifest signature does not verify (key_id {key_id!r}): wrong key or "
            "the manifest was altered"
        )
    return manifest


def plain_name(value: Any, what: str) -> str:
    """A single path component that is not hidden: no separators, no '..', no leading dot."""
    if (
        not isinstance(value, str)
        or not value
        or value.startswith(".")
        or any(c in value for c in "/\\\0")
    ):
        raise ValidationFailed(f"manifest {what} {value!r} is not a plain file name")
    return value


def _signature(manifest: dict[str, Any]) -> tuple[str, str, bytes]:
    sig = manifest.get("signature")
    try:
        if isinstance(sig, dict):
            return str(sig.get("alg")), str(sig.get("key_id")), bytes.fromhex(str(sig["value"]))
        if isinstance(sig, str):
            signer = manifest.get("signer") or {}
            value = base64.b64decode(sig, validate=True)
            return str(signer.get("algorithm")), str(signer.get("key_id")), value
    except (KeyError, ValueError, binascii.Error) as exc:
        raise ValidationFailed(f"manifest signature is malformed: {exc}") from exc
    raise ValidationFailed("manifest has no signature")


def check_file(manifest: dict[str, Any], name: str, data: bytes) -> None:
    """The file's size and SHA-256 must match its manifest entry."""
    for entry in manifest["files"]:
        if isinstance(entry, dict) and entry.get("name") == name:
            if entry.get("size") is not None and int(entry["size"]) != len(data):
                raise ValidationFailed(
                    f"{name}: {len(data)} bytes received, manifest says {entry['size']}"
                )
            digest = hashlib.sha256(data).hexdigest()
            if str(entry.get("sha256", "")).lower() != digest:
                raise ValidationFailed(f"{name}: SHA-256 {digest} does not match the manifest")
            return
    raise ValidationFailed(f"{name} is not listed in the manifest")
