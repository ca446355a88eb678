"""The line's PackML state machines (OPC 30050), read from the loaded nodeset and written per state.

PackML nests three state machines in `PackMLBaseObjectType.BaseStateMachine`:
```
BaseStateMachine: Aborting(8) Aborted(9) Cleared(19) ─┐
  MachineState:   Clearing(1) Stopped(2) Stopping(7) Running(18) ─┐
    ExecuteState: Idle(4) Starting(3) Execute(6) Completing(16) Complete(17) Resetting(15)
                  Holding(10) Held(11) Unholding(12) Suspending(13) Suspended(5) Unsuspending(14)
```
A state lives in one machine and sets its super states: Execute is Cleared / Running / Execute;
Stopped is Cleared / Stopped / (none); Aborted is Aborted / (none) / (none). Each machine's
`CurrentState` carries the state's name, `Id` the NodeId of the state object in the type, and
`Number` (an optional StateVariableType property we add) the state number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from asyncua import Node, Server, ua

from .model import OpcUaError, PackMLState

PACKML_URI = "http://opcfoundation.org/UA/PackML/"
BASE_OBJECT_TYPE = 6  # PackMLBaseObjectType
OBJECTS_FOLDER = 72  # PackMLObjects, organised under Objects
COUNT_TYPE = 14  # PackMLCountDataType
ALARM_TYPE = 15  # PackMLAlarmDataType
_MACHINE_TYPES = {"base": 3, "machine": 2, "execute": 1}  # the three StateMachine ObjectTypes
_STATE_TYPES = (ua.ObjectIds.StateType, ua.ObjectIds.InitialStateType)
RUNNING, CLEARED = 18, 19  # super states: Running holds ExecuteState, Cleared holds MachineState

_NOT_YET = datetime(1601, 1, 1, tzinfo=UTC)  # OPC UA's null DateTime: not acknowledged
_BASE_STATES = {PackMLState.ABORTING, PackMLState.ABORTED}
_MACHINE_STATES = {PackMLState.CLEARING, PackMLState.STOPPED, PackMLState.STOPPING}


def path_of(state: PackMLState) -> dict[str, int]:
    """The state number each machine shows for `state`; a machine not shown is left out."""
    if state == PackMLState.UNDEFINED:
        return {}
    if state in _BASE_STATES:
        return {"base": int(state)}
    if state in _MACHINE_STATES:
        return {"base": CLEARED, "machine": int(state)}
    return {"base": CLEARED, "machine": RUNNING, "execute": int(state)}


@dataclass(frozen=True)
class _StateObject:
    """A state object of a StateMachine type: its name and NodeId."""

    name: str
    nodeid: ua.NodeId


@dataclass(frozen=True)
class _CurrentState:
    """The CurrentState variable of one machine on the line and its Id and Number children."""

    text: Node
    id: Node
    number: Node


class StateMachines:
    """The line's three PackML machines, written together from one PackMLState."""

    def __init__(
        self, current: dict[str, _CurrentState], states: dict[str, dict[int, _StateObject]]
    ) -> None:
        self._current = current
        self._states = states

    @classmethod
    async def attach(cls, server: Server, line: Node, pidx: int, idx: int) -> StateMachines:
        """Find the machines of `line` and the state objects of their types in the nodeset."""
        states = {
            level: await _state_objects(server.get_node(ua.NodeId(type_id, pidx)))
            for level, type_id in _MACHINE_TYPES.items()
        }
        for state in PackMLState:
            for level, number in path_of(state).items():
                if number not in states[level]:
                    raise OpcUaError(
                        f"the PackML nodeset has no state {number} in its {level} machine",
                        "nodesets/Opc.Ua.PackML.NodeSet2.xml",
                        "restore the unchanged OPC Foundation file",
                    )
        base = await line.get_child(f"{pidx}:BaseStateMachine")
        machine = await base.get_child(f"{pidx}:MachineState")
        execute = await machine.get_child(f"{pidx}:ExecuteState")
        current = {}
        for level, node in (("base", base), ("machine", machine), ("execute", execute)):
            text = await node.get_child("0:CurrentState")
            number = await text.add_property(
                ua.NodeId(f"{line.nodeid.Identifier}.{level}.CurrentState.Number", idx),
                ua.QualifiedName("Number", 0),
                0,
                ua.VariantType.UInt32,
            )
            current[level] = _CurrentState(text, await text.get_child("0:Id"), number)
        return cls(current, states)

    async def write(self, state: PackMLState) -> None:
        """Show `state` in the machine that owns it and its super states in the others."""
        path = path_of(state)
        for level, cur in self._current.items():
            number = path.get(level)
            obj = self._states[level].get(number) if number is not None else None
            name = obj.name if obj else ""
            await cur.text.write_value(ua.Variant(ua.LocalizedText(name, "en")))
            await cur.id.write_value(ua.Variant(obj.nodeid if obj else ua.NodeId()))
            await cur.number.write_value(ua.Variant(number or 0, ua.VariantType.UInt32))


async def _state_objects(machine_type: Node) -> dict[int, _StateObject]:
    """State number → state object, for the states a StateMachine type declares."""
    out: dict[int, _StateObject] = {}
    for child in await machine_type.get_children(refs=ua.ObjectIds.HasComponent):
        if await child.read_node_class() != ua.NodeClass.Object:
            continue
        typedef = await child.read_type_definition()
        if typedef is None or typedef.Identifier not in _STATE_TYPES or typedef.NamespaceIndex:
            continue
        number = await (await child.get_child("0:StateNumber")).read_value()
        name = (await child.read_browse_name()).Name
        out[int(number)] = _StateObject(name, child.nodeid)
    return out


class Counters:
    """PackML Admin counts (PackMLCountDataType) with stable IDs per reject reason."""

    def __init__(self, count_cls: type) -> None:
        self._cls = count_cls
        self._ids: dict[str, int] = {}

    def reason_id(self, reason: str) -> int:
        """A stable small ID for a reject reason, in order of first sight (1, 2, …)."""
        return self._ids.setdefault(reason, len(self._ids) + 1)

    def count(self, id_: int, name: str, count: int, acc: int) -> object:
        """One PackMLCountDataType value; counts clamp to Int32 as the type demands."""
        top = 2**31 - 1
        return self._cls(ID=id_, Name=name, Count=min(count, top), AccCount=min(acc, top))


class Alarms:
    """PackML Admin alarms (PackMLAlarmDataType) with stable IDs per alarm code."""

    def __init__(self, alarm_cls: type) -> None:
        self._cls = alarm_cls
        self._ids: dict[str, int] = {}

    def values(self, alarms, now) -> list[object]:
        """PackMLAlarmDataType values for `alarms` (trigger set, not acknowledged)."""
        out = []
        for a in alarms:
            id_ = self._ids.setdefault(a.code, len(self._ids) + 1)
            out.append(
                self._cls(
                    ID=id_,
                    Value=0,
                    Message=f"{a.code}: {a.message}",
                    Category=2 if a.severity == "warning" else 1,
                    DateTime=a.since or now,
                    AckDateTime=_NOT_YET,
                    Trigger=True,
                )
            )
        return out
