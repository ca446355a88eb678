"""Code files as a black-box probe found them (issue 13): quoting, letter case, CR-only line ends,
UTF-16, prefixes that import would refuse, --level with --pairs, and where a held code sits."""

from __future__ import annotations

from pathlib import Path

SERIAL = "CAUS8K3M9PQ2RT4V"


def _stats(cli) -> dict:
    return cli("codes", "stats", "--json").json["levels"]


def test_a_csv_quoted_code_is_the_same_serial_both_lines_named(cli, tmp_path: Path) -> None:
    f = tmp_path / "quoted.csv"
    f.write_text(f'{SERIAL}\nOTHER1\n"{SERIAL}"\n')
    r = cli("codes", "import", str(f), "--level", "outer")
    assert r.rc == 2, r.out + r.err
    assert str(f) in r.err and f'line 3: duplicate of line 1: "{SERIAL}" here, {SERIAL}' in r.err
    assert _stats(cli) == {}  # nothing imported
    ok = tmp_path / "quoted-ok.csv"
    ok.write_text(f'"{SERIAL}"\n"OTHER1"\n')
    assert cli("codes", "import", str(ok), "--level", "outer").rc == 0
    out = tmp_path / "out.txt"
    cli("codes", "export", "--level", "outer", "--out", str(out))
    assert out.read_text().split() == [SERIAL, "OTHER1"]  # stored without the quotes


def test_a_stray_double_quote_is_refused(cli, tmp_path: Path) -> None:
    f = tmp_path / "stray.csv"
    f.write_text('AB"CD\n')
    r = cli("codes", "import", str(f), "--level", "outer")
    assert r.rc == 2 and "line 1: a double quote in the code" in r.err


def test_codes_differing_only_in_case_are_one_serial(cli, tmp_path: Path) -> None:
    f = tmp_path / "case.txt"
    f.write_text(f"{SERIAL}\n{SERIAL.lower()}\n")
    r = cli("codes", "import", str(f), "--level", "outer")
    assert r.rc == 2, r.out + r.err
    assert f"line 2: duplicate of line 1: {SERIAL.lower()} here, {SERIAL} there" in r.err
    assert _stats(cli) == {}
    # Against the store too: the lowercase spelling of a held code, naming level and pool.
    first = tmp_path / "first.txt"
    first.write_text(f"{SERIAL}\n")
    assert cli("codes", "import", str(first), "--level", "case").rc == 0
    low = tmp_path / "low.txt"
    low.write_text(f"NEW1\n{SERIAL.lower()}\n")
    r = cli("codes", "import", str(low), "--level", "outer")
    assert r.rc == 2
    assert f"line 2: already in the store as {SERIAL} ({SERIAL.lower()}: level case, pool" in r.err
    assert str(first) in r.err
    assert _stats(cli) == {"case": {"available": 1}}


def test_cr_only_and_utf16_files_import(cli, tmp_path: Path) -> None:
    cr = tmp_path / "cr.txt"
    cr.write_bytes(b"CR0001\rCR0002\rCR0003\r")
    r = cli("codes", "import", str(cr), "--level", "outer", "--json")
    assert r.rc == 0 and r.json["imported"] == 3, r.err
    for name, data in (
        ("bom.txt", "U16A01\r\nU16A02\r\n".encode("utf-16")),
        ("le.txt", "U16B01\nU16B02\n".encode("utf-16-le")),
        ("be.txt", "U16C01\nU16C02\n".encode("utf-16-be")),
    ):
        f = tmp_path / name
        f.write_bytes(data)
        r = cli("codes", "import", str(f), "--level", "outer", "--json")
        assert r.rc == 0 and r.json["imported"] == 2, (name, r.err)
    assert _stats(cli)["outer"] == {"available": 9}
    out = tmp_path / "out.txt"
    cli("codes", "export", "--level", "outer", "--out", str(out))
    assert {"CR0002", "U16A02", "U16B01", "U16C02"} <= set(out.read_text().split())


def test_a_prefix_import_would_refuse_is_refused_by_generate(cli, tmp_path: Path) -> None:
    for prefix in ("A,B", "码", "A B", 'A"'):
        r = cli("codes", "generate", "--level", "outer", "--count", "3",
                "--scheme", "sequential", "--prefix", prefix)  # fmt: skip
        assert r.rc == 2 and "--prefix" in r.err and "cannot be in a code" in r.err, prefix
    r = cli("codes", "generate", "--level", "outer", "--count", "3", "--prefix", "L1-")
    assert r.rc == 2 and "sequential scheme only" in r.err
    assert _stats(cli) == {}
    r = cli("codes", "generate", "--level", "outer", "--count", "3",
            "--scheme", "sequential", "--prefix", "L1-")  # fmt: skip
    assert r.rc == 0
    out = tmp_path / "seq.txt"
    cli("codes", "export", "--level", "outer", "--out", str(out))
    back = tmp_path / "back.txt"
    back.write_text(out.read_text())
    r = cli("codes", "import", str(back), "--level", "case")
    assert "already in the store" in r.err  # import reads them as codes (and finds them held)


def test_level_with_pairs_is_refused_unless_one_of_the_pair(cli, tmp_path: Path) -> None:
    f = tmp_path / "caps.csv"
    f.write_text("I0001,O0001\nI0002,O0002\n")
    r = cli("codes", "import", str(f), "--level", "case", "--pairs")
    assert r.rc == 2 and "--level case with --pairs" in r.err
    assert _stats(cli) == {}
    r = cli("codes", "import", str(f), "--pairs", "--json")
    assert r.rc == 0 and r.json["imported"] == 4
    assert _stats(cli) == {"inner": {"available": 2}, "outer": {"available": 2}}
