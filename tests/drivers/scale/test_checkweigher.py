"""The MT-SICS driver against SimScale over a real TCP socket (and a pty for the serial path)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aggregation.weight import Decision, Tolerances, check_weight
from drivers.errors import (
    DeviceFault,
    DriverConnectionError,
    DriverProtocolError,
    DriverTimeout,
)
from drivers.scale import (
    Checkweigher,
    ScaleBusy,
    ScaleOverload,
    ScaleUnderload,
    open_checkweigher,
)
from drivers.scale.mtsics import MtSicsScale
from drivers.scale.sim import SimScale

# Generous: the machine is shared; nothing here asserts how fast anything is.
ANSWER_S = 5.0
STABLE_S = 20.0


@pytest.fixture
def sim() -> Iterator[SimScale]:
    with SimScale(settle_s=0.05, stable_timeout_s=0.5, capacity_g=30_000) as sim:
        yield sim


@pytest.fixture
def scale(sim: SimScale) -> Iterator[MtSicsScale]:
    scale = open_checkweigher(
        sim.url, name="case-scale", timeout_s=ANSWER_S, stable_timeout_s=STABLE_S
    )
    assert isinstance(scale, MtSicsScale)
    with scale:
        yield scale


def test_is_a_checkweigher(scale: MtSicsScale) -> None:
    assert isinstance(scale, Checkweigher)


def test_serial_number_and_cancel(scale: MtSicsScale, sim: SimScale) -> None:
    assert scale.serial_number() == "SIM0000001"
    assert scale.cancel() == "SIM0000001"
    assert sim.commands() == ["I4", "@"]


def test_stable_weight_of_a_full_case(scale: MtSicsScale, sim: SimScale) -> None:
    sim.place(13_600)
    weight = scale.weigh()
    assert (weight.grams, weight.stable, weight.unit) == (13_600.0, True, "g")
    assert weight.raw == b"S S      13600 g\r\n"


def test_a_missing_bottle_is_rejected_for_weight(scale: MtSicsScale, sim: SimScale) -> None:
    """The whole path: the world puts a case short of one bottle on the scale; reject."""
    sim.place(400 + 23 * 550)
    weight = scale.weigh()
    verdict = check_weight(
        weight.grams,
        tare_g=400,
        children=24,
        nominal_g=550,
        tolerances=Tolerances(t1=150, t2=300),
    )
    assert verdict.decision is Decision.REJECT and verdict.reason == "weight"
    assert (verdict.measured_g, verdict.expected_g, verdict.deviation_g) == (
        13_050.0,
        13_600.0,
        -550.0,
    )


def test_weigh_now_reports_a_dynamic_reading() -> None:
    with SimScale(settle_s=3600) as sim, open_checkweigher(sim.url, timeout_s=ANSWER_S) as scale:
        sim.place(13_600)
        weight = scale.weigh_now()
        assert weight.stable is False
        assert weight.raw.startswith(b"S D ")


def test_weigh_asks_again_until_the_load_settles() -> None:
    """The scale gives up after 0.1 s ('S I'); the driver asks again until the case settles."""
    with (
        SimScale(settle_s=1.5, stable_timeout_s=0.1) as sim,
        open_checkweigher(sim.url, timeout_s=ANSWER_S, stable_timeout_s=STABLE_S) as scale,
    ):
        sim.place(9_000)
        weight = scale.weigh()
        assert (weight.grams, weight.stable) == (9_000.0, True)
        assert sim.commands().count("S") >= 2


def test_noise_stays_within_the_band_and_on_the_division() -> None:
    with (
        SimScale(settle_s=0.0, noise_g=2.0, division_g=0.5, seed=7) as sim,
        open_checkweigher(sim.url, timeout_s=ANSWER_S, stable_timeout_s=STABLE_S) as scale,
    ):
        sim.place(13_600)
        grams = [scale.weigh().grams for _ in range(30)]
    assert all(abs(g - 13_600) <= 12 for g in grams)  # 6 σ
    assert all((g * 2).is_integer() for g in grams)
    assert len(set(grams)) > 1


def test_tare_then_net(scale: MtSicsScale, sim: SimScale) -> None:
    sim.place(400)
    assert scale.tare().grams == 400.0
    sim.place(13_600)
    assert scale.weigh().grams == 13_200.0


def test_zero_and_its_range(scale: MtSicsScale, sim: SimScale) -> None:
    sim.place(5)
    scale.zero()
    assert scale.weigh().grams == 0.0
    sim.place(5_000)  # beyond ±2 % of 30 kg
    with pytest.raises(ScaleOverload, match="Z: above the range"):
        scale.zero()


def test_overload_and_underload(scale: MtSicsScale, sim: SimScale) -> None:
    sim.place(31_000)
    with pytest.raises(ScaleOverload) as caught:
        scale.weigh()
    assert (caught.value.device, caught.value.port) == ("case-scale", sim.url)
    assert "take the load off" in str(caught.value)
    sim.place(100)
    sim.force_range("-")
    with pytest.raises(ScaleUnderload):
        scale.weigh_now()
    sim.force_range("")
    assert scale.weigh().grams == 100.0


def test_busy_scale(scale: MtSicsScale, sim: SimScale) -> None:
    sim.busy()
    with pytest.raises(DriverTimeout, match="'S I' or"):
        scale.weigh(timeout_s=0.3)
    with pytest.raises(ScaleBusy, match="T: not executable"):
        scale.tare()
    sim.busy(False)
    assert scale.weigh().stable


def test_a_vibrating_scale_times_out_then_recovers(scale: MtSicsScale, sim: SimScale) -> None:
    sim.place(2_000)
    sim.vibrate()
    with pytest.raises(DriverTimeout, match="no stable weight") as caught:
        scale.weigh(timeout_s=0.3)
    assert "stand still" in caught.value.hint
    assert scale.weigh_now().stable is False
    sim.vibrate(False)
    assert scale.weigh().grams == 2_000.0


def test_a_late_answer_is_never_taken_for_the_next() -> None:
    """S times out on our side while the scale still waits; @ cancels it before SI goes out."""
    with (
        SimScale(settle_s=3600, stable_timeout_s=3600) as sim,
        open_checkweigher(sim.url, timeout_s=ANSWER_S) as scale,
    ):
        sim.place(1_000)
        with pytest.raises(DriverTimeout):
            scale.weigh(timeout_s=0.2)
        sim.place(2_000)
        weight = scale.weigh_now()
        assert weight.stable is False  # the SI answer, not the S one
        assert sim.commands() == ["S", "@", "SI"]


def test_a_silent_scale_then_back(scale: MtSicsScale, sim: SimScale) -> None:
    sim.silence()
    scale.timeout_s = 0.3  # how long to wait for silence, not how fast the scale must be
    with pytest.raises(DriverTimeout, match="no answer to 'SI'") as caught:
        scale.weigh_now()
    assert "MT-SICS" in caught.value.hint
    scale.timeout_s = ANSWER_S
    sim.silence(False)
    sim.place(700)
    assert scale.weigh().grams == 700.0
    assert sim.commands()[-2:] == ["@", "S"]


@pytest.mark.parametrize(
    ("code", "error", "words"),
    [
        ("ET", DriverProtocolError, "baud rate"),
        ("ES", DriverProtocolError, "MT-SICS"),
        ("EL", DeviceFault, "present state"),
    ],
)
def test_general_errors(scale: MtSicsScale, sim: SimScale, code, error, words) -> None:
    sim.error_next(code)
    with pytest.raises(error, match=code) as caught:
        scale.weigh_now()
    assert words in caught.value.hint
    sim.place(10)
    assert scale.weigh().grams == 10.0


def test_kilogram_scale_reports_grams() -> None:
    with (
        SimScale(unit="kg", division_g=5, settle_s=0.0) as sim,
        open_checkweigher(sim.url, timeout_s=ANSWER_S, stable_timeout_s=STABLE_S) as scale,
    ):
        sim.place(13_605)
        weight = scale.weigh()
        assert (weight.value, weight.unit, weight.grams) == (13.605, "kg", pytest.approx(13_605))


def test_reconnects_after_the_scale_drops(scale: MtSicsScale, sim: SimScale) -> None:
    sim.place(1_234)
    assert scale.weigh().grams == 1_234.0
    sim.drop()
    try:
        weight = scale.weigh()
    except DriverConnectionError as exc:
        assert "next call reconnects" in str(exc)
        weight = scale.weigh()
    assert weight.grams == 1_234.0
    assert scale.connects == 2


def test_serial_port_path() -> None:
    """pyserial on a pty, as on a USB RS-232 adapter."""
    with (
        SimScale(transport="pty", settle_s=0.0) as sim,
        open_checkweigher(sim.url, timeout_s=ANSWER_S, stable_timeout_s=STABLE_S) as scale,
    ):
        sim.place(550)
        assert scale.weigh().grams == 550.0
        assert scale.serial_number() == "SIM0000001"


def test_cannot_connect_names_device_and_port() -> None:
    with SimScale() as sim:
        url = sim.url
    scale = open_checkweigher(url, name="case-scale", timeout_s=ANSWER_S)
    with pytest.raises(DriverConnectionError, match="case-scale at tcp://") as caught:
        scale.connect()
    assert "URL right" in caught.value.hint
    scale.close()


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (b"S S  1\x0700 g\r\n", "control character"),
        (b"S S      12 PCS\r\n", "unit 1 to g or kg"),
        (b"S S  " + b"9" * 300 + b"\r\n", "longer than"),
    ],
)
def test_a_garbled_answer_then_recovery(scale: MtSicsScale, sim: SimScale, answer, words) -> None:
    sim.place(321)
    sim.answer_next(answer)
    with pytest.raises(DriverProtocolError, match="case-scale") as caught:
        scale.weigh()
    assert words in str(caught.value)
    assert scale.weigh().grams == 321.0
    assert sim.commands()[-2:] == ["@", "S"] or sim.commands()[-1] == "S"


def test_weigh_does_not_take_a_dynamic_answer_to_s(scale: MtSicsScale, sim: SimScale) -> None:
    """A SICS-compatible indicator answering S with 'S D' is asked again, not believed."""
    sim.place(800)
    sim.answer_next(b"S D        795 g\r\n")
    weight = scale.weigh()
    assert (weight.grams, weight.stable) == (800.0, True)
    assert sim.commands().count("S") == 2
