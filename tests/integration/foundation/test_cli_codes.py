"""`station codes …`, `station batch …` and `station config check` end to end, in-process."""

from __future__ import annotations

from pathlib import Path

from station.codes.generate import random_serials


def test_config_check_ok_and_misspelt_key(cli, station_dir: Path) -> None:
    assert cli("config", "check").rc == 0
    cfg = station_dir / "config.toml"
    cfg.write_text(
        cfg.read_text(encoding="utf-8").replace("rate_per_min", "rate_per_mni"), encoding="utf-8"
    )
    r = cli("config", "check")
    assert r.rc == 2
    assert "line.rate_per_mni" in r.err and "unknown key" in r.err


def test_generate_each_scheme_and_stats(cli) -> None:
    assert cli("codes", "generate", "--level", "outer", "--count", "5000").rc == 0
    r = cli(
        "codes",
        "generate",
        "--level",
        "outer",
        "--count",
        "3",
        "--scheme",
        "sgtin",
        "--product",
        "SOY-500",
        "--json",
    )
    assert r.rc == 0 and r.json["generated"] == 3
    assert cli("codes", "generate", "--level", "pallet", "--count", "4").rc == 0
    assert (
        cli(
            "codes",
            "generate",
            "--level",
            "case",
            "--count",
            "7",
            "--scheme",
            "sequential",
            "--prefix",
            "C",
        ).rc
        == 0
    )
    stats = cli("codes", "stats", "--json").json
    assert stats["levels"] == {
        "outer": {"available": 5003},
        "pallet": {"available": 4},
        "case": {"available": 7},
    }


def test_generated_codes_are_well_formed_and_never_repeat_store(cli, tmp_path: Path) -> None:
    from station.codes import gs1

    cli("codes", "generate", "--level", "pallet", "--count", "3")
    cli(
        "codes",
        "generate",
        "--level",
        "outer",
        "--count",
        "2",
        "--scheme",
        "sgtin",
        "--product",
        "SOY-500",
    )
    cli("codes", "export", "--level", "pallet", "--out", str(tmp_path / "p.txt"))
    ssccs = (tmp_path / "p.txt").read_text().split()
    assert len(ssccs) == 3 and all(len(s) == 18 and gs1.valid_check_digit(s) for s in ssccs)
    assert ssccs[0][1:8] == "6901234"
    cli("codes", "export", "--level", "outer", "--out", str(tmp_path / "o.txt"))
    urls = (tmp_path / "o.txt").read_text().split()
    assert all(u.startswith("https://id.example.com/01/06901234000023/21/") for u in urls)
    # A sequential range that runs into imported codes skips them instead of repeating them.
    (tmp_path / "seq.txt").write_text("S0000000002\nS0000000003\n")
    assert cli("codes", "import", str(tmp_path / "seq.txt"), "--level", "case").rc == 0
    assert (
        cli(
            "codes",
            "generate",
            "--level",
            "case",
            "--count",
            "4",
            "--scheme",
            "sequential",
            "--prefix",
            "S",
        ).rc
        == 0
    )
    cli("codes", "export", "--level", "case", "--out", str(tmp_path / "c.txt"))
    got = (tmp_path / "c.txt").read_text().split()
    assert len(got) == 6 and len(set(got)) == 6


def test_random_serials_unique_over_a_million_with_alphabet() -> None:
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    codes = random_serials(alphabet, 16, 1_000_000)
    assert len(set(codes)) == 1_000_000
    assert set("".join(codes[:2000])) == set(alphabet)
    assert all(len(c) == 16 for c in codes[:1000])


def test_import_all_or_nothing_names_the_line(cli, tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("\n".join(f"CODE{i:06d}" for i in range(1, 1001)) + "\n")
    r = cli("codes", "import", str(good), "--level", "outer", "--json")
    assert r.rc == 0 and r.json["imported"] == 1000
    # The same codes again: every line already in the store, nothing imported.
    again = tmp_path / "again.txt"
    again.write_text("NEW1\nCODE000005\nNEW2\n")
    r = cli("codes", "import", str(again), "--level", "outer")
    assert r.rc == 2 and "line 2: already in the store (CODE000005: level outer, pool 1" in r.err
    assert cli("codes", "stats", "--json").json["levels"]["outer"] == {"available": 1000}
    dup = tmp_path / "dup.txt"
    dup.write_text("X1\nX2\nX1\n")
    r = cli("codes", "import", str(dup), "--level", "outer")
    assert r.rc == 2 and "line 3: duplicate of line 1" in r.err
    assert cli("codes", "stats", "--json").json["total"] == 1000


def test_pairs_import_export_round_trip(cli, tmp_path: Path, station_dir: Path) -> None:
    pairs = tmp_path / "caps.csv"
    pairs.write_text(
        "inner,outer\r\n" + "".join(f"I{i:04d},O{i:04d}\r\n" for i in range(50)),
        encoding="utf-8-sig",
    )
    r = cli("codes", "import", str(pairs), "--level", "inner", "--pairs")
    assert r.rc == 0, r.err
    stats = cli("codes", "stats", "--json").json["levels"]
    assert stats == {"inner": {"available": 50}, "outer": {"available": 50}}
    out = tmp_path / "back.csv"
    assert cli("codes", "export", "--level", "inner", "--out", str(out)).rc == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "I0000,O0000" and len(lines) == 50
    # The export imports cleanly into another station.
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.toml").write_text((station_dir / "config.toml").read_text("utf-8"), "utf-8")
    from station.cli import main

    assert (
        main(
            [
                "codes",
                "import",
                str(out),
                "--level",
                "inner",
                "--pairs",
                "--config",
                str(other / "config.toml"),
            ]
        )
        == 0
    )


def test_batch_lifecycle(cli) -> None:
    r = cli(
        "batch",
        "create",
        "--product",
        "WATER-550",
        "--lot",
        "L1",
        "--quantity",
        "100",
        "--produced",
        "2026-11-24",
        "--expires",
        "2027-11-24",
        "--json",
    )
    assert r.rc == 0
    bid = r.json["id"]
    assert r.json["state"] == "ready" and r.json["product_gtin"] == "06901234000016"
    assert cli("batch", "list", "--json").json["batches"][0]["id"] == bid
    assert cli("batch", "show", bid, "--json").json["lot"] == "L1"
    assert cli("batch", "close", bid).rc == 0
    assert cli("batch", "show", bid, "--json").json["state"] == "completed"
    r = cli("batch", "close", bid)
    assert r.rc == 2 and "completed" in r.err and "cannot be changed" in r.err
    r = cli("batch", "create", "--product", "NOPE", "--lot", "L", "--quantity", "1")
    assert r.rc == 2 and "NOPE" in r.err
    r = cli(
        "batch",
        "create",
        "--product",
        "WATER-550",
        "--lot",
        "L",
        "--quantity",
        "1",
        "--produced",
        "24.11.2026",
    )
    assert r.rc == 2 and "YYYY-MM-DD" in r.err


def test_global_options_after_subcommand(station_dir: Path, capsys) -> None:
    from station.cli import main

    assert main(["codes", "stats", "--json", "--config", str(station_dir / "config.toml")]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("{")
