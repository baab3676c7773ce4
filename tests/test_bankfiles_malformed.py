# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""One test per rule that makes a bank file invalid: the reader raises, with a location."""

from __future__ import annotations

from pathlib import Path

import pytest

from nordic_billing.bankfiles import BankFileError, read_payments

FIXTURES = Path(__file__).parent / "fixtures"
KTL_RECORDS = (FIXTURES / "547392460.SVM").read_bytes().decode("latin-1").split("\r\n")[:3]
NETS_RECORDS = (FIXTURES / "ocr_giro_transactions.txt").read_text("latin-1").splitlines()
CAMT = (FIXTURES / "camt_054_credit_notoification_example_finland.xml").read_text("utf-8")


def ktl(*records: str) -> bytes:
    """A KTL file of ``records`` (CR LF)."""
    return "".join(f"{record}\r\n" for record in records).encode("latin-1")


def put(record: str, start: int, value: str) -> str:
    """``record`` with ``value`` written from 1-based column ``start``."""
    return record[: start - 1] + value + record[start - 1 + len(value) :]


HEADER, PAYMENT, SUM = KTL_RECORDS


def fails(data: bytes, match: str, location: str | None = None) -> BankFileError:
    """Assert that reading ``data`` raises a BankFileError matching ``match`` (and location)."""
    with pytest.raises(BankFileError, match=match) as info:
        read_payments(data)
    if location is not None:
        assert info.value.location == location
    return info.value


# -- any format ---------------------------------------------------------------------------------


def test_empty_file() -> None:
    fails(b"", "the file is empty")
    fails(b"\r\n  \n", "the file is empty")


def test_unknown_format() -> None:
    fails(b"HELLO;this;is;a;csv\n", "unknown bank-file format .* expected KTL, camt")


def test_unknown_xml_document() -> None:
    fails(b"<?xml version='1.0'?><Invoice><Id>1</Id></Invoice>", "XML document Invoice")


def test_camt052_is_rejected() -> None:
    fails(b"<Document><BkToCstmrAcctRpt><GrpHdr/></BkToCstmrAcctRpt></Document>", "camt.052")


def test_utf16_text_is_rejected() -> None:
    fails(ktl(HEADER, PAYMENT, SUM).decode("latin-1").encode("utf-16"), "UTF-16 byte-order mark")


# -- KTL ----------------------------------------------------------------------------------------


def test_ktl_record_length() -> None:
    fails(
        ktl(HEADER, PAYMENT[:89], SUM),
        "payment record is 89 characters long, expected 90",
        "line 2",
    )


def test_ktl_unknown_record_type() -> None:
    fails(ktl(HEADER, put(PAYMENT, 1, "7"), SUM), "unknown record type '7'", "line 2")


def test_ktl_bad_date() -> None:
    fails(
        ktl(HEADER, put(PAYMENT, 16, "180231"), SUM),
        "booking date '180231' is not a valid YYMMDD date",
        "line 2",
    )


def test_ktl_bad_header_date() -> None:
    fails(ktl(put(HEADER, 2, "181301"), PAYMENT, SUM), "creation date '181301'", "line 1")


def test_ktl_bad_amount() -> None:
    fails(
        ktl(HEADER, put(PAYMENT, 78, "00000049,0"), SUM),
        r"amount \(columns 78-87\) is '00000049,0', expected digits",
        "line 2",
    )


def test_ktl_bad_correction_flag() -> None:
    fails(ktl(HEADER, put(PAYMENT, 88, "X"), SUM), r"correction flag \(columns 88-88\)", "line 2")


def test_ktl_unknown_currency() -> None:
    fails(ktl(HEADER, put(PAYMENT, 76, "2"), SUM), r"currency code .* expected 1 \(euro\)")


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (2, "000002", "says 2 transactions, the batch has 1 payments and 0 corrections"),
        (8, "00000004901", "says transactions total 49.01, the payment records add up to 49.00"),
        (19, "000001", "says 1 corrections, the batch has 0"),
        (25, "00000000100", "says corrections total 1.00, the correction records add up to 0"),
    ],
    ids=["transaction count", "transaction total", "correction count", "correction total"],
)
def test_ktl_sum_record_mismatch(column: int, value: str, message: str) -> None:
    fails(ktl(HEADER, PAYMENT, put(SUM, column, value)), message, "line 3")


def test_ktl_sum_record_with_corrections_in_either_reading() -> None:
    correction = put(put(PAYMENT, 28, "CORRECTION000001"), 88, "1")
    # Transaction pair without the corrections, and with them: both are accepted.
    for count_total in ("00000100000004900", "00000200000009800"):
        data = ktl(
            HEADER, PAYMENT, correction, put(put(SUM, 2, count_total), 19, "00000100000004900")
        )
        assert [p.is_correction for p in read_payments(data)] == [False, True]
    mixed = put(put(SUM, 2, "00000100000009800"), 19, "00000100000004900")
    fails(ktl(HEADER, PAYMENT, correction, mixed), "says transactions total 98.00")


def test_ktl_missing_sum_record() -> None:
    fails(
        ktl(HEADER, PAYMENT),
        "ends inside the batch starting on line 1: no sum record",
        "end of file",
    )


def test_ktl_batch_without_sum_before_next_batch() -> None:
    fails(ktl(HEADER, PAYMENT, HEADER, PAYMENT, SUM), "has no sum record", "line 3")


def test_ktl_payment_outside_a_batch() -> None:
    data = ktl(HEADER, PAYMENT, SUM, PAYMENT)
    fails(data, "payment record outside a batch", "line 4")


def test_ktl_utf8_bytes() -> None:
    name = put(PAYMENT, 64, "MÄKINEN J   ")
    data = ktl(HEADER, name, SUM).replace("Ä".encode("latin-1"), "Ä".encode())
    fails(data, "looks UTF-8 encoded, bank files of this kind are ISO-8859-1", "line 2")


def test_ktl_utf8_letters_that_change_the_length() -> None:
    name = put(PAYMENT, 64, "MÄkinen J   ").replace("Ä", "ä")
    data = ktl(HEADER, name, SUM).replace("ä".encode("latin-1"), "ä".encode())
    fails(data, "is 91 characters long, expected 90; the record looks UTF-8 encoded", "line 2")


def test_ktl_control_character() -> None:
    data = ktl(HEADER, put(PAYMENT, 70, "\x85"), SUM)
    fails(data, "character 0x85 at column 70 is not printable ISO-8859-1", "line 2")


def test_ktl_latin1_letters_are_fine() -> None:
    data = ktl(HEADER, put(PAYMENT, 64, "HÄMÄLÄINEN Ö"), SUM)
    assert read_payments(data)[0].payer_name == "HÄMÄLÄINEN Ö"


# -- Nets OCR -----------------------------------------------------------------------------------


def nets(records: list[str]) -> bytes:
    return "".join(f"{record}\n" for record in records).encode("latin-1")


def nets_with(line: int, record: str) -> bytes:
    """The Nets sample with 1-based ``line`` replaced."""
    records = list(NETS_RECORDS)
    records[line - 1] = record
    return nets(records)


def test_nets_record_length() -> None:
    fails(
        nets_with(3, NETS_RECORDS[2][:79]),
        "amount item 1 is 79 characters long, expected 80",
        "line 3",
    )


def test_nets_unknown_record() -> None:
    fails(nets_with(5, put(NETS_RECORDS[4], 7, "33")), "unknown record 'NY092133'", "line 5")


def test_nets_bad_date() -> None:
    fails(
        nets_with(3, put(NETS_RECORDS[2], 16, "320192")),
        "settlement date '320192' is not a valid DDMMYY date",
        "line 3",
    )


def test_nets_bad_amount() -> None:
    fails(nets_with(3, put(NETS_RECORDS[2], 40, "X")), r"amount \(columns 33-49\)", "line 3")


@pytest.mark.parametrize(
    ("line", "column", "value", "message"),
    [
        (44, 9, "00000021", "assignment end record .* says 21 transactions, the assignment has 20"),
        (44, 17, "00000044", "says 44 records, the assignment has 43"),
        (44, 25, "00000000005144901", "says amount total 51449.01, the transactions add up to"),
        (45, 9, "00000019", "transmission end record .* says 19 transactions"),
        (45, 17, "00000046", "says 46 records, the transmission has 45"),
        (45, 25, "00000000005144800", "says amount total 51448.00"),
    ],
)
def test_nets_end_record_mismatch(line: int, column: int, value: str, message: str) -> None:
    fails(nets_with(line, put(NETS_RECORDS[line - 1], column, value)), message, f"line {line}")


def test_nets_missing_transmission_end() -> None:
    fails(nets(NETS_RECORDS[:-1]), "ends without a transmission end record", "end of file")


def test_nets_missing_assignment_end() -> None:
    records = NETS_RECORDS[:-2] + NETS_RECORDS[-1:]
    fails(nets(records), "transmission end, but the assignment starting on line 2 has no end")


def test_nets_data_after_transmission_end() -> None:
    fails(nets([*NETS_RECORDS, NETS_RECORDS[2]]), "data after the transmission end", "line 46")


def test_nets_amount_item_2_missing() -> None:
    records = NETS_RECORDS[:6] + NETS_RECORDS[7:]
    fails(nets(records), "transaction 0000002 has no amount item 2", "line 6")


def test_nets_amount_item_2_of_another_transaction() -> None:
    fails(
        nets_with(7, put(NETS_RECORDS[6], 9, "0000009")),
        "amount item 2 is for transaction 0000009",
        "line 7",
    )


def test_nets_avtalegiro_assignment_inside_ocr_file() -> None:
    avtalegiro = (FIXTURES / "avtalegiro_payment_request.txt").read_text("latin-1").splitlines()
    records = NETS_RECORDS[:-1] + avtalegiro[1:-1] + NETS_RECORDS[-1:]
    fails(nets(records), "AvtaleGiro payment requests .*: not incoming payments", "line 45")


# -- camt ---------------------------------------------------------------------------------------


def camt(old: str, new: str, count: int = 1) -> bytes:
    assert old in CAMT
    return CAMT.replace(old, new, count).encode("utf-8")


def test_camt_truncated_xml() -> None:
    data = CAMT.encode("utf-8")
    error = fails(data[: len(data) // 2], "malformed XML")
    assert error.location.startswith("line ")


def test_camt_malformed_xml() -> None:
    fails(camt("<Sts>BOOK</Sts>", "<Sts>BOOK</Stst>"), "malformed XML: .*mismatch", "line 46")


def test_camt_bad_amount() -> None:
    error = fails(
        camt('<Amt Ccy="EUR">742.45</Amt>', '<Amt Ccy="EUR">742,45</Amt>'), "'742,45' is not a"
    )
    assert error.location == "Ntfctn[1]/Ntry[2]/Amt (line 96)"


def test_camt_amount_with_more_than_two_decimals() -> None:
    fails(camt(">88.16</Amt>", ">88.161</Amt>"), "amount 88.161 has more than 2 decimals")


def test_camt_bad_currency() -> None:
    fails(camt('<Amt Ccy="EUR">88.16', '<Amt Ccy="euro">88.16'), "currency 'euro' is not an ISO")


def test_camt_bad_date() -> None:
    fails(camt("<Dt>2017-01-22</Dt>", "<Dt>2017-01-32</Dt>"), "'2017-01-32' is not an ISO date")


def test_camt_bad_direction() -> None:
    fails(
        camt("<CdtDbtInd>CRDT</CdtDbtInd>\n\t\t\t\t<Sts>", "<CdtDbtInd>IN</CdtDbtInd><Sts>"),
        "CdtDbtInd 'IN'",
    )


def test_camt_summary_count_mismatch() -> None:
    error = fails(
        camt("<NbOfNtries>4</NbOfNtries>", "<NbOfNtries>5</NbOfNtries>"),
        "NbOfNtries says 5 entries, the file has 4",
    )
    assert error.location.startswith("Ntfctn[1]/TxsSummry/TtlNtries")


def test_camt_summary_sum_mismatch() -> None:
    fails(
        camt("<Sum>7048</Sum>", "<Sum>7049</Sum>"), "Sum says 7049, the entries add up to 7048.00"
    )


def test_camt_transactions_differ_from_entry_amount() -> None:
    data = camt(
        '<TxAmt>\n\t\t\t\t\t\t\t\t<Amt Ccy="EUR">88.16',
        '<TxAmt>\n\t\t\t\t\t\t\t\t<Amt Ccy="EUR">88.15',
    )
    fails(
        data,
        "the 1 transactions add up to 88.15, the entry amount is 88.16",
        "Ntfctn[1]/Ntry[1] (line 42)",
    )


def test_camt_missing_archive_id() -> None:
    data = camt("<AcctSvcrRef>201701312588CECZ0804</AcctSvcrRef>", "")
    for old in (
        "<NtryRef>5566778899202712220000100001</NtryRef>",
        "<EndToEndId>End To End ID 11</EndToEndId>",
        "<Id>55667788992027122200001</Id>",
    ):
        data = data.replace(old.encode(), b"")
    fails(data, "no AcctSvcrRef, NtryRef, TxId or EndToEndId on the transaction or its entry")


def test_camt_unknown_encoding() -> None:
    data = camt('encoding="UTF-8"', 'encoding="X-NO-SUCH-CHARSET"')
    fails(data, "malformed XML|[Ee]ncoding")


def test_camt_wrong_bytes_for_declared_encoding() -> None:
    data = camt("SUOMI OY", "SUOMI ÖY").replace("Ö".encode(), b"\xd6")  # latin-1 byte in UTF-8
    fails(data, "malformed XML")


def test_camt_no_report() -> None:
    fails(
        b"<Document><BkToCstmrDbtCdtNtfctn><GrpHdr/></BkToCstmrDbtCdtNtfctn></Document>",
        "no Ntfctn element",
    )
