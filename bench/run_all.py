"""Run every bench/*.py, collect each one's last JSON line, rewrite the README benchmark table.

`make bench` runs this (full size); `--quick` passes --quick to each. Output streams as the
benchmarks print it. The table goes between `<!-- bench:start -->` and `<!-- bench:end -->` in
README.md (markers added under "## Benchmarks" at the end when absent); nothing else there is
touched. Exit 0 when every benchmark produced its JSON line (targets missed are in the table).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, load, machine, parser, say

BENCH = Path(__file__).resolve().parent
README = ROOT / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
TIMEOUT_S = 300  # per benchmark; `make bench` as a whole stays under 10 minutes


def scripts(only: list[str]) -> list[Path]:
    """The benchmarks: every bench/*.py but this one and the _private helpers."""
    found = sorted(
        p
        for p in BENCH.glob("*.py")
        if not p.name.startswith("_") and p != Path(__file__).resolve()
    )
    return [p for p in found if not only or p.stem in only]


def run(path: Path, quick: bool) -> tuple[dict | None, float, str]:
    """Run one benchmark, echoing its output; its last JSON line (or None), wall time, load."""
    cmd = [sys.executable, str(path), *(["--quick"] if quick else [])]
    say(f"== {path.name}{' --quick' if quick else ''}  (load {load()})")
    t0 = time.monotonic()
    before = load()
    last: dict | None = None
    with subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        watchdog = threading.Timer(TIMEOUT_S, proc.kill)  # a silent hang ends too
        watchdog.start()
        try:
            for line in proc.stdout:
                text = line.rstrip("\n")
                if text.startswith("{"):
                    try:
                        last = json.loads(text)
                        say(f"   (JSON line, {len(text)} characters)")
                        continue
                    except json.JSONDecodeError:
                        pass
                say(f"   {text}")
        finally:
            watchdog.cancel()
            proc.wait(timeout=30)
    wall = time.monotonic() - t0
    loads = f"{before} → {load()}"
    if wall >= TIMEOUT_S:
        say(f"   stopped after {TIMEOUT_S} s")
        return None, wall, loads
    return last, wall, loads


def _ok(targets: dict) -> str:
    return ", ".join(f"{k} {'✓' if v else '✗'}" for k, v in targets.items())


def figure(r: dict) -> str:
    """The headline figures of one benchmark's JSON, for a table cell."""
    b = r.get("bench")
    if b == "codes_import":
        return (
            f"{r['lines']:,} codes imported in {r['import_s']} s (floor {r['floor_s']} s = "
            f"{r['floor_how']}; {r['x_floor']}× floor; start-up {r.get('startup_s')} s; "
            f"load {r['import_load']}); duplicate at line {r['lines'] // 2:,}: nothing imported, "
            f"line named {'yes' if r['duplicate_named'] else 'NO'}; generate {r['lines']:,} in "
            f"{r['generate_s']} s; import CPU {r.get('import_cpu_s')} s, "
            f"floor CPU {r.get('floor_cpu_s')} s"
        )
    if b == "decode":
        cases = {c["case"]: c for c in r["cases"]}
        shown = [
            k
            for k in (
                "QRCode 1@640x480 clean",
                "QRCode 1@1280x1024 clean",
                "QRCode 24@case clean",
                "DataMatrix 24@case clean",
                "QRCode 1@640x480 dots",
            )
            if k in cases
        ]
        parts = [
            f"{k}: ours {cases[k]['ours_ms']} (grade off {cases[k].get('ours_nograde_ms')}) / "
            f"zxing {cases[k]['zxing_ms']} / pyzbar "
            f"{cases[k].get('pyzbar_ms', 'n/a')} ms, recall {cases[k]['ours_recall']:.0%} / "
            f"{cases[k]['zxing_recall']:.0%}"
            for k in shown
        ]
        low = [c["case"] for c in r["cases"] if c["ours_recall"] < 1]
        return (
            f"median ms per frame, {r['frames_per_case']} frames per case; "
            + "; ".join(parts)
            + f"; worst ours/zxing {r['worst_ratio']}× ({r['worst_ratio_case']}); "
            + f"ours below 100 % recall: {', '.join(low) or 'none'}"
        )
    if b == "durability":
        full, off = r["runs"]
        return (
            f"{full['items']} items at {full['rate_set_per_min']}/min: "
            f"FULL {full['items_per_min']}/min late {full['late']}, "
            f"OFF {off['items_per_min']}/min late {off['late']}; commit time "
            f"{full['commit_ms_per_item']} vs {off['commit_ms_per_item']} ms/item (flush p50 "
            f"{full['flush_ms_p50']} vs {off['flush_ms_p50']} ms); load {full['load']}"
        )
    if b == "line_rate":
        return (
            f"best {r['best_rate_per_min']:,} items/min with 0 late, 0 unprinted, 0 mismatches, "
            f"p99 "
            f"{r.get('p99_ms_at_best')} ms at best; tried "
            + ", ".join(f"{x['rate_per_min']}{'' if x['ok'] else ' ✗'}" for x in r.get("runs", []))
        )
    if b == "export":
        return (
            f"{r['items']:,} items → {r['document_mb']} MB EPCIS 2.0 JSON-LD in {r['seconds']} s, "
            f"peak RSS {r['peak_rss_mb']} MB"
        )
    skip = {"bench", "quick", "targets", "machine"}
    return ", ".join(
        f"{k} {v}" for k, v in r.items() if k not in skip and not isinstance(v, dict | list)
    )


def table(results: list[tuple[str, dict | None, float, str]], quick: bool) -> str:
    """The markdown between the markers."""
    rows = [
        "| benchmark | figure | target | load average (start → end) |",
        "| --- | --- | --- | --- |",
    ]
    for name, r, wall, loads in results:
        label = f"{name}{' (quick)' if quick else ''}"
        if r is None:
            cells = f"no result (failed or timed out after {wall:.0f} s) | ✗"
        else:
            cells = f"{figure(r)} | {_ok(r.get('targets', {}))}"
        rows.append(f"| {label} | {cells} | {loads} |")
    m = machine()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows.append("")
    rows.append(
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; {when}; load average "
        f"{load()} at the end (shared machine, other work running)."
    )
    return "\n".join(rows)


def rewrite_readme(body: str) -> None:
    """Replace what is between the markers (adding them at the end when absent)."""
    text = README.read_text(encoding="utf-8")
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = f"{head}{START}\n{body}\n{END}{tail}"
    else:
        text = text.rstrip("\n") + f"\n\n## Benchmarks\n\n{START}\n{body}\n{END}\n"
    README.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Every benchmark in turn, then the table."""
    ap = parser(__doc__)
    ap.add_argument("only", nargs="*", help="run only these (names without .py)")
    ap.add_argument("--no-readme", action="store_true", help="do not rewrite README.md")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    results = []
    for path in scripts(args.only):
        r, wall, loads = run(path, args.quick)
        results.append((path.stem, r, wall, loads))
        say(f"== {path.name}: {wall:.0f} s")
    body = table(results, args.quick)
    if args.no_readme or args.only:  # a partial run would drop the others' rows
        say(body)
    else:
        rewrite_readme(body)
        say(f"README.md table rewritten ({len(results)} benchmarks)")
    say(f"all benchmarks: {time.monotonic() - t0:.0f} s")
    summary = {name: (r or {}).get("targets") for name, r, _, _ in results}
    print(json.dumps({"bench": "run_all", "quick": args.quick, "targets": summary}), flush=True)
    return 0 if all(r is not None for _, r, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
