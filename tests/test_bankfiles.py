# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Bank-file readers on the real sample files, format detection, sources and the API contract."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest

from nordic_billing.bankfiles import (
    BankFileError,
    Payment,
    detect_format,
    iter_payments,
    iter_records,
    iter_unchecked,
    read_bank_file,
    read_payments,
)

FIXTURES = Path(__file__).parent / "fixtures"
KTL = FIXTURES / "547392460.SVM"
CAMT054 = FIXTURES / "camt_054_credit_notoification_example_finland.xml"
NETS = FIXTURES / "ocr_giro_transactions.txt"
AVTALEGIRO_AGREEMENTS = FIXTURES / "avtalegiro_agreements.txt"
AVTALEGIRO_REQUESTS = FIXTURES / "avtalegiro_payment_request.txt"
PAIN001 = FIXTURES / "pain.001.001.03.xml"


# -- the sample files ---------------------------------------------------------------------------


def test_ktl_fixture() -> None:
    assert read_payments(KTL) == [
        Payment(
            account="47300010416310",
            archive_id="02042588WWRV0212",
            reference="13013",
            amount=Decimal("49.00"),
            currency="EUR",
            payment_date=dt.date(2018, 2, 4),
            booking_date=dt.date(2018, 2, 5),
            payer_name="KATAJAINEN J",
            is_correction=False,
            source_format="ktl",
            source_line="line 2",
            reference_source="structured",
        )
    ]


def test_camt054_fixture() -> None:
    payments = read_payments(CAMT054)
    assert [p.amount for p in payments] == [
        Decimal("88.16"),
        Decimal("742.45"),
        Decimal("6000.54"),
        Decimal("216.85"),
    ]
    assert sum(p.amount for p in payments) == Decimal("7048.00")  # TxsSummry/TtlNtries/Sum
    assert {p.account for p in payments} == {"FI1431313001234567"}
    assert {p.currency for p in payments} == {"EUR"}
    assert {p.booking_date for p in payments} == {dt.date(2017, 1, 22)}
    assert [p.payer_name for p in payments] == [
        "SUOMI OY",
        "TEST OY",
        "DEBTOR FINLAND OY",
        "Debtor Name",
    ]
    # No TxDtls/Refs/AcctSvcrRef in the sample: each entry holds one transaction, which bears
    # the entry's AcctSvcrRef (as the same entry without details or as a camt.053 lump sum).
    assert [p.archive_id for p in payments] == [
        "201701312588CECZ0804",
        "20170123456",
        "201702013131LG123456",
        "170130313190U60111",
    ]
    # Only the second transaction has a creditor reference (SCOR, no Issr: national). The
    # first one's payer typed a valid national reference as the message: it is used, and the
    # payment says where it came from.
    assert [p.reference for p in payments] == ["9597349", "9544208", "", ""]
    assert [p.reference_source for p in payments] == ["message", "structured", "", ""]
    assert payments[0].message == "9597349"
    assert payments[3].message.splitlines()[3] == "PARTIAL PYMT 170124         INV 43459"
    assert len(payments[3].message.splitlines()) == 5
    assert not any(p.is_correction for p in payments)
    assert all(p.payment_date is None for p in payments)  # no RltdDts/AccptncDtTm
    assert payments[1].source_line == "Ntfctn[1]/Ntry[2]/NtryDtls/TxDtls[1]"
    assert {p.source_format for p in payments} == {"camt.054"}


def test_nets_ocr_fixture() -> None:
    payments = read_payments(NETS)
    assert len(payments) == 20
    assert sum(p.amount for p in payments) == Decimal("51449.00")  # transmission end total
    assert {p.account for p in payments} == {"99991042764"}
    assert {p.currency for p in payments} == {"NOK"}
    assert {p.booking_date for p in payments} == {dt.date(1992, 1, 20)}
    first = payments[0]
    assert first == Payment(
        account="99991042764",
        archive_id="099038562/0170031/0000002/0000001",
        reference="0000531",
        amount=Decimal("1020.00"),
        currency="NOK",
        payment_date=dt.date(1992, 1, 16),
        booking_date=dt.date(1992, 1, 20),
        payer_name="",
        is_correction=False,
        source_format="nets-ocr",
        source_line="line 3",
        reference_source="structured",
        message="Foo bar baz",
    )
    assert payments[13].reference == "02321291038303"
    assert payments[13].amount == Decimal("20500.00")
    assert payments[8].payment_date is None  # bank date 000000
    # Nets reuses archive reference 001020169 (transactions 9 and 12): ids stay unique.
    assert payments[8].archive_id.startswith("001020169/")
    assert payments[11].archive_id.startswith("001020169/")
    assert len({p.archive_id for p in payments}) == 20


@pytest.mark.parametrize(
    ("path", "what"),
    [(AVTALEGIRO_AGREEMENTS, "agreements"), (AVTALEGIRO_REQUESTS, "payment requests")],
)
def test_avtalegiro_files_are_rejected(path: Path, what: str) -> None:
    with pytest.raises(BankFileError, match=f"AvtaleGiro {what}.*not incoming payments") as info:
        read_payments(path)
    assert info.value.location == "line 2"


def test_pain001_fixture_is_rejected_as_outgoing() -> None:
    with pytest.raises(BankFileError, match="pain.001 payment order: an outgoing payment file"):
        read_payments(PAIN001)


@pytest.mark.parametrize(
    ("path", "expected"),
    [(KTL, "ktl"), (CAMT054, "camt.054"), (NETS, "nets-ocr")],
)
def test_detect_format_from_content(path: Path, expected: str) -> None:
    assert detect_format(path.read_bytes()[:4096]) == expected
    assert read_bank_file(path).format == expected


def test_detection_ignores_the_file_name(tmp_path: Path) -> None:
    misleading = tmp_path / "statement.xml"
    misleading.write_bytes(KTL.read_bytes())
    assert read_bank_file(misleading).format == "ktl"


# -- sources ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(lambda: KTL.read_bytes(), id="bytes"),
        pytest.param(lambda: str(KTL), id="str path"),
        pytest.param(lambda: KTL, id="Path"),
        pytest.param(lambda: io.BytesIO(KTL.read_bytes()), id="file object"),
    ],
)
def test_sources(source) -> None:
    assert [p.archive_id for p in read_payments(source())] == ["02042588WWRV0212"]
    assert [p.archive_id for p in iter_payments(source())] == ["02042588WWRV0212"]


def test_unsupported_source_type() -> None:
    with pytest.raises(TypeError, match="not bytes, a path or a seekable binary file"):
        read_payments(12)


def test_missing_file() -> None:
    with pytest.raises(FileNotFoundError):
        read_payments(FIXTURES / "no-such-file.SVM")


# -- all or nothing -----------------------------------------------------------------------------


def _ktl_with_wrong_total() -> bytes:
    data = KTL.read_bytes()
    return data.replace(b"9000001000000049000", b"9000001000000050000")


def test_iter_unchecked_can_fail_after_yielding() -> None:
    items = iter_unchecked(_ktl_with_wrong_total())
    assert next(items).archive_id == "02042588WWRV0212"
    with pytest.raises(BankFileError, match="says transactions total 50.00"):
        next(items)


def test_iter_records_fails_before_the_first_item() -> None:
    items = iter_records(_ktl_with_wrong_total())
    with pytest.raises(BankFileError, match="says transactions total 50.00"):
        next(items)


def test_read_payments_returns_nothing_partial() -> None:
    with pytest.raises(BankFileError):
        read_payments(_ktl_with_wrong_total())


def test_error_carries_location_and_format() -> None:
    with pytest.raises(BankFileError) as info:
        read_payments(_ktl_with_wrong_total())
    error = info.value
    assert (error.source_format, error.location) == ("ktl", "line 3")
    assert str(error).startswith("ktl: line 3: sum record of the batch starting on line 1 says")


# -- camt: versions, directions, statements -----------------------------------------------------

CAMT_TX = """
<TxDtls>
  <Refs><AcctSvcrRef>{archive}</AcctSvcrRef></Refs>
  {amount}
  <RltdPties><Dbtr>{name}</Dbtr></RltdPties>
  <RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry>{issuer}</Tp>
    <Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf>
  <RltdDts><AccptncDtTm>2026-02-01T10:11:12+02:00</AccptncDtTm></RltdDts>
</TxDtls>"""


def camt(
    entries: str,
    *,
    namespace: str = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02",
    message: str = "BkToCstmrDbtCdtNtfctn",
    report: str = "Ntfctn",
    summary: str = "",
) -> bytes:
    """A camt document around ``entries``."""
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document{xmlns}><{message}>'
        "<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-02-02T08:00:00</CreDtTm></GrpHdr>"
        f"<{report}><Id>N1</Id><Acct><Id><IBAN>FI2112345600000785</IBAN></Id></Acct>"
        f"{summary}{entries}</{report}></{message}></Document>"
    ).encode()


def entry(
    amount: str,
    transactions: str = "",
    *,
    direction: str = "CRDT",
    reversal: str = "",
    status: str = "<Sts>BOOK</Sts>",
    archive: str = "E1",
    batch: str = "",
) -> str:
    """An ``Ntry`` element."""
    details = f"<NtryDtls>{batch}{transactions}</NtryDtls>" if transactions or batch else ""
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{direction}</CdtDbtInd>{reversal}'
        f"{status}<BookgDt><Dt>2026-02-02</Dt></BookgDt><AcctSvcrRef>{archive}</AcctSvcrRef>"
        f"{details}</Ntry>"
    )


def tx(
    amount: str,
    archive: str,
    reference: str = "1232",
    *,
    version: str = "02",
    name: str = "MEIKÄLÄINEN MATTI",
) -> str:
    """A ``TxDtls`` element in the layout of camt.054 version ``version``."""
    if version >= "04":
        amount_xml = f'<Amt Ccy="EUR">{amount}</Amt>'
    else:
        amount_xml = f'<AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>'
    name_xml = f"<Pty><Nm>{name}</Nm></Pty>" if version >= "08" else f"<Nm>{name}</Nm>"
    return CAMT_TX.format(
        archive=archive,
        amount=amount_xml,
        name=name_xml,
        issuer="<Issr>ISO</Issr>" if reference.startswith("RF") else "",
        reference=reference,
    )


@pytest.mark.parametrize("version", ["02", "04", "06", "08", None])
def test_camt054_versions_read_alike(version: str | None) -> None:
    namespace = f"urn:iso:std:iso:20022:tech:xsd:camt.054.001.{version}" if version else ""
    txs = tx("10.00", "A1", version=version or "02") + tx(
        "5.50", "A2", "RF111232", version=version or "02"
    )
    status = "<Sts><Cd>BOOK</Cd></Sts>" if version and version >= "08" else "<Sts>BOOK</Sts>"
    payments = read_payments(camt(entry("15.50", txs, status=status), namespace=namespace))
    assert [(p.archive_id, p.amount, p.reference) for p in payments] == [
        ("A1", Decimal("10.00"), "1232"),
        ("A2", Decimal("5.50"), "RF111232"),
    ]
    assert {p.payer_name for p in payments} == {"MEIKÄLÄINEN MATTI"}
    assert {p.payment_date for p in payments} == {dt.date(2026, 2, 1)}
    assert {p.booking_date for p in payments} == {dt.date(2026, 2, 2)}
    assert {p.account for p in payments} == {"FI2112345600000785"}


def test_camt054_directions_reversals_and_status() -> None:
    entries = (
        entry("10.00", tx("10.00", "IN"), archive="E1")
        + entry("4.00", tx("4.00", "REV"), direction="DBIT", reversal="<RvslInd>true</RvslInd>")
        + entry("7.00", tx("7.00", "OUT"), direction="DBIT")
        + entry("3.00", tx("3.00", "BACK"), reversal="<RvslInd>true</RvslInd>")
        + entry("2.00", tx("2.00", "PEND"), status="<Sts>PDNG</Sts>")
    )
    payments = read_payments(camt(entries))
    assert [(p.archive_id, p.is_correction) for p in payments] == [("IN", False), ("REV", True)]


def test_camt054_entry_without_details_is_one_payment() -> None:
    payments = read_payments(camt(entry("12.00", archive="LUMP1")))
    assert [(p.archive_id, p.amount, p.reference) for p in payments] == [
        ("LUMP1", Decimal("12.00"), "")
    ]


def test_camt054_summary_is_checked_and_accepted() -> None:
    summary = (
        "<TxsSummry><TtlNtries><NbOfNtries>2</NbOfNtries><Sum>17.00</Sum></TtlNtries>"
        "<TtlCdtNtries><NbOfNtries>1</NbOfNtries><Sum>10.00</Sum></TtlCdtNtries>"
        "<TtlDbtNtries><NbOfNtries>1</NbOfNtries><Sum>7.00</Sum></TtlDbtNtries></TxsSummry>"
    )
    entries = entry("10.00", tx("10.00", "IN")) + entry("7.00", tx("7.00", "OUT"), direction="DBIT")
    assert [p.archive_id for p in read_payments(camt(entries, summary=summary))] == ["IN"]


def test_camt053_lump_sums_are_reported_apart() -> None:
    batch = "<Btch><NbOfTxs>3</NbOfTxs></Btch>"
    entries = (
        entry("30.00", archive="LUMP", batch=batch)  # reference payments, itemised in camt.054
        + entry("8.00", tx("8.00", "ITEM"), archive="E2")  # an itemised credit
        # One transaction without an amount of its own: a payment of the entry's amount.
        + entry("9.00", "<TxDtls><Refs><EndToEndId>x</EndToEndId></Refs></TxDtls>", archive="E3")
    )
    result = read_bank_file(
        camt(
            entries,
            namespace="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02",
            message="BkToCstmrStmt",
            report="Stmt",
        )
    )
    assert result.format == "camt.053"
    assert [(p.archive_id, p.amount) for p in result.payments] == [
        ("ITEM", Decimal("8.00")),
        ("E3", Decimal("9.00")),
    ]
    assert [(s.archive_id, s.amount, s.transaction_count) for s in result.lump_sums] == [
        ("LUMP", Decimal("30.00"), 3),
    ]
    assert [
        p.archive_id for p in iter_payments(camt(entries, message="BkToCstmrStmt", report="Stmt"))
    ] == ["ITEM", "E3"]


def test_camt_transaction_without_own_archive_id_uses_entry_and_index() -> None:
    txs = (
        '<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">1.00</Amt></TxAmt></AmtDtls></TxDtls>'
        '<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">2.00</Amt></TxAmt></AmtDtls></TxDtls>'
    )
    payments = read_payments(camt(entry("3.00", txs, archive="ENTRY9")))
    assert [p.archive_id for p in payments] == ["ENTRY9/1", "ENTRY9/2"]
