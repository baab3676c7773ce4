# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""pain.001.001.09 (default) and .03 payouts, each validated against its official XSD shipped by
``sepaxml``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from nordic_billing.payouts import (
    DEFAULT_VERSION,
    VERSIONS,
    PayoutBatch,
    PayoutError,
    Transfer,
    build_pain001,
)

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module", params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def schema(version: str) -> etree.XMLSchema:
    """The official ISO 20022 schema of ``version`` from the installed sepaxml package."""
    pytest.importorskip("sepaxml")
    xsd = files("sepaxml") / "schemas" / f"{version}.xsd"
    return etree.XMLSchema(etree.parse(str(xsd)))


def namespaces(version: str) -> dict[str, str]:
    return {"p": f"urn:iso:std:iso:20022:tech:xsd:{version}"}


def batch(*transfers: Transfer, **changes) -> PayoutBatch:
    values = {
        "msg_id": "NB-2026-09-001",
        "debtor_name": "Suomen Liitto ry",
        "debtor_iban": "FI21 1234 5600 0007 85",
        "debtor_bic": "NDEAFIHH",
        "execution_date": dt.date(2026, 3, 2),
        "transfers": transfers,
        "created": dt.datetime(2026, 2, 27, 14, 5, 0),
    }
    return PayoutBatch(**{**values, **changes})


NATIONAL = Transfer("Kerho ry", "FI58 1017 1000 0001 22", Decimal("120.50"), "NB-S-1", "1232")
CREDITOR = Transfer(
    "Piiri ry", "FI1410093000123458", Decimal("10.00"), "NB-S-2", "RF11 1232", bic="NDEAFIHH"
)
FREE_TEXT = Transfer(
    "Liitto", "NO9386011117947", Decimal("5"), "NB-S-3", message="Tilitys viikko 9"
)


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def test_fixture_validates() -> None:
    """Sanity check of the schema loading: the upstream sample is valid (it is a .03 file)."""
    pytest.importorskip("sepaxml")
    xsd = files("sepaxml") / "schemas" / "pain.001.001.03.xsd"
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    assert schema.validate(etree.parse(str(FIXTURES / "pain.001.001.03.xml")))


def test_payout_file_is_schema_valid(schema: etree.XMLSchema, version: str) -> None:
    document = parse(build_pain001(batch(NATIONAL, CREDITOR, FREE_TEXT), version))
    schema.assertValid(document)
    assert etree.QName(document).namespace == namespaces(version)["p"]


def test_default_version_is_09() -> None:
    assert DEFAULT_VERSION == "pain.001.001.09"
    document = parse(build_pain001(batch(NATIONAL)))
    assert etree.QName(document).namespace == "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"


def test_unknown_version_is_refused() -> None:
    with pytest.raises(PayoutError, match="version 'pain.001.001.02' is not one of"):
        build_pain001(batch(NATIONAL), "pain.001.001.02")


def test_group_header_and_payment_information(version: str) -> None:
    NS = namespaces(version)
    document = parse(build_pain001(batch(NATIONAL, CREDITOR, FREE_TEXT), version))
    assert document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=NS) == (
        "NB-2026-09-001"
    )
    assert document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CreDtTm", namespaces=NS) == (
        "2026-02-27T14:05:00"
    )
    for where in ("p:CstmrCdtTrfInitn/p:GrpHdr", "p:CstmrCdtTrfInitn/p:PmtInf"):
        assert document.findtext(f"{where}/p:NbOfTxs", namespaces=NS) == "3"
        assert document.findtext(f"{where}/p:CtrlSum", namespaces=NS) == "135.50"
    info = document.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    date, bic = (
        ("p:ReqdExctnDt/p:Dt", "p:BICFI") if version.endswith("09") else ("p:ReqdExctnDt", "p:BIC")
    )
    assert info.findtext(date, namespaces=NS) == "2026-03-02"
    assert info.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == "FI2112345600000785"
    assert info.findtext(f"p:DbtrAgt/p:FinInstnId/{bic}", namespaces=NS) == "NDEAFIHH"
    assert info.findtext("p:Dbtr/p:Nm", namespaces=NS) == "Suomen Liitto ry"


def test_structured_references(version: str) -> None:
    NS = namespaces(version)
    document = parse(build_pain001(batch(NATIONAL, CREDITOR, FREE_TEXT), version))
    national, creditor, free_text = document.findall(".//p:CdtTrfTxInf", NS)
    # Finnish national reference: SCOR, no Issr.
    ref_info = national.find("p:RmtInf/p:Strd/p:CdtrRefInf", NS)
    assert ref_info.findtext("p:Tp/p:CdOrPrtry/p:Cd", namespaces=NS) == "SCOR"
    assert ref_info.find("p:Tp/p:Issr", NS) is None
    assert ref_info.findtext("p:Ref", namespaces=NS) == "1232"
    # RF reference: SCOR with Issr ISO, written compact.
    ref_info = creditor.find("p:RmtInf/p:Strd/p:CdtrRefInf", NS)
    assert ref_info.findtext("p:Tp/p:CdOrPrtry/p:Cd", namespaces=NS) == "SCOR"
    assert ref_info.findtext("p:Tp/p:Issr", namespaces=NS) == "ISO"
    assert ref_info.findtext("p:Ref", namespaces=NS) == "RF111232"
    # No reference: unstructured text only.
    assert free_text.findtext("p:RmtInf/p:Ustrd", namespaces=NS) == "Tilitys viikko 9"
    assert free_text.find("p:RmtInf/p:Strd", NS) is None


def test_transfer_fields(version: str) -> None:
    NS = namespaces(version)
    bic = "p:BICFI" if version.endswith("09") else "p:BIC"
    document = parse(build_pain001(batch(NATIONAL, CREDITOR, FREE_TEXT), version))
    national, creditor, free_text = document.findall(".//p:CdtTrfTxInf", NS)
    assert national.findtext("p:PmtId/p:EndToEndId", namespaces=NS) == "NB-S-1"
    amount = national.find("p:Amt/p:InstdAmt", NS)
    assert (amount.text, amount.get("Ccy")) == ("120.50", "EUR")
    assert national.findtext("p:Cdtr/p:Nm", namespaces=NS) == "Kerho ry"
    assert national.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == "FI5810171000000122"
    assert national.find("p:CdtrAgt", NS) is None  # BIC is optional
    assert creditor.findtext(f"p:CdtrAgt/p:FinInstnId/{bic}", namespaces=NS) == "NDEAFIHH"
    assert free_text.findtext("p:Amt/p:InstdAmt", namespaces=NS) == "5.00"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"iban": "FI5810171000000123"}, "transfer 1 IBAN .* is not a valid IBAN"),
        ({"bic": "NDEA"}, "transfer 1 BIC 'NDEA' is not a valid BIC"),
        ({"amount": Decimal("0")}, "amount 0 must be between 0.01"),
        ({"amount": Decimal("-1.00")}, "amount -1.00 must be between 0.01"),
        ({"amount": Decimal("1.005")}, "amount 1.005 has more than 2 decimals"),
        ({"amount": 1.5}, "must be a Decimal"),
        ({"amount": Decimal("NaN")}, "must be a Decimal"),
        ({"reference": "1233"}, "reference '1233' is not a valid Finnish reference"),
        ({"reference": "RF121232"}, "reference 'RF121232' is not a valid RF creditor reference"),
        ({"reference": "", "message": ""}, r"message \(there is no reference\) is empty"),
        ({"creditor_name": "x" * 71}, "creditor name .* longer than 70"),
        ({"end_to_end_id": "a" * 36}, "end-to-end id .* 1-35 characters"),
    ],
)
def test_invalid_transfers(change: dict, message: str) -> None:
    with pytest.raises(PayoutError, match=message):
        build_pain001(batch(dataclasses.replace(NATIONAL, **change)))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"debtor_iban": "FI00"}, "debtor IBAN"),
        ({"debtor_bic": "X"}, "debtor BIC"),
        ({"debtor_name": "  "}, "debtor name is empty"),
        ({"msg_id": ""}, "MsgId"),
        ({"currency": "euro"}, "currency 'euro'"),
        ({"transfers": ()}, "at least one transfer"),
    ],
)
def test_invalid_batches(change: dict, message: str) -> None:
    with pytest.raises(PayoutError, match=message):
        build_pain001(batch(NATIONAL, **change))


def test_end_to_end_ids_must_be_unique() -> None:
    with pytest.raises(PayoutError, match="end-to-end id 'NB-S-1' is used twice"):
        build_pain001(batch(NATIONAL, NATIONAL))


def test_created_defaults_to_now() -> None:
    document = parse(build_pain001(batch(NATIONAL, created=None)))
    created = document.findtext(
        "p:CstmrCdtTrfInitn/p:GrpHdr/p:CreDtTm", namespaces=namespaces(DEFAULT_VERSION)
    )
    assert abs(dt.datetime.fromisoformat(created) - dt.datetime.now()) < dt.timedelta(minutes=1)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 10**11 - 1), min_size=1, max_size=20))
def test_control_sum_property(schema: etree.XMLSchema, version: str, cents: list[int]) -> None:
    NS = namespaces(version)
    transfers = [
        dataclasses.replace(NATIONAL, amount=Decimal(c).scaleb(-2), end_to_end_id=f"E{i}")
        for i, c in enumerate(cents)
    ]
    document = parse(build_pain001(batch(*transfers), version))
    schema.assertValid(document)
    total = document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS)
    assert Decimal(total) == sum(Decimal(c).scaleb(-2) for c in cents)
    assert document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == str(
        len(cents)
    )
