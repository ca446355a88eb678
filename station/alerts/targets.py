"""Where alerts go: Apprise URLs (wecombot://, dingtalk://, json://, mailto://, …) as senders."""

from __future__ import annotations

import re
from typing import Any

import apprise
from apprise.plugins import NotifyBase

from station.alerts.robots import checked

# The schemes this station documents and tests; any other Apprise scheme also works.
KNOWN_SCHEMES = {
    "wecombot": "WeCom (企业微信) group robot: wecombot://BOTKEY (or its webhook address as is)",
    "dingtalk": "DingTalk (钉钉) group robot: dingtalk://TOKEN/ or dingtalk://SECRET@TOKEN/",
    "json": "a generic JSON webhook: json://host:port/path (jsons:// for HTTPS)",
    "mailto": "e-mail: mailto://user:password@smtp.example.com?to=ops@example.com",
}


class TargetError(ValueError):
    """An alert target URL that Apprise cannot use; the text names it (secrets cut) and the fix."""


def masked(url: str) -> str:
    """The URL's scheme and host only, for errors and logs (keys, tokens and passwords cut)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url[:4] + ("…" if len(url) > 4 else "")
    host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    # Many Apprise schemes carry a key where a host would be (wecombot://BOTKEY): show a host
    # only when it looks like one.
    if host != "localhost" and not re.search(r"[.:]", host):
        host = host[:2] + "…" if host else ""
    return f"{scheme}://{host}"


def _without_secrets(text: str, url: str) -> str:
    """`text` (an Apprise error) with every longer piece of `url` after the scheme cut out."""
    for piece in sorted(re.split(r"[/:@?&=#]+", url.partition("://")[2]), key=len, reverse=True):
        if len(piece) >= 4:
            text = text.replace(piece, "…")
    return text


def open_target(url: str, where: str = "alerts.targets") -> NotifyBase:
    """One Apprise sender for `url`; raises TargetError naming `where`, the scheme and the fix.

    Apprise's own pause between two sends of one target (5.5 s for most robots) is turned off: the
    notifier's rate window is the one limit, so a burst of the robot's 20 a minute goes out at once.
    """
    try:
        plugin: Any = apprise.Apprise.instantiate(url, suppress_exceptions=False)
    except Exception as exc:  # Apprise raises its own types and ValueError/TypeError
        raise TargetError(
            f"{where}: {masked(url)} is not usable: {_without_secrets(str(exc), url).rstrip('.')}. "
            "Check the key or token in the robot's webhook address"
        ) from exc
    if plugin is None:
        schemes = "; ".join(KNOWN_SCHEMES.values())
        raise TargetError(
            f"{where}: {masked(url)} is not an Apprise URL this station knows. "
            f"Use one of: {schemes}"
        )
    plugin = checked(plugin)  # WeCom and DingTalk: read the robot's errcode (robots.py)
    plugin.request_rate_per_sec = 0
    return plugin


def describe(plugin: NotifyBase) -> str:
    """The target as logs and status show it: Apprise's own URL with secrets hidden."""
    return plugin.url(privacy=True).split("?", 1)[0]


def body_budget(plugin: NotifyBase, cap: int = 4000) -> int:
    """Bytes one message to this target may have (WeCom robots: 2048; mail: we keep it short)."""
    return max(1024, min(int(plugin.body_maxlen or cap), cap))
