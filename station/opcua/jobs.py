"""JobOrderControl: the methods a plant's L3 calls to hand a work order to the line.

Open-SCS 1.00 (OPC 30260) names the job-order commands in `JobOrderCommandEnum` (Store_1,
StoreAndStart_2, Start_3, Update_4, Stop_5, Cancel_6, Clear_7) and their states in
`JobOrderStateEnum`; the receiving object with its methods is ISA-95 Job Control
(OPC 10031-4 `ISA95JobOrderReceiverObjectType`), whose nodeset (and its ISA95JobOrderDataType)
this project does not carry. So the methods follow OPC 10031-4's names and ReturnStatus bitmap
(UInt64, bit 0 = no error) with the job order as flat scalar arguments:
```
Store(JobOrderID, ProductID, LotID, PlannedQuantity, ProductionDate, ExpiryDate, Comment[])
StoreAndStart(…same…)      Start(JobOrderID, Comment[])      Stop(JobOrderID, Comment[])
  → ReturnStatus UInt64, Message String
JobOrderList String[]  JobOrderStates JobOrderStateEnum[] (the same order)
```
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date

from asyncua import Node, ua

from .model import JobHandler, JobOrder, JobResult, JobStatus

log = logging.getLogger(__name__)

OPENSCS_URI = "http://opcfoundation.org/UA/OPENSCS-SER/"
JOB_STATE_ENUM = 3009  # JobOrderStateEnum in the Open-SCS nodeset

_S, _U32, _LT = ua.VariantType.String, ua.VariantType.UInt32, ua.VariantType.LocalizedText
_ID = ("JobOrderID", _S, "The job order's ID, as the MES knows it.")
_COMMENT = ("Comment", _LT, "Why the method was called (may be empty).", True)
_ORDER = (
    _ID,
    ("ProductID", _S, "The product to make: GTIN or SKU as configured on the line."),
    ("LotID", _S, "The lot (batch number) printed on the items."),
    ("PlannedQuantity", _U32, "How many sellable items to make (> 0)."),
    ("ProductionDate", _S, "Production date, ISO 8601 (YYYY-MM-DD), or empty."),
    ("ExpiryDate", _S, "Expiry date, ISO 8601 (YYYY-MM-DD), or empty."),
    _COMMENT,
)
_OUT = (
    ("ReturnStatus", ua.VariantType.UInt64, "OPC 10031-4 B.2 bitmap: 1 = no error."),
    ("Message", _S, "What the line said, for the person at the MES."),
)


class BadArgument(ValueError):
    """A method argument the line cannot use; the message names it and what to send."""


def _argument(spec) -> ua.Argument:
    """An Argument description from (name, type, text[, is_array])."""
    name, vtype, text, *array = spec
    arg = ua.Argument()
    arg.Name = name
    arg.DataType = ua.NodeId(vtype.value)
    arg.ValueRank = ua.ValueRank.OneDimension if array else ua.ValueRank.Scalar
    arg.ArrayDimensions = [0] if array else []
    arg.Description = ua.LocalizedText(text, "en")
    return arg


def _date(name: str, text: str) -> date | None:
    """An ISO date argument, or None when empty."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadArgument(f"{name} {text!r} is not a date; send YYYY-MM-DD or empty") from None


def _text(name: str, value) -> str:
    """A required, non-empty string argument."""
    if not isinstance(value, str) or not value.strip():
        raise BadArgument(f"{name} is empty; send the {name} as a non-empty string")
    return value.strip()


def _comment(value) -> str:
    """The Comment array joined into one line."""
    texts = [lt.Text for lt in value or [] if isinstance(lt, ua.LocalizedText) and lt.Text]
    return " / ".join(texts)


def parse_order(args: list) -> JobOrder:
    """The job order from Store's arguments (values, in declaration order)."""
    if len(args) < len(_ORDER) - 1:
        raise BadArgument(f"Store takes {len(_ORDER)} arguments, got {len(args)}")
    job_id, product, lot, planned, produced, expires, *comment = args
    if not isinstance(planned, int) or planned <= 0:
        raise BadArgument(f"PlannedQuantity {planned!r} must be a whole number above 0")
    return JobOrder(
        job_id=_text("JobOrderID", job_id),
        product=_text("ProductID", product),
        lot=_text("LotID", lot),
        planned_quantity=planned,
        produced_on=_date("ProductionDate", produced or ""),
        expires_on=_date("ExpiryDate", expires or ""),
        comment=_comment(comment[0] if comment else None),
    )


class JobControl:
    """The JobOrderControl object: binds the methods to a JobHandler and keeps the list fresh."""

    def __init__(self, handler: JobHandler, job_ids: Node, job_states: Node) -> None:
        self._handler = handler
        self._ids = job_ids
        self._states = job_states
        self._lock = asyncio.Lock()  # one command at a time, in arrival order
        self.methods: dict[str, ua.NodeId] = {}

    @classmethod
    async def build(cls, parent: Node, idx: int, oidx: int, handler: JobHandler) -> JobControl:
        """Add JobOrderControl under `parent`; returns it with the method NodeIds in `.methods`."""
        base = f"{parent.nodeid.Identifier}.JobOrderControl"
        obj = await parent.add_object(
            ua.NodeId(base, idx), ua.QualifiedName("JobOrderControl", idx)
        )
        ids = await obj.add_variable(
            ua.NodeId(f"{base}.JobOrderList", idx),
            ua.QualifiedName("JobOrderList", idx),
            ua.Variant([], _S),
        )
        states = await obj.add_variable(
            ua.NodeId(f"{base}.JobOrderStates", idx),
            ua.QualifiedName("JobOrderStates", idx),
            ua.Variant([], ua.VariantType.Int32),
            datatype=ua.NodeId(JOB_STATE_ENUM, oidx),
        )
        for var in (ids, states):
            await var.write_value_rank(ua.ValueRank.OneDimension)
            await var.write_array_dimensions([0])
        control = cls(handler, ids, states)
        outputs = [_argument(o) for o in _OUT]
        for name, inputs, call in (
            ("Store", _ORDER, control._store),
            ("StoreAndStart", _ORDER, control._store_and_start),
            ("Start", (_ID, _COMMENT), control._start),
            ("Stop", (_ID, _COMMENT), control._stop),
        ):
            method = await obj.add_method(
                ua.NodeId(f"{base}.{name}", idx),
                ua.QualifiedName(name, idx),
                call,
                [_argument(i) for i in inputs],
                outputs,
            )
            control.methods[name] = method.nodeid
        return control

    async def refresh(self) -> None:
        """Read the handler's jobs (in a worker thread) and write JobOrderList/JobOrderStates."""
        try:
            jobs = list(await asyncio.to_thread(self._handler.list_jobs))
        except Exception:
            log.exception("OPC UA: list_jobs failed; JobOrderList left as it was")
            return
        await self._ids.write_value(ua.Variant([j.job_id for j in jobs], _S))
        await self._states.write_value(
            ua.Variant([int(j.state) for j in jobs], ua.VariantType.Int32)
        )

    async def _run(self, what: str, call: Callable[[], JobResult]) -> list[ua.Variant]:
        """Call the handler off the event loop; its answer becomes ReturnStatus and Message."""
        async with self._lock:
            try:
                result = await asyncio.to_thread(call)
            except BadArgument as exc:
                result = JobResult(JobStatus.INVALID_REQUEST, str(exc))
            except Exception as exc:
                log.exception("OPC UA: job handler failed on %s", what)
                result = JobResult(JobStatus.INVALID_REQUEST, f"the line failed: {exc}")
            if not isinstance(result, JobResult):
                result = JobResult(JobStatus.INVALID_REQUEST, f"the line answered {result!r}")
            log.info("OPC UA: %s → %s %s", what, result.status.name, result.message)
            await self.refresh()
        return [
            ua.Variant(int(result.status), ua.VariantType.UInt64),
            ua.Variant(result.message, _S),
        ]

    async def _store(self, parent: ua.NodeId, *args: ua.Variant) -> list[ua.Variant]:
        """Store: keep the order, do not start it."""
        return await self._run("Store", lambda: self._handler.store_job(parse_order(_values(args))))

    async def _store_and_start(self, parent: ua.NodeId, *args: ua.Variant) -> list[ua.Variant]:
        """StoreAndStart: keep the order and start it when the line is ready."""

        def call() -> JobResult:
            order = parse_order(_values(args))
            stored = self._handler.store_job(order)
            return self._handler.start_job(order.job_id) if stored.ok else stored

        return await self._run("StoreAndStart", call)

    async def _start(self, parent: ua.NodeId, *args: ua.Variant) -> list[ua.Variant]:
        """Start a stored order."""
        return await self._run("Start", lambda: self._handler.start_job(_job_id(args)))

    async def _stop(self, parent: ua.NodeId, *args: ua.Variant) -> list[ua.Variant]:
        """Stop a started order."""
        return await self._run("Stop", lambda: self._handler.stop_job(_job_id(args)))


def _values(args) -> list:
    """Plain values from the call's Variants."""
    return [a.Value if isinstance(a, ua.Variant) else a for a in args]


def _job_id(args) -> str:
    """The JobOrderID argument of Start and Stop."""
    values = _values(args)
    return _text("JobOrderID", values[0] if values else None)
