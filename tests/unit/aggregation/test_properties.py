"""Hypothesis: whatever the levels, items, crashes and rework, the hierarchy stays sound."""

from __future__ import annotations

import itertools
import math
from collections import Counter

from aggregation_helpers import CodeStore
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from aggregation.errors import ReworkRefused
from aggregation.levels import Hierarchy, Level
from aggregation.packer import ContainerClosed, Linked, Packer, PackEvent
from aggregation.rework import Link, SetState, plan_aggregate, plan_replace, plan_unpack
from aggregation.rules import check_link

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STATES = ("available", "reserved", "printed", "verified", "rejected", "decommissioned", "void")


@st.composite
def hierarchies(draw: st.DrawFn) -> Hierarchy:
    """outer (with or without inner) under 1 to 3 container levels of capacity 1..5."""
    containers = draw(st.lists(st.sampled_from(("box", "case", "pallet")), min_size=1, unique=True))
    levels = [Level("inner")] if draw(st.booleans()) else []
    levels.append(Level("outer"))
    for name in ("box", "case", "pallet"):
        if name in containers:
            levels.append(Level(name, draw(st.integers(1, 5))))
    return Hierarchy(levels)


def pack(h: Hierarchy, n: int, cuts: set[int]) -> list[PackEvent]:
    """Pack n items, crashing and resuming (snapshot → fresh packer) before each cut."""
    counter = itertools.count()
    source = lambda level: f"{level}#{next(counter)}"  # noqa: E731
    packer = Packer(h, source)
    events: list[PackEvent] = []
    for i in range(n):
        if i in cuts:
            snapshot = packer.open_containers()
            packer = Packer(h, source)
            events += packer.restore(snapshot)
        events += packer.add(f"item{i}")
    return events + packer.close_partial()


@FAST
@given(h=hierarchies(), n=st.integers(0, 80), cuts=st.sets(st.integers(0, 80), max_size=4))
def test_packer_invariants(h: Hierarchy, n: int, cuts: set[int]) -> None:
    events = pack(h, n, cuts)
    assert events == pack(h, n, set())  # resuming never changes the outcome
    store = CodeStore()
    for i in range(n):
        store.add(f"item{i}", "outer")
    store.apply_events(events)  # asserts no child is linked twice
    assert store.problems(h) == []  # one parent, adjacent levels, capacity, no cycles

    closes = [e for e in events if isinstance(e, ContainerClosed)]
    assert len({c.code for c in closes}) == len(closes)  # each container closes once
    levels = h.container_levels
    by_level = {lv.name: [c for c in closes if c.level == lv.name] for lv in levels}
    assert sum(len(c.children) for c in by_level[levels[0].name]) == n
    expected = n
    for lv in levels:
        got = by_level[lv.name]
        expected = math.ceil(expected / lv.capacity)
        assert len(got) == expected
        # Only the last container of a level may be partial, and only if the count says so.
        assert [c.partial for c in got] == [len(c.children) < lv.capacity for c in got]
        assert not any(c.partial for c in got[:-1])
    for i in range(n):  # every item is in exactly one container of the lowest level
        assert store.codes[f"item{i}"].parent is not None
    linked = Counter(e.child for e in events if isinstance(e, Linked))
    assert all(v == 1 for v in linked.values())


# Mostly verified codes of one batch, so most links are possible and the rules get exercised.
STATE_ST = st.sampled_from(("verified",) * 12 + STATES)
BATCH_ST = st.sampled_from(("B1",) * 6 + ("B2",))
PRODUCT_ST = st.sampled_from(("P1",) * 6 + ("P2",))


@st.composite
def stores(draw: st.DrawFn, h: Hierarchy) -> tuple[CodeStore, list[str]]:
    """A packed run of 0..30 items, then 2..24 loose codes (a few on unused levels)."""
    store, names = CodeStore(), []
    n = draw(st.integers(0, 30))
    for i in range(n):
        store.add(f"item{i}", "outer")
    store.apply_events(pack(h, n, set()))
    names += store.codes
    level_st = st.sampled_from(h.names * 4 + ("inner", "outer", "box", "case", "pallet"))
    for i in range(draw(st.integers(2, 24))):
        level = draw(level_st)
        mixed = level in ("box", "case", "pallet") and draw(st.integers(0, 5)) == 0
        names.append(f"{level}{i}")
        store.add(names[-1], level, draw(STATE_ST), draw(BATCH_ST), draw(PRODUCT_ST), mixed=mixed)
    return store, names


actions_st = st.lists(
    st.tuples(
        st.sampled_from(("link",) * 3 + ("unpack", "replace", "aggregate")),
        st.integers(0, 10**6),
        st.lists(st.integers(0, 10**6), min_size=1, max_size=4),
        st.booleans(),
        st.booleans(),
    ),
    min_size=8,
    max_size=30,
)


@FAST
@given(data=st.data(), h=hierarchies(), actions=actions_st)
def test_rules_and_rework_keep_the_hierarchy_sound(
    data: st.DataObject, h: Hierarchy, actions: list
) -> None:
    store, names = data.draw(stores(h))
    pick = lambda k: names[k % len(names)]  # noqa: E731

    def below(parent: str, k: int) -> str:
        """A code one level below parent, free (verified, loose) for even k, so links can work."""
        level = store.codes[parent].level
        under = h.child_of(level) if level in h else None
        pool = [c for c in names if under and store.codes[c].level == under.name] or names
        if k % 2 == 0:
            pool = [c for c in pool if store.codes[c].state == "verified"] or pool
        return pool[(k // 2) % len(pool)]

    def container(k: int) -> str:
        """Any code for odd k; else a code of a level that has children on this line."""
        if k % 2:
            return pick(k)
        pool = [c for c in names if store.codes[c].level in h and h.child_of(store.codes[c].level)]
        return (pool or names)[(k // 2) % len(pool or names)]

    for kind, a, bs, flag1, flag2 in actions:
        try:
            if kind == "link":
                parent = container(a)
                child = below(parent, bs[0]) if bs else pick(a + 1)
                p, c = store.codes[parent], store.codes[child]
                count = len(store.children_of(parent))
                bad = check_link(p, c, hierarchy=h, lookup=store.lookup, children_count=count)
                if bad:
                    raise ReworkRefused(bad)
                store.apply_ops([Link(parent, child), SetState(child, "linked")])
            elif kind == "unpack":
                store.apply_ops(plan_unpack(pick(a), store.lookup, store.children_of, retire=flag1))
            elif kind == "replace":
                linked = [c for c in names if store.codes[c].parent] or names
                old = linked[a % len(linked)]
                new = below(store.codes[old].parent or old, bs[0] if bs else a)
                store.apply_ops(plan_replace(old, new, store.lookup, hierarchy=h))
            else:
                parent = container(a)
                ops = plan_aggregate(
                    parent,
                    [below(parent, 2 * (bs[0] + j) if a % 3 else b) for j, b in enumerate(bs)],
                    hierarchy=h,
                    lookup=store.lookup,
                    children_of=store.children_of,
                    mixed=flag1,
                    partial=flag2,
                )
                store.apply_ops(ops)
            event(f"{kind} applied")
        except ReworkRefused as refused:
            event(f"{kind} refused: {refused.violations[0].reason}")  # refused plans change nothing
        assert store.problems(h) == [], (kind, a, bs)
        for info in store.codes.values():  # nothing dead was ever packed or packed into
            if info.parent is not None:
                assert store.codes[info.parent].state not in ("rejected", "void")
