"""What a refused scan or a shipping step says, in English and Chinese, by key."""

from __future__ import annotations

from station.errors import StationError

TEXTS: dict[str, tuple[str, str]] = {
    "unknown": (
        "code {code} is not known to this station: not ours, or mistyped; scan it again",
        "码 {code} 不是本站的码（非本厂或扫错），请重扫",
    ),
    "inner": (
        "{code} is an inner cap code (盖内码); it ships with its item: scan the outer code",
        "{code} 是盖内码，随商品出库：请扫盖外码",
    ),
    "not_in_batch": (
        "{level} {code} was never produced in a batch ({state}); it cannot ship",
        "{level} {code} 未在任何批次中生产（{state}），不能出库",
    ),
    "not_released": (
        "{level} {code}: batch {batch} is not released by QA "
        "(`station ship release-batch {batch}`)",
        "{level} {code}：批次 {batch} 未经 QA 放行",
    ),
    "qa_hold": (
        "{level} {code} is in QA hold ({why}); QA must decide it first",
        "{level} {code} 处于 QA 待处理（{why}），须先由 QA 处理",
    ),
    "child_qa_hold": (
        "{level} {code} holds {child_level} {child} in QA hold ({why}); QA must decide it first",
        "{level} {code} 内的 {child_level} {child} 处于 QA 待处理（{why}）",
    ),
    "decommissioned": (
        "{level} {code} is decommissioned ({why}); it must never ship",
        "{level} {code} 已注销（{why}），不能出库",
    ),
    "void": (
        "{level} {code} is void (its fate at printing is unknown); it must never ship",
        "{level} {code} 已作废，不能出库",
    ),
    "not_verified": (
        "{level} {code} is {state}, not verified by the line; it cannot ship",
        "{level} {code} 状态为 {state}，未经产线校验，不能出库",
    ),
    "already_shipped": (
        "{level} {code} is already shipped on order {order} ({order_state}){via}",
        "{level} {code} 已在出库单 {order}（{order_state}）中{via_zh}",
    ),
    "child_shipped": (
        "{level} {code} holds {child_level} {child}, already shipped on order {order} "
        "({order_state})",
        "{level} {code} 内的 {child_level} {child} 已在出库单 {order}（{order_state}）中",
    ),
    "duplicate": (
        "{level} {code} is already on this order (scanned twice)",
        "{level} {code} 已在本单中（重复扫描）",
    ),
    "inside_on_order": (
        "{level} {code} is already on this order inside {top_level} {top}",
        "{level} {code} 已随 {top_level} {top} 在本单中",
    ),
    "child_on_order": (
        "{level} {code} holds {child_level} {child}, already on this order on its own: "
        "remove {child} first, then scan {code}",
        "{level} {code} 内的 {child_level} {child} 已单独在本单中：请先移除 {child} 再扫 {code}",
    ),
    "order_closed": (
        "order {order} is closed (sealed {closed_at}); it takes no more scans",
        "出库单 {order} 已关闭（{closed_at}），不能再扫码",
    ),
    "range_order": (
        "range {first} … {last}: {first} comes after {last}; give the lower code first",
        "码段 {first} … {last}：起始码在结束码之后，请先给小号",
    ),
    "range_levels": (
        "range {first} … {last} spans levels ({first_level} and {last_level}); "
        "a range is one level",
        "码段 {first} … {last} 跨层级（{first_level} 与 {last_level}），码段只能是同一层级",
    ),
    "range_batches": (
        "range {first} … {last} spans batches ({first_batch} and {last_batch}); "
        "a range is one batch",
        "码段 {first} … {last} 跨批次（{first_batch} 与 {last_batch}），码段只能是同一批次",
    ),
    "range_too_long": (
        "range {first} … {last} holds {count} codes, more than {limit}; split it",
        "码段 {first} … {last} 含 {count} 个码，超过 {limit}，请拆分",
    ),
    "range_refused": (
        "range {first} … {last}: {bad} of {count} codes refused, nothing added: {examples}",
        "码段 {first} … {last}：{count} 个码中 {bad} 个被拒，未添加：{examples_zh}",
    ),
    "range_empty": (
        "range {first} … {last}: none of its {count} codes can ship ({skipped}); nothing added",
        "码段 {first} … {last}：{count} 个码均不能出库（{skipped}），未添加",
    ),
    "not_on_order": (
        "{code} is not on order {order}",
        "{code} 不在出库单 {order} 中",
    ),
    "remove_container": (
        "{code} came with {top_level} {top}; remove {top} (the whole {top_level}) instead",
        "{code} 随 {top_level} {top} 出库：请移除整个 {top}",
    ),
}


LEVELS_ZH = {"inner": "盖内码", "outer": "盖外码", "box": "盒码", "case": "箱码", "pallet": "垛码"}
WORDS_ZH = {
    "available": "未使用", "reserved": "已预留", "printed": "已打印", "verified": "已校验",
    "linked": "已关联", "rejected": "已剔除", "decommissioned": "已注销", "void": "作废",
    "open": "进行中", "closed": "已关闭", **LEVELS_ZH,
}  # fmt: skip
_WORD_FIELDS = ("level", "child_level", "top_level", "first_level", "last_level", "state",
                "order_state")  # fmt: skip


def text(key: str, lang: str = "en", **params: object) -> str:
    """The message `key` in `lang` ('en' or 'zh') with `params` filled in."""
    en, zh = TEXTS[key]
    fields = {k: ("" if v is None else v) for k, v in params.items()}
    if lang == "zh":  # level and state words in Chinese; codes, orders and batches as they are
        fields.update({k: WORDS_ZH.get(str(v), v) for k, v in fields.items() if k in _WORD_FIELDS})
    try:
        return (zh if lang == "zh" else en).format(**fields)
    except KeyError:  # a template asks for a field not given: never hide the refusal itself
        return (zh if lang == "zh" else en).replace("{", "(").replace("}", ")")


class ShipRefused(StationError):
    """A scan, removal or range the rules refuse; `key` says why, `params` fill the texts."""

    exit_code = 1

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(text(key, "en", **params))

    def message(self, lang: str) -> str:
        """The refusal in `lang`."""
        return text(self.key, lang, **self.params)

    def to_json(self) -> dict:
        """A JSON-ready dict: reason key, both texts and the fields."""
        return {
            "reason": self.key,
            "message": self.message("en"),
            "message_zh": self.message("zh"),
            **{k: v for k, v in self.params.items() if isinstance(v, str | int | None)},
        }
