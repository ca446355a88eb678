"""WeCom and DingTalk group robots as Apprise plugins that read the robot's answer.

Both robots answer HTTP 200 also when they refuse a message and put the verdict in the body:
`{"errcode": 45009, "errmsg": "api freq out of limit"}` (WeCom, over 20 a minute), 93000 (WeCom,
wrong key), 130101 (DingTalk, sent too fast), 310000 (DingTalk, "sign not match"). Apprise's own
plugins (2.3.0) look only at the HTTP status, so a refused alert counted as delivered. These
subclasses keep Apprise's URL parsing and message shaping and post the robot's text message
themselves, reading `errcode`: a refusal is a failed send, which the notifier retries.

DingTalk signing (加签): the signature is base64(HMAC-SHA256(secret, "timestamp\\nsecret")), sent
URL-encoded once. Apprise quotes it and then lets requests quote it again ('%2B' becomes '%252B'),
which DingTalk refuses with 310000; here it is put into the URL encoded once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

import httpx
from apprise.common import NotifyType
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.wecombot import NotifyWeComBot


def _post(plugin: Any, name: str, url: str, payload: dict) -> bool:
    """POST one robot message; True only for HTTP 200 with errcode 0. Sets `last_refusal`."""
    connect_s, read_s = plugin.request_timeout
    plugin.last_refusal = ""
    try:
        answer = httpx.post(
            url,
            json=payload,
            headers={"User-Agent": plugin.app_id},
            timeout=httpx.Timeout(read_s, connect=connect_s),
            verify=plugin.verify_certificate,
            follow_redirects=bool(getattr(plugin, "redirects", True)),  # Apprise ≥ 2 only
        )
    except httpx.HTTPError as exc:
        plugin.last_refusal = f"{name} did not answer: {type(exc).__name__}: {exc}"
        plugin.logger.warning(plugin.last_refusal)
        return False
    try:
        verdict = answer.json()
    except ValueError:
        verdict = {}
    code = verdict.get("errcode", 0) if isinstance(verdict, dict) else 0
    if answer.status_code != 200 or code:
        plugin.last_refusal = (
            f"{name} refused the message: HTTP {answer.status_code}, "
            f"errcode {code} {verdict.get('errmsg', '') if isinstance(verdict, dict) else ''}"
        ).strip()
        plugin.logger.warning(plugin.last_refusal)
        return False
    plugin.logger.info(f"Sent {name} notification.")
    return True


class CheckedWeComBot(NotifyWeComBot):
    """Apprise's WeCom robot (wecombot://KEY) that counts a refusal in `errcode` as a failure."""

    # WeCom: text.content at most 2,048 bytes (errcode 40058 beyond); Apprise 1.9 said 32 kB.
    body_maxlen = 2048

    def send(self, body: str, title: str = "", notify_type=NotifyType.INFO, **kwargs) -> bool:
        """Post a text message to the robot's webhook (`api_url`)."""
        text = f"{title}\r\n{body}" if title else body
        payload = {"msgtype": "text", "text": {"content": text}}
        self.throttle()
        return _post(self, "WeCom robot", self.api_url, payload)


class CheckedDingTalk(NotifyDingTalk):
    """Apprise's DingTalk robot (dingtalk://[SECRET@]TOKEN/) that reads `errcode`, signed once."""

    # DingTalk refuses a request over 20,000 bytes; room left for the rest of the payload.
    body_maxlen = 19000

    def send(self, body: str, title: str = "", notify_type=NotifyType.INFO, **kwargs) -> bool:
        """Post a text message, signed when the robot has a secret, @-ing the URL's phones."""
        text = f"{title}\r\n{body}" if title else body
        payload = {
            "msgtype": "text",
            "text": {"content": text},
            "at": {"atMobiles": list(self.targets), "isAtAll": False},
        }
        url = self.notify_url.format(token=self.token)
        if self.secret:
            timestamp, signature = self.get_signature()
            # httpx's params= would replace the URL's access_token: append, encoded once.
            url += f"&timestamp={timestamp}&sign={quote(unquote(signature), safe='')}"
        self.throttle()
        return _post(self, "DingTalk robot", url, payload)


def checked(plugin: Any) -> Any:
    """The robot plugin replaced by its checked twin (same URL); any other plugin as it is."""
    for base, twin in ((NotifyWeComBot, CheckedWeComBot), (NotifyDingTalk, CheckedDingTalk)):
        if type(plugin) is base:
            return twin(**twin.parse_url(plugin.url(privacy=False)))
    return plugin
