# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Finnish virtual bank barcode against the example invoices of Finance Finland's guide."""

from datetime import date
from decimal import Decimal

import pytest

from nordic_billing.barcode import BarcodeError, virtual_barcode

# Source: Finanssiala (Finance Finland), "Pankkiviivakoodi-opas" (bank barcode guide), version 5.3,
# the example invoices ("esimerkkilaskut") 1 to 9: the account, amount, reference and due date as
# the guide prints them on each invoice, and the 54 digits the guide gives for them. The same nine
# invoices are shown once with a national reference (version 4) and once with an RF reference
# (version 5). The digits are copied from the guide, not produced by this package.
GUIDE_VERSION_4 = [
    # 1
    ("FI79 4405 2020 0360 82", "4883.15", "86851 62596 19897", date(2010, 6, 12),
     "479440520200360820048831500000000868516259619897100612"),
    # 2
    ("FI58 1017 1000 0001 22", "482.99", "55958 22432 94671", date(2012, 1, 31),
     "458101710000001220004829900000000559582243294671120131"),
    # 3
    ("FI02 5000 4640 0013 02", "693.80", "69 87567 20834 35364", date(2011, 7, 24),
     "402500046400013020006938000000069875672083435364110724"),
    # 4
    ("FI15 6601 0001 5306 41", "7444.54", "7 75847 47906 47489", date(2019, 12, 19),
     "415660100015306410074445400000007758474790647489191219"),
    # 5: no due date
    ("FI16 8000 1400 0502 67", "935.85", "78 77767 96566 28687", None,
     "416800014000502670009358500000078777679656628687000000"),
    # 6: no amount, the payer enters it
    ("FI73 3131 3001 0000 58", "0.00", "8 68624", date(2013, 8, 9),
     "473313130010000580000000000000000000000000868624130809"),
    # 7: a large amount, the longest reference
    ("FI83 3301 0001 1007 75", "150000.20", "92125 37425 25398 97737", date(2016, 5, 25),
     "483330100011007751500002000092125374252539897737160525"),
    # 8
    ("FI39 3636 3002 0924 92", "1.03", "5907 38390", date(2023, 3, 11),
     "439363630020924920000010300000000000000590738390230311"),
    # 9: a due date far ahead
    ("FI92 3939 0001 0033 91", "0.02", "13 57914", date(2099, 12, 24),
     "492393900010033910000000200000000000000001357914991224"),
]  # fmt: skip
GUIDE_VERSION_5 = [
    # 1
    ("FI79 4405 2020 0360 82", "4883.15", "RF09 8685 1625 9619 897", date(2010, 6, 12),
     "579440520200360820048831509000000868516259619897100612"),
    # 2 (the guide dates this version-5 example 31.1.2010)
    ("FI58 1017 1000 0001 22", "482.99", "RF06 5595 8224 3294 671", date(2010, 1, 31),
     "558101710000001220004829906000000559582243294671100131"),
    # 3
    ("FI02 5000 4640 0013 02", "693.80", "RF02 6987 5672 0834", date(2011, 7, 24),
     "502500046400013020006938002000000000698756720834110724"),
    # 4
    ("FI15 6601 0001 5306 41", "7444.54", "RF84 7758 4747 9064 7489", date(2019, 12, 19),
     "515660100015306410074445484000007758474790647489191219"),
    # 5: no due date
    ("FI16 8000 1400 0502 67", "935.85", "RF60 7877 7679 6566 2868 7", None,
     "516800014000502670009358560000078777679656628687000000"),
    # 6: no amount
    ("FI73 3131 3001 0000 58", "0.00", "RF10 8686 24", date(2013, 8, 9),
     "573313130010000580000000010000000000000000868624130809"),
    # 7
    ("FI83 3301 0001 1007 75", "150000.20", "RF71 9212 5374 2525 3989 7737", date(2016, 5, 25),
     "583330100011007751500002071092125374252539897737160525"),
    # 8
    ("FI39 3636 3002 0924 92", "1.03", "RF66 5907 3839 0", date(2023, 3, 11),
     "539363630020924920000010366000000000000590738390230311"),
    # 9
    ("FI92 3939 0001 0033 91", "0.02", "RF95 1357 914", date(2099, 12, 24),
     "592393900010033910000000295000000000000001357914991224"),
]  # fmt: skip


@pytest.mark.parametrize(("iban", "amount", "reference", "due", "expected"), GUIDE_VERSION_4)
def test_guide_examples_version_4(iban, amount, reference, due, expected):
    barcode = virtual_barcode(iban, Decimal(amount), reference, due)
    assert barcode.code == expected
    assert barcode.version == 4
    assert str(barcode) == expected


@pytest.mark.parametrize(("iban", "amount", "reference", "due", "expected"), GUIDE_VERSION_5)
def test_guide_examples_version_5(iban, amount, reference, due, expected):
    barcode = virtual_barcode(iban, Decimal(amount), reference, due)
    assert barcode.code == expected
    assert barcode.version == 5


def test_parts_are_kept_for_printing():
    barcode = virtual_barcode("fi79 4405 2020 0360 82", "4883.15", "RF09 8685 1625 9619 897")
    assert barcode.iban == "FI7944052020036082"
    assert barcode.amount == Decimal("4883.15")
    assert barcode.reference == "RF098685162596198 97".replace(" ", "")
    assert barcode.due is None
    assert barcode.code.endswith("000000")


def test_largest_amount_is_accepted():
    barcode = virtual_barcode("FI79 4405 2020 0360 82", Decimal("999999.99"), "1232")
    assert barcode.code[17:25] == "99999999"


@pytest.mark.parametrize(
    ("iban", "amount", "reference", "due", "message"),
    [
        ("DE89 3704 0044 0532 0130 00", "1.00", "1232", None, "not a Finnish IBAN"),
        ("SE45 5000 0000 0583 9825 7466", "1.00", "1232", None, "not a Finnish IBAN"),
        ("FI79 4405 2020 0360 8", "1.00", "1232", None, "FI and 16 digits"),
        ("FI78 4405 2020 0360 82", "1.00", "1232", None, "wrong check digits"),
        ("", "1.00", "1232", None, "not a Finnish IBAN"),
        ("FI79 4405 2020 0360 82", "1000000.00", "1232", None, "too large"),
        ("FI79 4405 2020 0360 82", "-0.01", "1232", None, "negative"),
        ("FI79 4405 2020 0360 82", "1.005", "1232", None, "fractions of a cent"),
        ("FI79 4405 2020 0360 82", "NaN", "1232", None, "fractions of a cent"),
        ("FI79 4405 2020 0360 82", "abc", "1232", None, "not a number"),
        ("FI79 4405 2020 0360 82", "1.00", "1233", None, "check digit"),
        ("FI79 4405 2020 0360 82", "1.00", "", None, "no payment reference"),
        ("FI79 4405 2020 0360 82", "1.00", "RF12 1232", None, "check digits"),
        ("FI79 4405 2020 0360 82", "1.00", "RF93 ABCD 1232", None, "holds letters"),
        ("FI79 4405 2020 0360 82", "1.00", "INV/2026/00001", None, "not valid"),
        ("FI79 4405 2020 0360 82", "1.00", "1232", date(1999, 12, 31), "2000-2099"),
    ],
)
def test_what_cannot_be_encoded_is_refused(iban, amount, reference, due, message):
    with pytest.raises(BarcodeError, match=message):
        virtual_barcode(iban, amount, reference, due)


def test_other_currency_is_refused():
    with pytest.raises(BarcodeError, match="euros only"):
        virtual_barcode("FI79 4405 2020 0360 82", "1.00", "1232", currency="SEK")
