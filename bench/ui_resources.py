"""What the station costs a line PC with the touchscreen open: CPU %, peak RSS, start-up time.

Runs `station demo --ui` (the touchscreen on a virtual screen: Xvfb when installed, else Qt's
offscreen platform) on a fresh station at 1,200 items/min, sampling the process every second
with psutil. Start-up is from launching the process to the operator screen shown (the line the
UI prints once its window is up). The demo's simulated world and devices run inside the same
process here, so the CPU figure is an upper bound for the station alone. A commercial station's
requirements ask for CPU <= 50 %, RAM <= 2 GB, start <= 30 s. Prints one JSON line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, finish, load, parser, say


def main() -> int:
    """Run the touchscreen demo and report its resource use."""
    import psutil

    ap = parser(__doc__)
    ap.add_argument("--rate", type=int, default=1200, help="items per minute")
    args = ap.parse_args()
    items = args.rate // 2 if args.quick else args.rate * 2  # 30 s or 2 min of production
    tmp = Path(tempfile.mkdtemp(prefix="ls-ui-res-"))
    shutil.copy(ROOT / "config.toml", tmp / "config.toml")
    env = dict(os.environ)
    xvfb = None
    if shutil.which("Xvfb") and not env.get("DISPLAY"):
        xvfb = subprocess.Popen(["Xvfb", ":97", "-screen", "0", "1280x800x24"],
                                stderr=subprocess.DEVNULL)  # fmt: skip
        env["DISPLAY"] = ":97"
        time.sleep(1.0)
    elif not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    station = str(Path(sys.executable).with_name("station"))
    run_s = items / args.rate * 60
    cmd = [station, "--config", str(tmp / "config.toml"), "demo", "--ui", "--items", str(items),
           "--rate", str(args.rate), "--quit-after", str(round(run_s + 20))]  # fmt: skip
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)  # fmt: skip
    shown: list[float] = []

    def watch() -> None:  # the UI prints one line once its window is up
        for line in proc.stdout:
            if "ui: window" in line and not shown:
                shown.append(round(time.monotonic() - t0, 1))

    import threading

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    started_s = None
    samples: list[float] = []
    peak_rss = 0
    try:
        ps = psutil.Process(proc.pid)
        ps.cpu_percent(None)
        while proc.poll() is None:
            time.sleep(1.0)
            if started_s is None and shown:
                started_s = shown[0]
                say(f"operator screen shown after {started_s} s")
            try:
                cpu = ps.cpu_percent(None) / (os.cpu_count() or 1)  # share of the whole PC
                rss = ps.memory_info().rss
            except psutil.NoSuchProcess:
                break
            peak_rss = max(peak_rss, rss)
            if started_s is not None:
                samples.append(cpu)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)
        reader.join(5)
        proc.stdout.close()
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    running = samples[2:-20] or samples  # the line running: after start, before the idle tail
    cpu_mean = round(sum(running) / max(len(running), 1), 1)
    cpu_max = round(max(running or [0.0]), 1)
    rss_mb = round(peak_rss / 1e6, 1)
    say(f"{args.rate}/min with the touchscreen: CPU mean {cpu_mean} % (max {cpu_max} %) of the "
        f"PC, peak RSS {rss_mb} MB, start {started_s} s")  # fmt: skip
    return finish({
        "bench": "ui_resources",
        "rate_per_min": args.rate,
        "items": items,
        "display": "xvfb" if xvfb is not None else env.get("QT_QPA_PLATFORM", "display"),
        "cpu_percent_mean": cpu_mean,
        "cpu_percent_max": cpu_max,
        "peak_rss_mb": rss_mb,
        "start_to_operator_screen_s": started_s,
        "load": load(),
        "targets": {
            "cpu<=50%": cpu_mean <= 50,
            "ram<=2GB": rss_mb <= 2000,
            "start<=30s": started_s is not None and started_s <= 30,
        },
    })  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
