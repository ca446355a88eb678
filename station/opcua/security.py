"""Who may do what: anonymous reads all; job methods need a role and an encrypted channel.

asyncua checks every request against the permission ruleset of the secure channel it came on, so
the unencrypted endpoint gets a ruleset that refuses the guarded methods to everybody (a password
sent there would be protected, but the call and its answer would not be), and the
Basic256Sha256 SignAndEncrypt endpoint gets one that lets a user with a job role call them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from asyncua import Server, ua
from asyncua.common.utils import Buffer
from asyncua.crypto.permission_rules import PermissionRuleset, User, UserRole
from asyncua.server.user_managers import UserManager
from asyncua.ua.ua_binary import struct_from_binary

from .model import Authenticate

log = logging.getLogger(__name__)

# Requests any connected client may make: sessions, browse, read, subscriptions, calls (checked
# per method below). Writes and address-space changes (AddNodes, DeleteNodes, …) are left out:
# nothing on this server is written from outside.
_OPEN_REQUESTS = frozenset(
    ua.NodeId(getattr(ua.ObjectIds, f"{name}Request_Encoding_DefaultBinary"))
    for name in (
        "CreateSession",
        "CloseSession",
        "ActivateSession",
        "Read",
        "Browse",
        "BrowseNext",
        "GetEndpoints",
        "FindServers",
        "TranslateBrowsePathsToNodeIds",
        "CreateSubscription",
        "ModifySubscription",
        "DeleteSubscriptions",
        "TransferSubscriptions",
        "CreateMonitoredItems",
        "ModifyMonitoredItems",
        "DeleteMonitoredItems",
        "HistoryRead",
        "Publish",
        "Republish",
        "CloseSecureChannel",
        "Call",
        "SetMonitoringMode",
        "SetPublishingMode",
        "RegisterNodes",
        "UnregisterNodes",
    )
)
_CALL = ua.NodeId(ua.ObjectIds.CallRequest_Encoding_DefaultBinary)


@dataclass
class RoleUser(User):
    """A user the station's authenticate callable accepted, with the station role it named."""

    station_role: str = ""


class PasswordUsers(UserManager):
    """Anonymous sessions when allowed; user/password sessions checked by `authenticate`."""

    def __init__(self, authenticate: Authenticate | None, allow_anonymous: bool) -> None:
        self._authenticate = authenticate
        self._allow_anonymous = allow_anonymous

    def get_user(self, iserver, username=None, password=None, certificate=None) -> User | None:
        """The session's user, or None to refuse the session (BadUserAccessDenied)."""
        # `certificate` is the client's application certificate on an encrypted channel, not a
        # user token: X.509 user tokens are not offered, so no username means anonymous.
        if username is None:
            return User(role=UserRole.Anonymous) if self._allow_anonymous else None
        if self._authenticate is None:
            return None
        try:
            role = self._authenticate(username, password or "")
        except Exception:
            log.exception("OPC UA: authenticate(%r) failed; the session is refused", username)
            return None
        if not role:
            log.warning("OPC UA: user %r refused (wrong user or password)", username)
            return None
        return RoleUser(role=UserRole.User, name=username, station_role=role)


class FaceRules(PermissionRuleset):
    """Open requests for all; a guarded method only for a job role on an encrypted channel."""

    def __init__(self, guarded: set[ua.NodeId], job_roles: frozenset[str], encrypted: bool):
        self._guarded = guarded  # filled in once the address space is built
        self._job_roles = job_roles
        self._encrypted = encrypted

    def may_call(self, user: User | None) -> bool:
        """Whether this user, on this channel, may call the guarded methods."""
        return (
            self._encrypted and isinstance(user, RoleUser) and user.station_role in self._job_roles
        )

    def check_validity(self, user, action_type, body) -> bool:
        """False refuses the whole request with BadUserAccessDenied."""
        if action_type not in _OPEN_REQUESTS:
            return False
        if action_type != _CALL or self.may_call(user):
            return True
        # Parse a copy: the processor reads the same buffer after this check.
        params = struct_from_binary(ua.CallParameters, _copy(body))
        refused = [m.MethodId for m in params.MethodsToCall if m.MethodId in self._guarded]
        if refused:
            who = getattr(user, "name", None) or "anonymous"
            log.warning("OPC UA: %s may not call %s on this channel", who, refused)
        return not refused


def _copy(body) -> Buffer:
    """An independent reader over the request body."""
    return body.copy() if isinstance(body, Buffer) else Buffer(bytes(body))


class GuardedServer(Server):
    """An asyncua Server whose unencrypted endpoint cannot call guarded methods."""

    def __init__(
        self, guarded: set[ua.NodeId], job_roles: frozenset[str], users: UserManager
    ) -> None:
        super().__init__(user_manager=users)
        self._guarded = guarded
        self._job_roles = job_roles

    async def _setup_server_nodes(self) -> None:
        # asyncua gives every endpoint one shared ruleset; give each its own, by channel security,
        # and offer user/password only where the channel is encrypted.
        await super()._setup_server_nodes()
        policies = getattr(self, "_policies", None)
        if policies is None or any(not hasattr(f, "permission_ruleset") for f in policies):
            raise RuntimeError("this asyncua has no per-endpoint policies; use asyncua 2.1")
        for factory in policies:
            encrypted = factory.mode == ua.MessageSecurityMode.SignAndEncrypt
            factory.permission_ruleset = FaceRules(self._guarded, self._job_roles, encrypted)
        for endpoint in self.iserver.endpoints:
            if endpoint.SecurityMode != ua.MessageSecurityMode.SignAndEncrypt:
                endpoint.UserIdentityTokens = [
                    t
                    for t in endpoint.UserIdentityTokens
                    if t.TokenType == ua.UserTokenType.Anonymous
                ]
