"""Checkweighing verdicts: zones on a worked example, edges, bad input, and properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregation.weight import (
    REASON,
    Decision,
    Tolerances,
    WeightConfigError,
    WeightSpec,
    Zone,
    band_problems,
    check_weight,
    expected_weight,
)

# A case of 24 bottles of 550 g in a 400 g carton: 13 600 g. T1 150 g warns, T2 300 g rejects,
# 300 g over rejects (one bottle is 550 g, so a missing or extra bottle is always caught).
CASE = {"tare_g": 400.0, "children": 24, "nominal_g": 550.0}
BAND = Tolerances(t1=150.0, t2=300.0)


@pytest.mark.parametrize(
    ("measured", "zone", "decision"),
    [
        (13_600.0, Zone.GOOD, Decision.ACCEPT),
        (13_450.0, Zone.GOOD, Decision.ACCEPT),  # exactly on T1: the better zone (OIML)
        (13_449.9, Zone.T2_T1, Decision.WARN),
        (13_300.0, Zone.T2_T1, Decision.WARN),  # exactly on T2
        (13_299.9, Zone.UNDER_T2, Decision.REJECT),
        (13_050.0, Zone.UNDER_T2, Decision.REJECT),  # one bottle missing
        (13_900.0, Zone.GOOD, Decision.ACCEPT),  # exactly on the upper limit
        (13_900.1, Zone.OVER, Decision.REJECT),
        (14_150.0, Zone.OVER, Decision.REJECT),  # one bottle too many
    ],
)
def test_zones_of_a_case(measured: float, zone: Zone, decision: Decision) -> None:
    verdict = check_weight(measured, tolerances=BAND, **CASE)
    assert (verdict.zone, verdict.decision) == (zone, decision)
    assert verdict.expected_g == 13_600.0
    assert verdict.deviation_g == pytest.approx(measured - 13_600.0)
    assert verdict.reason == ("" if decision is Decision.ACCEPT else REASON)


def test_missing_bottle_verdict_carries_the_figures() -> None:
    verdict = check_weight(13_050.0, tolerances=BAND, **CASE)
    assert not verdict.passed
    assert verdict.reason == "weight"
    assert verdict.limits.t2_g == 13_300.0 and verdict.limits.t1_g == 13_450.0
    assert verdict.deviation_pct == pytest.approx(-550 / 136)
    text = verdict.describe()
    assert "13050.0 g" in text and "13600.0 g" in text and "-550.0 g" in text
    assert "below T2 13300.0 g" in text


def test_percent_band_follows_a_partial_case() -> None:
    band = Tolerances(t1=0.5, t2=1.0, upper=1.5, percent=True)
    full = check_weight(13_600.0, tolerances=band, **CASE)
    assert full.limits.t2_g == pytest.approx(13_464.0)
    assert full.limits.upper_g == pytest.approx(13_804.0)
    partial = check_weight(3_700.0, tare_g=400.0, children=6, nominal_g=550.0, tolerances=band)
    assert partial.expected_g == 3_700.0
    assert partial.limits.t1_g == pytest.approx(3_681.5)


def test_warn_passes_but_names_the_reason() -> None:
    verdict = check_weight(13_400.0, tolerances=BAND, **CASE)
    assert verdict.passed and verdict.decision is Decision.WARN
    assert verdict.reason == REASON


def test_empty_container_expects_the_tare() -> None:
    verdict = check_weight(400.0, tare_g=400.0, children=0, nominal_g=550.0, tolerances=BAND)
    assert verdict.decision is Decision.ACCEPT and verdict.deviation_pct == 0.0


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"tare_g": -1.0}, "tare_g"),
        ({"tare_g": math.nan}, "tare_g"),
        ({"children": -1}, "children"),
        ({"children": 2.5}, "children"),
        ({"children": True}, "children"),
        ({"nominal_g": 0.0}, "nominal_g"),
        ({"nominal_g": math.inf}, "nominal_g"),
    ],
)
def test_bad_inputs_name_the_field(kwargs: dict, named: str) -> None:
    with pytest.raises(WeightConfigError, match=named):
        check_weight(100.0, tolerances=BAND, **{**CASE, **kwargs})


def test_a_missing_reading_is_refused() -> None:
    with pytest.raises(WeightConfigError, match="measured_g"):
        check_weight(math.nan, tolerances=BAND, **CASE)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"t1": -1.0, "t2": 5.0}, "t1"),
        ({"t1": 5.0, "t2": 1.0}, "swap"),
        ({"t1": 1.0, "t2": 2.0, "upper": math.nan}, "upper"),
    ],
)
def test_bad_tolerances_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(WeightConfigError, match=match):
        Tolerances(**kwargs)


def test_band_problems_catch_a_band_wider_than_one_bottle() -> None:
    assert band_problems(tare_g=400, capacity=24, nominal_g=550, tolerances=BAND) == []
    wide = Tolerances(t1=2.0, t2=5.0, upper=1.0, percent=True)  # 5 % of 13.6 kg = 680 g
    problems = band_problems(tare_g=400, capacity=24, nominal_g=550, tolerances=wide)
    assert len(problems) == 1 and "missing child would pass" in problems[0]
    over = Tolerances(t1=100, t2=200, upper=600)
    assert (
        "extra child" in band_problems(tare_g=400, capacity=24, nominal_g=550, tolerances=over)[0]
    )


def test_a_level_spec_grades_full_and_partial_cases() -> None:
    spec = WeightSpec(tare_g=400, nominal_g=550, tolerances=BAND)
    assert spec.check(13_600, children=24).decision is Decision.ACCEPT
    assert spec.check(3_150, children=6).zone is Zone.UNDER_T2  # a partial case, one short
    assert spec.problems(capacity=24) == []
    with pytest.raises(WeightConfigError, match="nominal_g"):
        WeightSpec(tare_g=400, nominal_g=0, tolerances=BAND)


# Properties ------------------------------------------------------------------------------

grams = st.floats(min_value=0.0, max_value=50_000.0, allow_nan=False)
nominals = st.floats(min_value=1.0, max_value=5_000.0, allow_nan=False)
counts = st.integers(min_value=0, max_value=200)
ORDER = [Zone.UNDER_T2, Zone.T2_T1, Zone.GOOD, Zone.OVER]


@st.composite
def bands(draw: st.DrawFn) -> Tolerances:
    """Gram or percent bands with t1 ≤ t2."""
    percent = draw(st.booleans())
    top = 10.0 if percent else 2_000.0
    t1 = draw(st.floats(min_value=0.0, max_value=top))
    t2 = draw(st.floats(min_value=t1, max_value=top))
    upper = draw(st.none() | st.floats(min_value=0.0, max_value=top))
    return Tolerances(t1=t1, t2=t2, upper=upper, percent=percent)


@given(tare=grams, children=counts, nominal=nominals, band=bands(), a=grams, b=grams)
@settings(max_examples=300)
def test_heavier_never_moves_to_a_lower_zone(tare, children, nominal, band, a, b) -> None:
    low, high = sorted((a, b))
    kw = {"tare_g": tare, "children": children, "nominal_g": nominal, "tolerances": band}
    assert ORDER.index(check_weight(low, **kw).zone) <= ORDER.index(check_weight(high, **kw).zone)


@given(tare=grams, children=counts, nominal=nominals, band=bands())
def test_the_expected_weight_is_always_accepted(tare, children, nominal, band) -> None:
    expected = expected_weight(tare, children, nominal)
    verdict = check_weight(
        expected, tare_g=tare, children=children, nominal_g=nominal, tolerances=band
    )
    assert verdict.decision is Decision.ACCEPT and verdict.reason == ""
    assert verdict.deviation_g == 0.0


@given(tare=grams, children=st.integers(1, 200), nominal=nominals, band=bands())
def test_a_sound_band_rejects_one_missing_and_one_extra(tare, children, nominal, band) -> None:
    if band_problems(tare_g=tare, capacity=children, nominal_g=nominal, tolerances=band):
        return
    kw = {"tare_g": tare, "children": children, "nominal_g": nominal, "tolerances": band}
    short = check_weight(expected_weight(tare, children - 1, nominal), **kw)
    extra = check_weight(expected_weight(tare, children + 1, nominal), **kw)
    assert (short.zone, short.reason) == (Zone.UNDER_T2, "weight")
    assert (extra.zone, extra.reason) == (Zone.OVER, "weight")


@given(measured=grams, tare=grams, children=counts, nominal=nominals, band=bands())
def test_figures_and_decision_agree(measured, tare, children, nominal, band) -> None:
    v = check_weight(measured, tare_g=tare, children=children, nominal_g=nominal, tolerances=band)
    assert v.measured_g == measured
    assert v.deviation_g == measured - v.expected_g
    assert v.limits.t2_g <= v.limits.t1_g <= v.expected_g <= v.limits.upper_g
    assert v.passed == (v.zone in (Zone.T2_T1, Zone.GOOD))
    assert (v.reason == REASON) == (v.decision is not Decision.ACCEPT)
