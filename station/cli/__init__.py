"""`station …`: the command line; global options work before and after the subcommand."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from station.cli import app as app_mod
from station.cli.app import App, run_command

GROUPS = (
    "station.cli.codes_cmd",
    "station.cli.batch_cmd",
    "station.cli.qa_cmd",
    "station.cli.users_cmd",
    "station.cli.audit_cmd",
    "station.cli.report_cmd",
    "station.cli.line_cmd",
    "station.cli.devices_cmd",
    "station.cli.sync_cmd",
    "station.cli.export_cmd",
    "station.cli.plant_cmd",
    "station.cli.service_cmd",
    "station.cli.ship_cmd",
)


def _globals(p: argparse.ArgumentParser, suppress: bool) -> None:
    d = argparse.SUPPRESS if suppress else None
    p.add_argument(
        "--config", default=d, help="config.toml (default ./config.toml or $LINESTATION_CONFIG)"
    )
    p.add_argument(
        "--user", default=d, help="act as this user (PIN from a prompt or $LINESTATION_PIN)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole parser; each group module adds its subcommands through `register`."""
    import importlib

    parser = argparse.ArgumentParser(prog="station", description="LineStation line station")
    _globals(parser, suppress=False)
    subs = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)

    def add(sub: argparse._SubParsersAction, name: str, **kw) -> argparse.ArgumentParser:
        p = sub.add_parser(name, **kw)
        _globals(p, suppress=True)
        return p

    for mod in GROUPS:
        importlib.import_module(mod).register(subs, add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `station` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.parse_args([*(argv or sys.argv[1:]), "--help"])
    app = App(config=args.config, user=args.user or os.environ.get("LINESTATION_USER"))
    return run_command(app, args)


__all__ = ["app_mod", "main"]
