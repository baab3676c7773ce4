# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The ``nordic-billing`` command line, in-process through ``main`` and once as a process."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import types
from decimal import Decimal
from pathlib import Path

import pytest

from nordic_billing.bankfiles import KtlBatch, Payment, write_ktl
from nordic_billing.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# -- bank-file ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "count", "first"),
    [
        ("547392460.SVM", 1, {"archive_id": "02042588WWRV0212", "amount": "49.00"}),
        (
            "camt_054_credit_notoification_example_finland.xml",
            4,
            {"archive_id": "201701312588CECZ0804", "amount": "88.16", "message": "9597349"},
        ),
        (
            "ocr_giro_transactions.txt",
            20,
            {"reference": "0000531", "amount": "1020.00", "currency": "NOK"},
        ),
    ],
)
def test_bank_file_prints_json_lines(capsys, name: str, count: int, first: dict) -> None:
    status, out, err = run(capsys, "bank-file", str(FIXTURES / name))
    assert (status, err) == (0, "")
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == count
    assert first.items() <= lines[0].items()
    assert all(isinstance(line["amount"], str) for line in lines)


def test_bank_file_keeps_non_ascii_readable(capsys, tmp_path: Path) -> None:
    data = (
        (FIXTURES / "547392460.SVM")
        .read_bytes()
        .replace(b"KATAJAINEN J", "MÄKINEN JUHA".encode("latin-1"))
    )
    path = tmp_path / "payments.svm"
    path.write_bytes(data)
    status, out, _err = run(capsys, "bank-file", str(path))
    assert status == 0
    assert '"payer_name": "MÄKINEN JUHA"' in out


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("avtalegiro_agreements.txt", "AvtaleGiro agreements file"),
        ("pain.001.001.03.xml", "pain.001 payment order"),
        ("no-such-file.txt", "No such file"),
    ],
)
def test_bank_file_errors_exit_2(capsys, name: str, message: str) -> None:
    status, out, err = run(capsys, "bank-file", str(FIXTURES / name))
    assert (status, out) == (2, "")
    assert err.startswith("nordic-billing: ") and message in err


def test_bank_file_prints_nothing_for_a_file_bad_at_its_end(capsys, tmp_path: Path) -> None:
    path = tmp_path / "bad.svm"
    path.write_bytes((FIXTURES / "547392460.SVM").read_bytes().replace(b"9000001", b"9000002"))
    status, out, err = run(capsys, "bank-file", str(path))
    assert (status, out) == (2, "")
    assert "ktl: line 3: sum record of the batch starting on line 1 says 2 transactions" in err


def test_bank_file_notes_camt053_lump_sums(capsys, tmp_path: Path) -> None:
    path = tmp_path / "statement.xml"
    path.write_text(
        "<Document><BkToCstmrStmt><Stmt><Acct><Id><IBAN>FI2112345600000785</IBAN></Id></Acct>"
        '<Ntry><Amt Ccy="EUR">30.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        "<BookgDt><Dt>2026-02-02</Dt></BookgDt><AcctSvcrRef>LUMP</AcctSvcrRef></Ntry>"
        "</Stmt></BkToCstmrStmt></Document>"
    )
    status, out, err = run(capsys, "bank-file", str(path))
    assert (status, out) == (0, "")
    assert "lump sum 30.00 EUR (archive id LUMP) is itemised in a camt.054" in err


# -- reference ----------------------------------------------------------------------------------


class FakeKind:
    """The interface the reference module promises: make, check, format."""

    def make(self, base: str) -> str:
        if not base.isdigit():
            raise ValueError(f"base {base!r} may contain digits only")
        return base + "7"

    def check(self, value: str) -> bool:
        return value.endswith("7")

    def format(self, value: str) -> str:
        return f"<{value}>"


@pytest.fixture
def fake_references(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("nordic_billing.references")
    module.KINDS = {"fi": FakeKind()}
    monkeypatch.setitem(sys.modules, "nordic_billing.references", module)


def test_reference_make(capsys, fake_references) -> None:
    assert run(capsys, "reference", "make", "fi", "123") == (0, "1237\n<1237>\n", "")


def test_reference_make_with_a_bad_base(capsys, fake_references) -> None:
    status, out, err = run(capsys, "reference", "make", "fi", "12a")
    assert (status, out) == (2, "")
    assert "may contain digits only" in err


def test_reference_check(capsys, fake_references) -> None:
    assert run(capsys, "reference", "check", "fi", "1237") == (
        0,
        "valid fi reference: <1237>\n",
        "",
    )
    assert run(capsys, "reference", "check", "fi", "1238") == (
        1,
        "",
        "invalid fi reference: 1238\n",
    )


def test_reference_unknown_kind(capsys, fake_references) -> None:
    status, _out, err = run(capsys, "reference", "check", "iban", "x")
    assert status == 2
    assert "unknown reference kind 'iban'; known: fi" in err


def test_reference_with_the_real_module(capsys) -> None:
    pytest.importorskip("nordic_billing.references")
    assert run(capsys, "reference", "make", "fi", "123") == (0, "1232\n1232\n", "")
    assert run(capsys, "reference", "make", "rf", "1232")[:2] == (0, "RF111232\nRF11 1232\n")
    for kind, value in (("fi", "13013"), ("rf", "RF81123453"), ("kid11", "123456785")):
        assert run(capsys, "reference", "check", kind, value)[0] == 0
    assert run(capsys, "reference", "check", "fi", "13014")[0] == 1


# -- sandbox ------------------------------------------------------------------------------------


@pytest.mark.parametrize("server", ["procountor", "agency", "paytrail"])
def test_sandbox_serves(capsys, monkeypatch: pytest.MonkeyPatch, server: str) -> None:
    calls = []
    module = types.ModuleType(f"nordic_billing.sandbox.{server}")
    module.serve = lambda host, port: calls.append((host, port))
    monkeypatch.setitem(sys.modules, f"nordic_billing.sandbox.{server}", module)
    assert run(capsys, "sandbox", server, "--port", "8123")[0] == 0
    assert run(capsys, "sandbox", server, "--port", "8124", "--host", "0.0.0.0")[0] == 0
    assert calls == [("127.0.0.1", 8123), ("0.0.0.0", 8124)]


def test_sandbox_stops_on_interrupt(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    def serve(host: str, port: int) -> None:
        raise KeyboardInterrupt

    module = types.ModuleType("nordic_billing.sandbox.agency")
    module.serve = serve
    monkeypatch.setitem(sys.modules, "nordic_billing.sandbox.agency", module)
    assert run(capsys, "sandbox", "agency", "--port", "8071")[0] == 130


def test_sandbox_needs_a_port(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["sandbox", "procountor"])
    assert info.value.code == 2
    assert "--port" in capsys.readouterr().err


# -- as a process -------------------------------------------------------------------------------


def test_command_runs_as_a_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nordic_billing.cli", "bank-file", str(FIXTURES / "547392460.SVM")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout)["reference"] == "13013"


def test_reader_closing_the_pipe_early(tmp_path: Path) -> None:
    day = dt.date(2026, 2, 2)
    payments = [
        Payment(
            "47300010416310",
            f"A{n:015d}",
            "1232",
            Decimal("1.00"),
            "EUR",
            day,
            day,
            "X",
            False,
            "",
            "",
        )
        for n in range(5000)
    ]
    path = tmp_path / "big.svm"
    path.write_bytes(write_ktl([KtlBatch(payments, dt.datetime(2026, 2, 2, 6, 0))]))
    command = [sys.executable, "-m", "nordic_billing.cli", "bank-file", str(path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert json.loads(process.stdout.readline())["archive_id"] == "A000000000000000"
        process.stdout.close()
        assert process.wait(timeout=60) == 141
        assert process.stderr.read() == b""
