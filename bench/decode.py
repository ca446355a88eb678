"""Decode time and recall per frame: our decode path against raw zxing-cpp and raw pyzbar.

Frames come from the camera simulator (drivers.camera.sim): one code centred in a 640×480 ROI,
one code in a 1280×1024 full frame, and a case top of 24 codes (4×6) — QR and Data Matrix, each
clean, rotated, blurred with sensor noise, and printed as inkjet dots. Codes are random
16-character serials. Every frame goes through the three decoders in turn (same run, same load);
a decoder's time for a frame is the best of 5 calls, and the figure is the median over frames.
Each call is timed by the wall clock (the figure and the target) and by the process's CPU time
(shown as "cpu x…": the same ratio without the time other processes took the core).

Ours is drivers.camera.decode.make_decoder(formats=[one symbology], dot_matrix= for the dot
frames) with `expected` = the codes in the frame, as the line calls it (and the same with
grade=False, to show what print grading costs). Told how many codes to expect, our first read
skips zxing-cpp's inverted and 1/3-downscaled reads and makes them only when it found fewer;
raw zxing-cpp is the plain read_barcodes call with the same format only (its defaults make
both reads on every frame). pyzbar reads QR only (no Data Matrix). Targets: ours ≤ 1.3× raw
zxing-cpp where both read the same codes (where ours reads more, it ran enhancement passes raw
zxing-cpp does not have); 24 of 24 on every clean case frame.

Dot-matrix figures (issue 19): frames from the independent generator in
tests/drivers/camera/dotgen (inkjet drops on domed, glossy caps; not drivers/camera/sim.py), on
held-out seeds (9000 on) the decoder was never tuned on (tuning used 3000–3299, tests 100–239):
single caps (640×480, 3–5 px per module) and 24-cap case tops (1280×1024, 3–4 px per module),
QR, Data Matrix square and rectangular, GS1 — decoded as `station decode` does (make_decoder(),
no expected count) and as the line does (expected = 24). Recall is codes read over codes printed,
wrong reads are texts not printed; time is one call per frame (median). Recall is also given for
the codes no specular hot spot saturated (< 5 % of their ink at full scale: the generator's
glare destroys the print under it for any reader). Targets: ≥ 95 % recall, 0 wrong, case top
≤ 250 ms median, single cap ≤ 30 ms median.
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import finish, load, parser, say

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TARGET_RATIO = 1.3
REPEAT = 5

LAYOUTS = {  # name: (codes per frame, renderer keyword arguments)
    "1@640x480": (1, {"size": (480, 640)}),
    "1@1280x1024": (1, {"size": (1024, 1280)}),
    "24@case": (24, {"rows": 4, "cols": 6}),
}
CONDITIONS = {  # name: (single-code arguments, case-top arguments)
    "clean": ({}, {}),
    "rotated": ({"rotation_deg": 23.0}, {"rotation_deg": 8.0, "jitter_deg": 10.0}),
    "blur+noise": ({"blur": 1.5, "noise": 0.05}, {"blur": 1.0, "noise": 0.03}),
    "dots": ({"dot_matrix": True}, {"dot_matrix": True, "module_px": 6}),
}


def render(layout: str, symbology: str, condition: str, texts: list[str], seed: int):
    """One simulated frame holding `texts`."""
    from drivers.camera.sim import render_code, render_layer

    n, base = LAYOUTS[layout]
    single, case = CONDITIONS[condition]
    if n == 1:
        return render_code(texts[0], symbology=symbology, seed=seed, **base, **single)
    return render_layer(texts, symbology=symbology, seed=seed, **base, **case)


def decoders(symbology: str, dots: bool, expected: int) -> dict[str, Callable | None]:
    """Ours, raw zxing-cpp and raw pyzbar as frame → set of texts."""
    import zxingcpp
    from pyzbar import pyzbar
    from pyzbar.pyzbar import ZBarSymbol

    from drivers.camera.decode import make_decoder

    ours = make_decoder([symbology], dot_matrix=dots)
    bare = make_decoder([symbology], dot_matrix=dots, grade=False)  # where our extra time goes
    fmt = zxingcpp.barcode_formats_from_str(symbology)

    def zbar(frame) -> set[str]:
        found = pyzbar.decode(frame, symbols=[ZBarSymbol.QRCODE])
        return {s.data.decode("utf-8", "replace") for s in found}

    return {
        "ours": lambda f: {c.text for c in ours.decode(f, expected)},
        "ours_nograde": lambda f: {c.text for c in bare.decode(f, expected)},
        "zxing": lambda f: {b.text for b in zxingcpp.read_barcodes(f, formats=fmt)},
        "pyzbar": zbar if symbology == "QRCode" else None,
    }


def run_case(layout: str, symbology: str, condition: str, frames: int, seed: int) -> dict:
    """Times and recall of the three decoders on `frames` frames of one case."""
    from station.codes.generate import random_serials

    n = LAYOUTS[layout][0]
    decs = decoders(symbology, condition == "dots", n)
    times: dict[str, list[float]] = {k: [] for k, v in decs.items() if v}
    cpu: dict[str, list[float]] = {k: [] for k in times}
    read: dict[str, int] = dict.fromkeys(times, 0)
    full_frames = 0
    for i in range(frames):
        texts = random_serials(ALPHABET, 16, n)
        frame = render(layout, symbology, condition, texts, seed + i)
        want = set(texts)
        best = dict.fromkeys(times, float("inf"))
        best_cpu = dict.fromkeys(times, float("inf"))
        got: dict[str, set[str]] = {}
        if i == 0:  # warm up (first-call set-up is not a per-frame cost)
            for name in times:
                decs[name](frame)
        # Rounds over the decoders in turn, best of REPEAT each: load from other processes on
        # this shared machine hits all three alike instead of whichever ran during a spike.
        # Whatever runs right after pyzbar (milliseconds of other work that flush the CPU
        # caches) is ~0.15 ms slower on a 0.4 ms frame; a fixed order put ours there every
        # round. So pyzbar runs last and the zxing-cpp readers take turns in every order, each
        # first (right after pyzbar) in at most two rounds of five.
        readers = [name for name in times if name != "pyzbar"]
        orders = list(itertools.permutations(readers))
        for turn in range(REPEAT):
            for name in [*orders[turn % len(orders)], *(["pyzbar"] if "pyzbar" in times else [])]:
                c0, t0 = time.process_time(), time.perf_counter()
                got[name] = decs[name](frame)
                t1, c1 = time.perf_counter(), time.process_time()
                best[name] = min(best[name], (t1 - t0) * 1e3)
                best_cpu[name] = min(best_cpu[name], (c1 - c0) * 1e3)
        for name in times:
            times[name].append(best[name])
            cpu[name].append(best_cpu[name])
            read[name] += len(got[name] & want)
        if want <= got["ours"]:
            full_frames += 1
    row: dict = {
        "case": f"{symbology} {layout} {condition}",
        "codes_per_frame": n,
        "frames": frames,
        "load": load(),
        "all_read_frames": full_frames,
    }
    for name in times:
        row[f"{name}_ms"] = round(statistics.median(times[name]), 3)
        row[f"{name}_cpu_ms"] = round(statistics.median(cpu[name]), 3)
        row[f"{name}_recall"] = round(read[name] / (n * frames), 3)
    zxing, zxing_cpu = statistics.median(times["zxing"]), statistics.median(cpu["zxing"])
    row["ratio"] = round(statistics.median(times["ours"]) / zxing, 2)
    row["ratio_nograde"] = round(statistics.median(times["ours_nograde"]) / zxing, 2)
    row["ratio_cpu"] = round(statistics.median(cpu["ours"]) / zxing_cpu, 2)
    return row


def show(row: dict) -> None:
    """One printed line per case."""
    zbar = (
        f"pyzbar {row['pyzbar_ms']:7.2f} ms {row['pyzbar_recall']:6.1%}"
        if "pyzbar_ms" in row
        else "pyzbar      n/a (no Data Matrix)"
    )
    say(
        f"{row['case']:<36} ours {row['ours_ms']:7.2f} ms {row['ours_recall']:6.1%}  "
        f"zxing {row['zxing_ms']:7.2f} ms {row['zxing_recall']:6.1%}  {zbar}  "
        f"x{row['ratio']:.2f} (grade off {row['ours_nograde_ms']:.2f} ms "
        f"x{row['ratio_nograde']:.2f}; cpu x{row['ratio_cpu']:.2f})  load {row['load']}"
    )


DOT_SEED = 9000
SATURATED = 0.05  # a code with this share of its ink at full scale lost modules to glare
DOT_TARGETS = {"recall": 0.95, "case_ms": 250.0, "single_ms": 30.0}


def dot_matrix(singles: int, cases: int) -> dict:
    """Recall, wrong reads and time of the dot-matrix path on held-out independent frames."""
    from drivers.camera.decode import make_decoder
    from tests.drivers.camera.dotgen import case_top, single_cap

    dec = make_decoder()
    out: dict = {"load": load()}
    sets = {
        "single": ([single_cap(DOT_SEED + i) for i in range(singles)], None),
        "case": ([case_top(DOT_SEED + i) for i in range(cases)], None),
        "case_expected": ([case_top(DOT_SEED + i) for i in range(cases)], 24),
    }
    dec.decode(sets["single"][0][0][0])  # warm up zxing-cpp
    dec.decode(case_top(DOT_SEED - 1)[0])  # and the case-top path
    for name, (frames, expected) in sets.items():
        printed = read = wrong = clear = clear_read = 0
        times, kinds = [], {}
        for frame, truths in frames:
            t0 = time.perf_counter()
            got = {c.text for c in dec.decode(frame, expected)}
            times.append((time.perf_counter() - t0) * 1e3)
            want = {t.text for t in truths}
            printed += len(want)
            read += len(got & want)
            wrong += len(got - want)
            for t in truths:
                if t.saturated < SATURATED:
                    clear += 1
                    clear_read += t.text in got
                hit = kinds.setdefault(t.kind, [0, 0])
                hit[0] += t.text in got
                hit[1] += 1
        out[name] = {
            "frames": len(frames),
            "codes": printed,
            "recall": round(read / max(1, printed), 3),
            "wrong": wrong,
            "unsaturated_codes": clear,
            "unsaturated_recall": round(clear_read / max(1, clear), 3),
            "median_ms": round(statistics.median(times), 1),
            "max_ms": round(max(times), 1),
            "by_kind": {k: f"{a}/{b}" for k, (a, b) in sorted(kinds.items())},
        }
        r = out[name]
        say(
            f"dots {name:<14} recall {r['recall']:6.1%} ({r['codes']} codes; "
            f"{r['unsaturated_recall']:6.1%} of {r['unsaturated_codes']} under no hot spot) "
            f"wrong {r['wrong']}  "
            f"median {r['median_ms']:7.1f} ms  max {r['max_ms']:7.1f} ms  {r['by_kind']}  "
            f"load {load()}"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """Every case; a line each and one JSON line."""
    args = parser(__doc__).parse_args(argv)
    frames = 3 if args.quick else 10
    dots = dot_matrix(12 if args.quick else 60, 2 if args.quick else 8)
    rows = []
    seed = 100
    for layout in LAYOUTS:
        for symbology in ("QRCode", "DataMatrix"):
            for condition in CONDITIONS:
                row = run_case(layout, symbology, condition, frames, seed)
                seed += frames
                rows.append(row)
                show(row)
    same = [r for r in rows if r["ours_recall"] <= r["zxing_recall"]]
    worst = max(same, key=lambda r: r["ratio"])
    clean_case = [r for r in rows if r["codes_per_frame"] == 24 and "clean" in r["case"]]
    say(f"worst ours/zxing where both read the same: x{worst['ratio']:.2f} ({worst['case']})")
    return finish(
        {
            "bench": "decode",
            "quick": args.quick,
            "frames_per_case": frames,
            "cases": rows,
            "worst_ratio": worst["ratio"],
            "worst_ratio_case": worst["case"],
            "dot_matrix": dots,
            "targets": {
                "dots_recall>=95%": min(dots[k]["recall"] for k in ("single", "case"))
                >= DOT_TARGETS["recall"],
                "dots_0_wrong": all(dots[k]["wrong"] == 0 for k in dots if k != "load"),
                "dots_case<=250ms": dots["case"]["median_ms"] <= DOT_TARGETS["case_ms"],
                "dots_single<=30ms": dots["single"]["median_ms"] <= DOT_TARGETS["single_ms"],
                f"ours<={TARGET_RATIO}x_zxing": worst["ratio"] <= TARGET_RATIO,
                "24/24_every_clean_case_frame": all(
                    r["all_read_frames"] == r["frames"] for r in clean_case
                ),
            },
        }
    )


if __name__ == "__main__":
    sys.exit(main())
