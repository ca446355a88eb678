"""The line's address space: the PackML object, its counts and alarms, the batch in plain terms.

```
Objects/PackMLObjects/<line>                 PackMLBaseObjectType (OPC 30050)
  Admin/ProdProcessedCount, ProdDefectiveCount (one per reject reason), Alarm, Warning, …Extent
  Status/CurMachSpeed (items per minute), UnitModeCurrent (1 = Produce)
  BaseStateMachine/MachineState/ExecuteState/CurrentState (+ Id, Number)
  Production/  StateCurrent StateName BatchID ProductID LotID PlannedQuantity ProducedQuantity
               RejectedQuantity ProgressPercent RatePerMinute ActiveAlarms
               RejectedByReason/<reason>  (UInt32 each, added as reasons appear)
  JobOrderControl/  (see jobs.py)
```
`Production` repeats in flat variables what PackML keeps in structures, for SCADA tags.
"""

from __future__ import annotations

from datetime import UTC, datetime

from asyncua import Node, Server, ua

from .model import LineSnapshot
from .packml import (
    ALARM_TYPE,
    BASE_OBJECT_TYPE,
    COUNT_TYPE,
    OBJECTS_FOLDER,
    PACKML_URI,
    Alarms,
    Counters,
    StateMachines,
)

NS_URI = "urn:linestation:opcua"
"""The namespace of the nodes this server adds (the line object, Production, JobOrderControl)."""

_U32, _DBL, _STR = ua.VariantType.UInt32, ua.VariantType.Double, ua.VariantType.String
_FLAT = (  # Production variable, its type, how it is read from a snapshot
    ("StateCurrent", _U32, lambda s: int(s.state)),
    ("StateName", _STR, lambda s: s.state.name.title()),
    ("BatchID", _STR, lambda s: s.batch_id),
    ("ProductID", _STR, lambda s: s.product),
    ("LotID", _STR, lambda s: s.lot),
    ("PlannedQuantity", _U32, lambda s: s.planned),
    ("ProducedQuantity", _U32, lambda s: s.produced),
    ("RejectedQuantity", _U32, lambda s: s.rejected),
    ("ProgressPercent", _DBL, lambda s: round(s.progress_percent, 3)),
    ("RatePerMinute", _DBL, lambda s: float(s.rate_per_min)),
    ("ActiveAlarms", _STR, lambda s: [f"{a.code}: {a.message}" for a in s.alarms]),
)


class LineSpace:
    """The nodes of one line and how a snapshot is written into them (only what changed)."""

    def __init__(self, server: Server, line: Node, idx: int, pidx: int) -> None:
        self.server, self.line, self.idx, self.pidx = server, line, idx, pidx
        self.flat: dict[str, Node] = {}
        self.admin: dict[str, Node] = {}
        self.speed: Node | None = None
        self.reasons_folder: Node | None = None
        self.reason_vars: dict[str, Node] = {}
        self.machines: StateMachines | None = None
        self.guarded: set[ua.NodeId] = set()  # methods only a job role may call
        self._counters: Counters | None = None
        self._alarms: Alarms | None = None
        self._last: LineSnapshot | None = None
        self._acc_base: tuple[int, dict[str, int]] = (0, {})  # counts of batches before this one

    @classmethod
    async def build(cls, server: Server, line_name: str) -> LineSpace:
        """Instantiate the PackML line object and add the Production view beside its parts."""
        pidx = await server.get_namespace_index(PACKML_URI)
        idx = await server.register_namespace(NS_URI)
        folder = server.get_node(ua.NodeId(OBJECTS_FOLDER, pidx))
        line = await folder.add_object(
            ua.NodeId(line_name, idx),
            ua.QualifiedName(line_name, idx),
            objecttype=ua.NodeId(BASE_OBJECT_TYPE, pidx),
            instantiate_optional=False,
        )
        space = cls(server, line, idx, pidx)
        # import_xml made the PackML structures' classes (and registered them on `ua`).
        space._counters = Counters(_struct_class("PackMLCountDataType"))
        space._alarms = Alarms(_struct_class("PackMLAlarmDataType"))
        await space._add_admin()
        await space._add_status()
        space.machines = await StateMachines.attach(server, line, pidx, idx)
        await space._add_production()
        return space

    async def _add_admin(self) -> None:
        """The optional Admin members the line fills: counts, alarms, warnings."""
        admin = await self.line.get_child(f"{self.pidx}:Admin")
        for name, type_id in (
            ("ProdProcessedCount", COUNT_TYPE),
            ("ProdDefectiveCount", COUNT_TYPE),
            ("Alarm", ALARM_TYPE),
            ("Warning", ALARM_TYPE),
        ):
            var = await admin.add_variable(
                ua.NodeId(f"{self._id(admin)}.{name}", self.idx),
                ua.QualifiedName(name, self.pidx),
                ua.Variant([], ua.VariantType.ExtensionObject),
                datatype=ua.NodeId(type_id, self.pidx),
            )
            await var.write_value_rank(ua.ValueRank.OneDimension)
            await var.write_array_dimensions([0])
            self.admin[name] = var
        for name in ("AlarmExtent", "WarningExtent"):
            self.admin[name] = await admin.add_variable(
                ua.NodeId(f"{self._id(admin)}.{name}", self.idx),
                ua.QualifiedName(name, self.pidx),
                0,
                ua.VariantType.Int32,
            )

    async def _add_status(self) -> None:
        """Status: the current speed and the unit mode (always Produce on a packing line)."""
        status = await self.line.get_child(f"{self.pidx}:Status")
        self.speed = await status.get_child(f"{self.pidx}:CurMachSpeed")
        design = await status.get_child(f"{self.pidx}:MachSpeed")
        await design.write_value(ua.Variant(0.0, ua.VariantType.Float))  # no setpoint here
        mode = await status.get_child(f"{self.pidx}:UnitModeCurrent")
        await mode.write_value(ua.Variant(1, ua.VariantType.Int32))  # 1 = Produce
        for flag in ("EquipmentBlocked", "EquipmentStarved"):
            node = await status.get_child(f"{self.pidx}:{flag}")
            await node.write_value(ua.Variant(False, ua.VariantType.Boolean))
        for name in ("SetUnitMode", "SetMachSpeed", "SetProduct", "SetParameter"):
            method = await self.line.get_child(f"{self.pidx}:{name}")
            self.server.link_method(method, _not_supported)
            self.guarded.add(method.nodeid)

    async def _add_production(self) -> None:
        """The Production object: the batch and its counts as plain variables."""
        prod = await self.line.add_object(
            ua.NodeId(f"{self._id(self.line)}.Production", self.idx),
            ua.QualifiedName("Production", self.idx),
        )
        for name, vtype, read in _FLAT:
            value = read(LineSnapshot())
            self.flat[name] = await prod.add_variable(
                ua.NodeId(f"{self._id(prod)}.{name}", self.idx),
                ua.QualifiedName(name, self.idx),
                ua.Variant(value, vtype),
            )
        self.reasons_folder = await prod.add_object(
            ua.NodeId(f"{self._id(prod)}.RejectedByReason", self.idx),
            ua.QualifiedName("RejectedByReason", self.idx),
        )

    def _id(self, node: Node) -> str:
        """The string identifier of one of our nodes, to derive readable child NodeIds."""
        return str(node.nodeid.Identifier)

    async def publish(self, snap: LineSnapshot) -> None:
        """Write what differs from the last snapshot written."""
        last = self._last
        for name, vtype, read in _FLAT:
            value = read(snap)
            if last is None or read(last) != value:
                await self.flat[name].write_value(ua.Variant(value, vtype))
        if last is None or last.state != snap.state:
            await self.machines.write(snap.state)
        if last is None or last.rate_per_min != snap.rate_per_min:
            await self.speed.write_value(ua.Variant(float(snap.rate_per_min), ua.VariantType.Float))
        if (
            last is None
            or last.produced != snap.produced
            or dict(last.rejected_by_reason) != dict(snap.rejected_by_reason)
            or last.batch_id != snap.batch_id
        ):
            await self._publish_counts(last, snap)
        if last is None or tuple(last.alarms) != tuple(snap.alarms):
            await self._publish_alarms(snap)
        self._last = snap

    async def _publish_counts(self, last: LineSnapshot | None, snap: LineSnapshot) -> None:
        """PackML counts (Count: this batch, AccCount: since the server started) and reasons."""
        if last is not None and last.batch_id != snap.batch_id:
            done, by_reason = self._acc_base
            by_reason = dict(by_reason)
            for reason, n in last.rejected_by_reason.items():
                by_reason[reason] = by_reason.get(reason, 0) + n
            self._acc_base = (done + last.produced + last.rejected, by_reason)
        done, acc_reasons = self._acc_base
        processed = snap.produced + snap.rejected
        c = self._counters
        await _write_structs(
            self.admin["ProdProcessedCount"], [c.count(1, "processed", processed, done + processed)]
        )
        reasons = sorted(set(snap.rejected_by_reason) | set(acc_reasons), key=c.reason_id)
        defective = []
        for reason in reasons:
            n = snap.rejected_by_reason.get(reason, 0)
            defective.append(
                c.count(c.reason_id(reason), reason, n, acc_reasons.get(reason, 0) + n)
            )
            await self._reason_var(reason, n)
        await _write_structs(self.admin["ProdDefectiveCount"], defective)

    async def _reason_var(self, reason: str, n: int) -> None:
        """Write one RejectedByReason variable, adding it the first time the reason is seen."""
        reason = reason or "unknown"  # a browse name may not be empty
        var = self.reason_vars.get(reason)
        if var is None:
            var = await self.reasons_folder.add_variable(
                ua.NodeId(f"{self._id(self.reasons_folder)}.{reason}", self.idx),
                ua.QualifiedName(reason, self.idx),
                ua.Variant(n, _U32),
            )
            self.reason_vars[reason] = var
        else:
            await var.write_value(ua.Variant(n, _U32))

    async def _publish_alarms(self, snap: LineSnapshot) -> None:
        """Alarm and Warning arrays with their extents."""
        now = datetime.now(UTC)
        alarms = [a for a in snap.alarms if a.severity != "warning"]
        warnings = [a for a in snap.alarms if a.severity == "warning"]
        for name, items in (("Alarm", alarms), ("Warning", warnings)):
            await _write_structs(self.admin[name], self._alarms.values(items, now))
            await self.admin[f"{name}Extent"].write_value(
                ua.Variant(len(items), ua.VariantType.Int32)
            )


def _struct_class(name: str) -> type:
    """The Python class asyncua made for a structure of a loaded nodeset."""
    cls = getattr(ua, name, None)
    if cls is None:
        raise RuntimeError(f"asyncua made no class for {name} from the PackML nodeset")
    return cls


async def _write_structs(node: Node, values: list) -> None:
    """Write an array of structures (an empty array stays typed as ExtensionObject[])."""
    await node.write_value(ua.Variant(values, ua.VariantType.ExtensionObject))


async def _not_supported(parent: ua.NodeId, *args) -> ua.StatusCode:
    """PackML's mutating Status methods: the line takes its orders through JobOrderControl."""
    return ua.StatusCode(ua.StatusCodes.BadNotSupported)
