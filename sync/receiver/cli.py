"""`station receiver …`: run the reference receiver in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from sync.receiver.server import serve


def build_parser() -> argparse.ArgumentParser:
    """The receiver's command line."""
    p = argparse.ArgumentParser(prog="station receiver", description=__doc__)
    p.add_argument("--port", type=int, default=8780, help="TCP port (0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--store", type=Path, default=Path("receiver-store"), help="where batches go")
    p.add_argument("--fail-rate", type=float, default=0.0, help="share of requests answered 5xx")
    p.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering")
    p.add_argument("--reset-rate", type=float, default=0.0, help="share of connections dropped")
    p.add_argument("--key-file", type=Path, help="HMAC key (file bytes, whitespace stripped)")
    p.add_argument(
        "--schema",
        type=Path,
        help="EPCIS JSON Schema (default: the GS1 one in sync/epcis/schemas)",
    )
    p.add_argument("--capture-limit", type=int, help="events per capture call to advertise")
    p.add_argument("--file-size-limit", type=int, help="bytes per capture call to advertise")
    p.add_argument("--seed", type=int, help="seed for the fault switches")
    p.add_argument(
        "--view",
        action="store_true",
        help="print what --store holds (codes, links, pairs replayed) as JSON, and exit",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Parse argv, serve until interrupted; exit 2 on bad input."""
    args = build_parser().parse_args(argv)
    if args.view:
        from sync.receiver.view import load_view

        if not args.store.is_dir():
            print(f"--store {args.store}: no such folder", file=sys.stderr)
            return 2
        print(json.dumps(load_view(args.store).to_json(), ensure_ascii=False, sort_keys=True))
        return 0
    for name in ("fail_rate", "reset_rate"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            print(f"--{name.replace('_', '-')} must be between 0 and 1", file=sys.stderr)
            return 2
    key = None
    if args.key_file:
        try:
            key = args.key_file.read_bytes().strip()
        except OSError as exc:
            print(f"cannot read --key-file {args.key_file}: {exc}", file=sys.stderr)
            return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        server = serve(
            args.port,
            args.store,
            key=key,
            fail_rate=args.fail_rate,
            delay_s=args.delay,
            reset_rate=args.reset_rate,
            seed=args.seed,
            host=args.host,
            schema_path=args.schema,
            capture_limit=args.capture_limit,
            file_size_limit=args.file_size_limit,
        )
    except (OSError, FileNotFoundError) as exc:
        print(f"receiver cannot start on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    print(
        f"receiver at {server.url} (capture: {server.url}/capture, upload: {server.url}/batches)",
        flush=True,
    )
    if key is None:
        print("warning: no --key-file, manifest signatures are not checked", file=sys.stderr)
    done = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
