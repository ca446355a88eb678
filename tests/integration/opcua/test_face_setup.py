"""Starting the face: endpoint checks, a taken port, the certificate made once, channel rules."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from asyncua import Client, ua
from asyncua.crypto.permission_rules import UserRole
from asyncua.crypto.security_policies import SecurityPolicyNone
from cryptography import x509

from station.opcua import LineFace, OpcUaError, check_endpoint, ensure_certificate
from station.opcua.security import FaceRules, RoleUser


@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1:4840/x", "opc.tcp://127.0.0.1/linestation", "opc.tcp://:4840", "4840"],
)
def test_bad_endpoint_is_named_with_the_fix(endpoint):
    with pytest.raises(OpcUaError) as err:
        check_endpoint(endpoint)
    assert "[opcua] endpoint" in str(err.value) and "opc.tcp://" in err.value.hint


def test_taken_port_is_reported_with_the_endpoint(face, tmp_path):
    other = LineFace(line_name="Line2")
    with pytest.raises(OpcUaError) as err:
        other.start(face.endpoint, tmp_path, timeout_s=120)
    assert face.endpoint in str(err.value)
    assert "free port" in err.value.hint
    other.stop()  # nothing to stop: start cleaned up


def test_certificate_is_made_once_and_names_the_application(tmp_path):
    first = ensure_certificate(
        tmp_path / "certs", "urn:plant:line7", hosts=("10.0.0.7", "0.0.0.0", "line7")
    )
    der = first.cert.read_bytes()
    cert = x509.load_der_x509_certificate(der)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["urn:plant:line7"]
    assert "line7" in san.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["10.0.0.7"]
    assert first.key.stat().st_mode & 0o077 == 0  # the private key is the owner's only
    again = ensure_certificate(tmp_path / "certs", "urn:plant:line7")
    assert again == first and again.cert.read_bytes() == der


def test_unwritable_certificate_folder_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OpcUaError) as err:
        ensure_certificate(blocker / "certs", "urn:x")
    assert str(blocker / "certs") in str(err.value) and "certificate_dir" in err.value.hint


def test_job_role_may_call_only_over_an_encrypted_channel():
    it = RoleUser(role=UserRole.User, name="m", station_role="it")
    roles = frozenset({"it"})
    assert FaceRules(set(), roles, encrypted=True).may_call(it)
    assert not FaceRules(set(), roles, encrypted=False).may_call(it)
    operator = RoleUser(name="o", station_role="operator")
    assert not FaceRules(set(), roles, encrypted=True).may_call(operator)


class _PlainPasswordClient(Client):
    """A client that sends its password over the unencrypted endpoint although not offered."""

    def server_policy(self, token_type):
        if token_type == ua.UserTokenType.UserName:
            policy = ua.UserTokenPolicy()
            policy.PolicyId = "username"
            policy.TokenType = ua.UserTokenType.UserName
            policy.SecurityPolicyUri = SecurityPolicyNone.URI
            return policy
        return super().server_policy(token_type)


def test_password_forced_over_the_unencrypted_endpoint_still_cannot_call(face, jobs):
    before = len(jobs.calls)

    async def go():
        client = _PlainPasswordClient(face.endpoint, timeout=120)
        client.set_user("mes")
        client.set_password("mes-secret")
        async with client:
            i = await client.get_namespace_index("urn:linestation:opcua")
            p = await client.get_namespace_index("http://opcfoundation.org/UA/PackML/")
            control = await client.nodes.objects.get_child(
                [f"{p}:PackMLObjects", f"{i}:Line1", f"{i}:JobOrderControl"]
            )
            stop = await control.get_child(f"{i}:Stop")
            with pytest.raises(ua.UaStatusCodeError) as err:
                await control.call_method(
                    stop, "JOB-1", ua.Variant([], ua.VariantType.LocalizedText)
                )
            assert err.value.code == ua.StatusCodes.BadUserAccessDenied

    asyncio.run(go())
    assert len(jobs.calls) == before


def test_the_package_imports_nothing_else_from_station():
    code = (
        "import sys, station.opcua; "
        "print(sorted(m for m in sys.modules if m.startswith('station.') "
        "and not m.startswith('station.opcua')))"
    )
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
