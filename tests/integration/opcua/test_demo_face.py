"""`station demo` with [opcua] in config.toml, read by asyncua's Client from another process: the
line's PackML state goes Execute while the produced counter grows, then Complete; job orders
stored through the wired handler become batches."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asyncua import Client

from station.opcua import NS_URI, JobOrder, JobOrderState, JobStatus

ROOT = Path(__file__).resolve().parents[3]
STATION = str(Path(sys.executable).with_name("station"))
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
PACKML = "http://opcfoundation.org/UA/PackML/"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _with_opcua(station_dir: Path, port: int) -> Path:
    from station.build import on_free_ports

    cfg = station_dir / "config.toml"
    text = on_free_ports(cfg.read_text(encoding="utf-8"))
    text += (
        f'\n[opcua]\nendpoint = "opc.tcp://127.0.0.1:{port}/linestation"\n'
        'line_name = "Line1"\nlinger_s = 5\n'
    )
    cfg.write_text(text, encoding="utf-8")
    return cfg


async def _watch(endpoint: str, demo: subprocess.Popen) -> list[tuple[str, int]]:
    """(ExecuteState name, ProducedQuantity) every 0.2 s from the first answer until the end."""
    client = Client(endpoint, timeout=60)
    deadline = time.monotonic() + 120
    while True:  # the server comes up once the demo has loaded its config and store
        try:
            await client.connect()
            break
        except (TimeoutError, OSError):
            assert demo.poll() is None, "the demo ended before its OPC UA server answered"
            assert time.monotonic() < deadline, "no OPC UA server within 120 s"
            await asyncio.sleep(0.3)
    seen: list[tuple[str, int]] = []
    try:
        p = await client.get_namespace_index(PACKML)
        i = await client.get_namespace_index(NS_URI)
        line = await client.nodes.objects.get_child([f"{p}:PackMLObjects", f"{i}:Line1"])
        state = await line.get_child(
            [f"{p}:BaseStateMachine", f"{p}:MachineState", f"{p}:ExecuteState", "0:CurrentState"]
        )
        produced = await line.get_child([f"{i}:Production", f"{i}:ProducedQuantity"])
        while True:
            try:
                seen.append(((await state.read_value()).Text, await produced.read_value()))
            except Exception:  # the server went away with the demo's end
                break
            if seen[-1][0] == "Complete":
                break
            await asyncio.sleep(0.2)
    finally:
        try:
            await client.disconnect()
        except Exception:
            pass
    return seen


def test_demo_shows_execute_a_growing_counter_then_complete(station_dir: Path) -> None:
    port = _free_port()
    cfg = _with_opcua(station_dir, port)
    demo = subprocess.Popen(
        [STATION, "--config", str(cfg), "demo", "--items", "2000", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=ENV,
    )
    try:
        seen = asyncio.run(_watch(f"opc.tcp://127.0.0.1:{port}/linestation", demo))
        out, _ = demo.communicate(timeout=300)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode == 0, out[-2000:]
    assert json.loads(out.strip().splitlines()[-1])["world_mismatches"] == 0
    executing = [n for name, n in seen if name == "Execute"]
    assert len(executing) >= 2, seen[:20]
    assert executing[-1] > executing[0], executing  # the produced counter grows
    assert executing == sorted(executing)
    assert seen[-1][0] == "Complete", seen[-10:]
    assert seen[-1][1] >= executing[-1] > 1000  # most of the 2,000 items are good


def test_job_orders_become_batches(station_dir: Path) -> None:
    from datetime import date

    from station.config import load_settings
    from station.service.jobs import BatchJobs, started_batches
    from station.store import batches
    from station.store.db import make_engine

    s = load_settings(station_dir / "config.toml")
    engine = make_engine(s.database_url)
    stops: list[str] = []
    jobs = BatchJobs(s, engine, on_stop=lambda b: stops.append(b) or f"stopping {b}")
    order = JobOrder("MES-4711", "06901234000016", "L2612", 500, date(2026, 12, 7))
    assert jobs.store_job(order).ok
    b = batches.get(engine, "MES-4711")
    assert (b.product_sku, b.lot, b.quantity, b.state) == ("WATER-550", "L2612", 500, "ready")
    assert [(j.job_id, j.state) for j in jobs.list_jobs()] == [("MES-4711", JobOrderState.WAITING)]
    assert started_batches(engine, s.station.id) == []  # stored, not started: serve leaves it
    again = jobs.store_job(order)
    assert again.status == JobStatus.REJECTED and "exists already" in again.message
    unknown = jobs.store_job(JobOrder("MES-4712", "NO-SUCH", "L1", 5))
    assert unknown.status == JobStatus.REJECTED and "WATER-550" in unknown.message
    assert jobs.start_job("MES-4711").ok
    assert [(j.job_id, j.state) for j in jobs.list_jobs()] == [("MES-4711", JobOrderState.READY)]
    assert started_batches(engine, s.station.id) == ["MES-4711"]
    assert jobs.start_job("NOPE").status == JobStatus.UNKNOWN_JOB
    assert jobs.stop_job("MES-4711").ok and stops == ["MES-4711"]
    engine.dispose()


def test_mes_stores_a_job_with_a_station_users_pin(station_dir: Path) -> None:
    from asyncua import ua

    from station import users
    from station.config import load_settings
    from station.opcua import ensure_certificate
    from station.service.links import Links
    from station.store import batches
    from station.store.db import make_engine

    port = _free_port()
    cfg = _with_opcua(station_dir, port)
    s = load_settings(cfg)
    engine = make_engine(s.database_url)
    users.add(engine, s, "boss", "admin", "97531", by="setup")
    users.add(engine, s, "mes", "it", "24680", by="boss")
    client_cert = ensure_certificate(station_dir / "client", "urn:test:mes-client")
    links = Links(s, engine)

    async def call(user: str, pin: str, job: str):
        client = Client(links.settings.opcua.endpoint, timeout=60)
        client.application_uri = "urn:test:mes-client"
        client.set_user(user)
        client.set_password(pin)
        await client.set_security_string(
            f"Basic256Sha256,SignAndEncrypt,{client_cert.cert},{client_cert.key}"
        )
        await client.connect()
        try:
            i = await client.get_namespace_index(NS_URI)
            p = await client.get_namespace_index(PACKML)
            control = await client.nodes.objects.get_child(
                [f"{p}:PackMLObjects", f"{i}:Line1", f"{i}:JobOrderControl"]
            )
            store = await control.get_child(f"{i}:Store")
            return await control.call_method(
                store,
                ua.Variant(job, ua.VariantType.String),
                ua.Variant("WATER-550", ua.VariantType.String),
                ua.Variant("L77", ua.VariantType.String),
                ua.Variant(240, ua.VariantType.UInt32),
                ua.Variant("2026-12-07", ua.VariantType.String),
                ua.Variant("", ua.VariantType.String),
                ua.Variant([], ua.VariantType.LocalizedText),
            )
        finally:
            await client.disconnect()

    try:
        status, message = asyncio.run(call("mes", "24680", "MES-9"))
        assert status == JobStatus.OK and "MES-9" in message, message
        b = batches.get(engine, "MES-9")
        assert (b.product_sku, b.lot, b.quantity, b.state) == ("WATER-550", "L77", 240, "ready")
        with pytest.raises(ua.UaError):  # a wrong PIN opens no session
            asyncio.run(call("mes", "00000", "MES-10"))
        assert "MES-10" not in {x.id for x in batches.list_all(engine)}
    finally:
        links.close()
        engine.dispose()
