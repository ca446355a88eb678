"""LineFace against asyncua's own Client over real TCP: browse, read, subscribe, call methods."""

from __future__ import annotations

import asyncio

import pytest
from asyncua import Client, ua

from station.opcua import (
    NS_URI,
    JobOrderState,
    JobStatus,
    LineAlarm,
    LineSnapshot,
    PackMLState,
)

PACKML = "http://opcfoundation.org/UA/PackML/"
WAIT_S = 120.0
NO_COMMENT = ua.Variant([], ua.VariantType.LocalizedText)


class Line:
    """Paths into the line's nodes for one connected client."""

    def __init__(self, client: Client, p: int, i: int) -> None:
        self.client, self.p, self.i = client, p, i

    @classmethod
    async def of(cls, client: Client) -> Line:
        """Resolve the namespace indexes the server gave PackML and the line."""
        return cls(
            client,
            await client.get_namespace_index(PACKML),
            await client.get_namespace_index(NS_URI),
        )

    async def node(self, *path: str):
        """A node under Objects/PackMLObjects/Line1; each step `p:Name` (PackML) or `i:Name`."""
        steps = [f"{self.p}:PackMLObjects", f"{self.i}:Line1"]
        steps += [s.replace("p:", f"{self.p}:").replace("i:", f"{self.i}:") for s in path]
        return await self.client.nodes.objects.get_child(steps)

    async def value(self, *path: str):
        """The value of a variable under the line."""
        return await (await self.node(*path)).read_value()

    async def machine_numbers(self) -> tuple[int, int, int]:
        """CurrentState/Number of BaseStateMachine, MachineState and ExecuteState."""
        base = ("p:BaseStateMachine",)
        machine = (*base, "p:MachineState")
        execute = (*machine, "p:ExecuteState")
        return tuple(
            [await self.value(*sm, "0:CurrentState", "0:Number") for sm in (base, machine, execute)]
        )


def publish(face, snapshot: LineSnapshot) -> None:
    """Hand a snapshot to the face and wait until it is written (not a timing assertion)."""
    face.update(snapshot)
    assert face.wait_published(WAIT_S), "the face did not write the snapshot"
    assert face.last_error is None, face.last_error


def test_browse_from_objects_to_the_packml_line(face, connect):
    async def go():
        async with connect() as client:
            line = await Line.of(client)
            folder = await client.nodes.objects.get_child(f"{line.p}:PackMLObjects")
            names = [(await n.read_browse_name()).Name for n in await folder.get_children()]
            assert "Line1" in names
            node = await line.node()
            assert await node.read_type_definition() == ua.NodeId(6, line.p)  # PackMLBaseObjectType
            parts = {(await n.read_browse_name()).Name for n in await node.get_children()}
            assert {"Admin", "Status", "BaseStateMachine", "Production", "JobOrderControl"} <= parts

    asyncio.run(go())


def test_state_goes_idle_execute_complete_with_packml_numbers(face, connect):
    async def go():
        async with connect() as client:
            line = await Line.of(client)
            seen = []
            for state in (PackMLState.IDLE, PackMLState.EXECUTE, PackMLState.COMPLETE):
                publish(face, LineSnapshot(state=state, batch_id="B-STATE", planned=10))
                name = await line.value(
                    "p:BaseStateMachine", "p:MachineState", "p:ExecuteState", "0:CurrentState"
                )
                seen.append((name.Text, await line.machine_numbers()))
                assert await line.value("i:Production", "i:StateCurrent") == int(state)
            # Cleared(19) / Running(18) / the execute state, numbers as in OPC 30050's nodeset.
            assert seen == [
                ("Idle", (19, 18, 4)),
                ("Execute", (19, 18, 6)),
                ("Complete", (19, 18, 17)),
            ]
            publish(face, LineSnapshot(state=PackMLState.STOPPED))
            assert await line.machine_numbers() == (19, 2, 0)
            publish(face, LineSnapshot(state=PackMLState.ABORTED))
            assert await line.machine_numbers() == (9, 0, 0)
            sm = await line.node("p:BaseStateMachine", "0:CurrentState", "0:Id")
            assert await sm.read_value() == ua.NodeId(62, line.p)  # the Aborted state object

    asyncio.run(go())


def test_produced_counter_grows_with_counts_by_reason(face, connect):
    async def go():
        async with connect() as client:
            await client.load_data_type_definitions()
            line = await Line.of(client)
            produced = []
            for n in (10, 25, 60):
                rejects = {"unreadable": n // 10, "wrong_code": 1}
                publish(
                    face,
                    LineSnapshot(
                        state=PackMLState.EXECUTE,
                        batch_id="B-COUNT",
                        product="06901234567892",
                        lot="L2612",
                        planned=100,
                        produced=n,
                        rejected_by_reason=rejects,
                        rate_per_min=120.0,
                    ),
                )
                produced.append(await line.value("i:Production", "i:ProducedQuantity"))
            assert produced == [10, 25, 60]
            assert await line.value("i:Production", "i:ProgressPercent") == 60.0
            assert await line.value("i:Production", "i:RejectedQuantity") == 7
            assert await line.value("i:Production", "i:LotID") == "L2612"
            assert await line.value("i:Production", "i:RejectedByReason", "i:unreadable") == 6
            processed = await line.value("p:Admin", "p:ProdProcessedCount")
            assert [(c.Name, c.Count) for c in processed] == [("processed", 67)]
            defective = await line.value("p:Admin", "p:ProdDefectiveCount")
            assert {(c.Name, c.Count) for c in defective} >= {("unreadable", 6), ("wrong_code", 1)}
            assert await line.value("p:Status", "p:CurMachSpeed") == pytest.approx(120.0)

    asyncio.run(go())


def test_alarms_and_warnings_are_shown(face, connect):
    async def go():
        async with connect() as client:
            await client.load_data_type_definitions()
            line = await Line.of(client)
            alarms = (
                LineAlarm("printer_silent", "the inkjet stopped answering"),
                LineAlarm("pool_low", "fewer than 1000 codes left", severity="warning"),
            )
            publish(face, LineSnapshot(state=PackMLState.HELD, alarms=alarms))
            shown = await line.value("p:Admin", "p:Alarm")
            assert [a.Message for a in shown] == ["printer_silent: the inkjet stopped answering"]
            assert await line.value("p:Admin", "p:AlarmExtent") == 1
            warned = await line.value("p:Admin", "p:Warning")
            assert [w.Message for w in warned] == ["pool_low: fewer than 1000 codes left"]
            assert len(await line.value("i:Production", "i:ActiveAlarms")) == 2
            publish(face, LineSnapshot(state=PackMLState.EXECUTE))
            assert await line.value("p:Admin", "p:Alarm") == []

    asyncio.run(go())


def test_subscription_delivers_each_state_change(face, connect):
    publish(face, LineSnapshot(state=PackMLState.STOPPED))

    async def go():
        async with connect() as client:
            line = await Line.of(client)
            number = await line.node(
                "p:BaseStateMachine",
                "p:MachineState",
                "p:ExecuteState",
                "0:CurrentState",
                "0:Number",
            )
            changes: asyncio.Queue[int] = asyncio.Queue()

            class Handler:
                def datachange_notification(self, node, val, data):
                    changes.put_nowait(val)

            sub = await client.create_subscription(50, Handler())
            await sub.subscribe_data_change(number)
            assert await asyncio.wait_for(changes.get(), WAIT_S) == 0  # the initial value
            got = []
            for state in (PackMLState.IDLE, PackMLState.EXECUTE, PackMLState.COMPLETE):
                face.update(LineSnapshot(state=state))
                got.append(await asyncio.wait_for(changes.get(), WAIT_S))
            assert got == [4, 6, 17]
            await sub.delete()

    asyncio.run(go())


def _order(job_id: str, planned: int = 24000) -> list[ua.Variant]:
    """Store's arguments for one job order."""
    return [
        ua.Variant(job_id, ua.VariantType.String),
        ua.Variant("06901234567892", ua.VariantType.String),
        ua.Variant("L2612", ua.VariantType.String),
        ua.Variant(planned, ua.VariantType.UInt32),
        ua.Variant("2026-12-07", ua.VariantType.String),
        ua.Variant("2028-12-06", ua.VariantType.String),
        ua.Variant([ua.LocalizedText("from MES", "en")], ua.VariantType.LocalizedText),
    ]


async def _method(line: Line, name: str):
    """(JobOrderControl node, its method node `name`)."""
    control = await line.node("i:JobOrderControl")
    return control, await control.get_child(f"{line.i}:{name}")


def test_anonymous_method_call_is_refused(face, connect, jobs):
    before = len(jobs.calls)

    async def go():
        async with connect() as client:
            control, store = await _method(await Line.of(client), "Store")
            with pytest.raises(ua.UaStatusCodeError) as err:
                await control.call_method(store, *_order("JOB-ANON"))
            assert err.value.code == ua.StatusCodes.BadUserAccessDenied

    asyncio.run(go())
    assert len(jobs.calls) == before


def test_authenticated_store_and_start_reach_the_handler(face, connect, jobs):
    async def go():
        async with connect("mes", "mes-secret", encrypted=True) as client:
            line = await Line.of(client)
            control, store = await _method(line, "Store")
            status, message = await control.call_method(store, *_order("JOB-1"))
            assert (status, message) == (JobStatus.OK, "stored JOB-1")
            _, start = await _method(line, "Start")
            status, _ = await control.call_method(start, "JOB-1", NO_COMMENT)
            assert status == JobStatus.OK
            status, message = await control.call_method(start, "JOB-NONE", NO_COMMENT)
            assert status == JobStatus.UNKNOWN_JOB and "JOB-NONE" in message
            _, both = await _method(line, "StoreAndStart")
            status, _ = await control.call_method(both, *_order("JOB-2"))
            assert status == JobStatus.OK
            status, message = await control.call_method(store, *_order("JOB-2"))
            assert status == JobStatus.REJECTED and "already" in message
            _, stop = await _method(line, "Stop")
            status, _ = await control.call_method(stop, "JOB-1", NO_COMMENT)
            assert status == JobStatus.OK
            ids = await line.value("i:JobOrderControl", "i:JobOrderList")
            states = await line.value("i:JobOrderControl", "i:JobOrderStates")
            shown = dict(zip(ids, states, strict=True))
            assert shown["JOB-1"] == JobOrderState.ABORTED
            assert shown["JOB-2"] == JobOrderState.RUNNING

    asyncio.run(go())
    stored = [job for what, job in jobs.calls if what == "store" and job.job_id == "JOB-1"]
    assert len(stored) == 1
    job = stored[0]
    assert (job.product, job.lot, job.planned_quantity) == ("06901234567892", "L2612", 24000)
    assert (str(job.produced_on), str(job.expires_on), job.comment) == (
        "2026-12-07",
        "2028-12-06",
        "from MES",
    )
    assert ("start", "JOB-1") in jobs.calls
    assert ("start", "JOB-2") in jobs.calls and ("stop", "JOB-1") in jobs.calls


def test_bad_order_is_answered_without_reaching_the_handler(face, connect, jobs):
    before = len(jobs.calls)

    async def go():
        async with connect("mes", "mes-secret", encrypted=True) as client:
            control, store = await _method(await Line.of(client), "Store")
            status, message = await control.call_method(store, *_order("JOB-BAD", planned=0))
            assert status == JobStatus.INVALID_REQUEST
            assert "PlannedQuantity" in message

    asyncio.run(go())
    assert len(jobs.calls) == before


def test_role_without_job_rights_is_refused(face, connect, jobs):
    before = len(jobs.calls)

    async def go():
        async with connect("op", "op-secret", encrypted=True) as client:
            line = await Line.of(client)
            assert await line.value("i:Production", "i:StateCurrent") >= 0  # reading is fine
            control, stop = await _method(line, "Stop")
            with pytest.raises(ua.UaStatusCodeError) as err:
                await control.call_method(stop, "JOB-1", NO_COMMENT)
            assert err.value.code == ua.StatusCodes.BadUserAccessDenied

    asyncio.run(go())
    assert len(jobs.calls) == before


def test_wrong_password_is_refused(face, connect):
    async def go():
        with pytest.raises(ua.UaStatusCodeError) as err:
            async with connect("mes", "wrong", encrypted=True):
                pass
        assert err.value.code == ua.StatusCodes.BadUserAccessDenied

    asyncio.run(go())


def test_unencrypted_endpoint_offers_no_password_login(face, connect):
    async def go():
        async with connect() as client:
            endpoints = await client.get_endpoints()
        by_mode = {e.SecurityMode: {t.TokenType for t in e.UserIdentityTokens} for e in endpoints}
        assert by_mode[ua.MessageSecurityMode.None_] == {ua.UserTokenType.Anonymous}
        assert ua.UserTokenType.UserName in by_mode[ua.MessageSecurityMode.SignAndEncrypt]

    asyncio.run(go())
