# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reference numbers: published vectors, strict messages, print forms, matching keys."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum import iso11649

from nordic_billing.references import (
    FI,
    KID10,
    KID11,
    KINDS,
    OCR,
    OCR_LEN,
    RF,
    InvalidReferenceError,
    fi_check_digit,
    kid_mod11_check_digit,
    normalise_for_matching,
    normalise_odoo_reference,
    ocr_length_and_check_digits,
)

DIGIT_KINDS = [FI, KID10, KID11, OCR, OCR_LEN]


def digits(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=min_size, max_size=max_size)


# --- known vectors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "base", "reference"),
    [
        # Shared payment facts.
        (FI, "123", "1232"),
        (FI, "1301", "13013"),
        (FI, "202400006", "2024000068"),
        (FI, "12345", "123453"),  # the body of the RF81123453 vector
        (RF, "1232", "RF111232"),
        (RF, "123453", "RF81123453"),
        (KID11, "12345678", "123456785"),
        (KID10, "12345678", "123456782"),
        # Odoo l10n_fi tests (checked against a bank's reference calculator there).
        (FI, "132", "1326"),
        (FI, "1234567890123456789", "12345678901234567894"),
        (RF, "1326", "RF921326"),
        (RF, "1290", "RF941290"),
        # MOD11 remainders 10 and 11: "-" and "0".
        (KID11, "6", "6-"),
        (KID11, "0", "00"),
        # Swedish OCR with length digit: 5 + 2 digits always has 7 second to last.
        (OCR_LEN, "12345", "1234574"),
        (OCR_LEN, "123456789", "12345678911"),  # 11 digits -> length digit 1
        (OCR, "12345", "123455"),
    ],
)
def test_known_vectors(kind, base, reference):
    assert kind.make(base) == reference
    assert kind.check(reference)
    assert kind.validate(reference) == reference


@pytest.mark.parametrize(
    "reference",
    ["RF952024000071", "RF18 5390 0754 7034", " RF18539007547034", "rf18539007547034"],
)
def test_rf_valid(reference):
    assert RF.check(reference)


def test_rf_with_zero_padded_body_is_valid():
    assert RF.check("RF18000000000539007547034")


def test_mod11_arithmetic_by_hand():
    # 8*2 + 7*3 + 6*4 + 5*5 + 4*6 + 3*7 + 2*2 + 1*3 = 138; 138 mod 11 = 6; 11 - 6 = 5.
    assert kid_mod11_check_digit("12345678") == "5"


def test_finnish_arithmetic_by_hand():
    # 6*7 + 0*3 + 0*1 + 0*7 + 0*3 + 4*1 + 2*7 + 0*3 + 2*1 = 62 -> 8.
    assert fi_check_digit("202400006") == "8"


def test_ocr_length_digit_counts_itself_and_the_check_digit():
    suffix = ocr_length_and_check_digits("12345678")  # 8 + 2 = 10 digits -> length digit 0
    assert suffix[0] == "0"
    assert OCR.check("12345678" + suffix)  # a length-digit OCR is also a plain Luhn OCR


# --- strict validation and messages --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (FI, "1233", r"Finnish reference '1233': the check digit is '3' but should be '2'\."),
        (FI, "12", r"it has 2 characters; 4 to 20 are allowed\."),
        (FI, "123456789012345678901", r"it has 21 characters; 4 to 20 are allowed\."),
        (FI, "12A2", r"only digits are allowed"),
        (FI, "", r"the reference is empty"),
        (RF, "RF962024000071", r"the check digits are '96' but should be '95'\."),
        (RF, "2024000071", r"it must start with RF\."),
        (RF, "RFXX1232", r"RF must be followed by two check digits\."),
        (RF, "RF11", r"1 to 21 letters or digits"),
        (RF, "RF11" + "1" * 22, r"1 to 21 letters or digits"),
        (RF, "RF11-232", r"1 to 21 letters or digits"),
        (
            KID11,
            "123456786",
            r"KID \(MOD11\) '123456786': the check digit is '6' but should be '5'",
        ),
        (KID10, "123456785", r"the check digit is '5' but should be '2'"),
        (KID10, "1" * 26, r"it has 26 characters; 2 to 25 are allowed"),
        (OCR_LEN, "1234584", r"the length and check digits are '84' but should be '74'"),
    ],
)
def test_validate_raises_with_message(kind, value, message):
    with pytest.raises(InvalidReferenceError, match=message) as caught:
        kind.validate(value)
    assert caught.value.kind == kind.code
    assert caught.value.value == value
    assert isinstance(caught.value, ValueError)
    assert not kind.check(value)


@pytest.mark.parametrize(
    ("kind", "base", "message"),
    [
        (FI, "12", r"the base has 2 digits; 3 to 19 are allowed"),
        (FI, "1" * 20, r"the base has 20 digits; 3 to 19 are allowed"),
        (FI, "12a", r"the base may contain digits only"),
        (KID10, " ", r"the base is empty"),
        (OCR_LEN, "1" * 24, r"the base has 24 digits; 1 to 23 are allowed"),
        (RF, "AB-12", r"letters A-Z and digits only"),
        (RF, "1" * 22, r"at most 21 are allowed"),
        (RF, "ÄB12", r"letters A-Z and digits only"),
    ],
)
def test_make_rejects_bad_base(kind, base, message):
    with pytest.raises(InvalidReferenceError, match=message):
        kind.make(base)


def test_make_accepts_spaces_and_keeps_leading_zeros():
    assert FI.make(" 00 12 ") == "00123"
    assert RF.make("ab 12") == RF.make("AB12")


# --- print forms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "printed"),
    [
        (FI, "2024000068", "20240 00068"),
        (FI, "12345678901234567894", "12345 67890 12345 67894"),
        (FI, "1232", "1232"),
        (FI, "12 3453", "1 23453"),
        (RF, "RF952024000071", "RF95 2024 0000 71"),
        (RF, "rf111232", "RF11 1232"),
        (KID10, "1234 56782", "123456782"),
        (OCR_LEN, "1234574", "1234574"),
    ],
)
def test_format(kind, value, printed):
    assert kind.format(value) == printed


def test_format_refuses_invalid_reference():
    with pytest.raises(InvalidReferenceError):
        FI.format("1233")


def test_registry_offers_every_kind_to_a_command_line():
    assert set(KINDS) == {"fi", "rf", "kid10", "kid11", "ocr", "ocr_len"}
    for code, kind in KINDS.items():
        assert kind.code == code
        made = kind.make("12345")
        assert kind.check(made)
        assert kind.check(kind.format(made))


# --- matching keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "key"),
    [
        ("2024000068", "2024000068"),
        ("20240 00068", "2024000068"),
        ("00000000002024000068", "2024000068"),  # KTL pads to 20 digits
        ("RF95 2024 0000 71", "2024000071"),  # RF around a national reference
        ("rf952024000071", "2024000071"),
        ("RF18 5390 0754 7034", "RF18539007547034"),  # body is not a national reference
        ("RF18000000000539007547034", "RF18539007547034"),
        ("RF962024000071", "RF962024000071"),  # wrong RF check digits: not unwrapped
        ("inv/2026/0001", "INV/2026/0001"),
        ("", ""),
        ("  ", ""),
        ("0000", "0"),
    ],
)
def test_normalise_for_matching(reference, key):
    assert normalise_for_matching(reference) == key


def test_rf_around_short_national_reference_matches_it():
    # "0123" is a valid national reference; its RF form has body 0123 and both keys are "123".
    national = FI.make("012")
    assert normalise_for_matching(RF.make(national)) == normalise_for_matching(national) == "123"


@pytest.mark.parametrize(
    ("reference", "model", "key"),
    [
        ("20240 00068", "fi", "2024000068"),
        ("RF95 2024 0000 71", "fi_rf", "2024000071"),
        ("RF18 5390 0754 7034", "euro", "RF18539007547034"),
        ("000000700000011", "no", "700000011"),  # l10n_no: partner 7, invoice 1
        ("INV/2026/00001", "odoo", "INV/2026/00001"),
    ],
)
def test_normalise_odoo_reference(reference, model, key):
    assert normalise_odoo_reference(reference, model) == key


@pytest.mark.parametrize(
    ("reference", "model"),
    [("20240 00069", "fi"), ("RF96 2024 0000 71", "fi_rf"), ("2024000068", "euro"), ("12", "no")],
)
def test_normalise_odoo_reference_rejects_invalid(reference, model):
    with pytest.raises(InvalidReferenceError):
        normalise_odoo_reference(reference, model)


# --- properties ----------------------------------------------------------------------------------


@given(kind=st.sampled_from(DIGIT_KINDS), data=st.data())
def test_make_then_check_round_trips(kind, data):
    base = data.draw(digits(kind.min_base, kind.max_base))
    reference = kind.make(base)
    assert reference.startswith(base)
    assert len(reference) == len(base) + kind.suffix_len
    assert kind.check(reference)
    assert kind.check(kind.format(reference))


@given(body=st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=21))
def test_rf_make_then_check_round_trips(body):
    reference = RF.make(body)
    assert reference.endswith(body)
    assert RF.check(reference)
    assert RF.check(RF.format(reference))


@given(
    kind=st.sampled_from([*DIGIT_KINDS, RF]),
    data=st.data(),
)
def test_any_single_digit_change_is_detected(kind, data):
    if kind is RF:
        reference = RF.make(data.draw(digits(1, 21)))
        first = 2  # the check digits and the body; "RF" itself is not a digit
    else:
        reference = kind.make(data.draw(digits(kind.min_base, kind.max_base)))
        first = 0
    position = data.draw(
        st.integers(first, len(reference) - 1).filter(lambda i: reference[i].isdigit())
    )
    digit = data.draw(st.sampled_from("0123456789").filter(lambda d: d != reference[position]))
    changed = reference[:position] + digit + reference[position + 1 :]
    assert not kind.check(changed)


@given(
    body=st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=21),
    check=st.integers(0, 99),
)
def test_rf_agrees_with_python_stdnum(body, check):
    made = RF.make(body)
    assert iso11649.is_valid(made)
    other = f"RF{check:02d}{body}"
    assert RF.check(other) == iso11649.is_valid(other)


@given(st.text(alphabet="0123456789 RFrfAB-/", max_size=30))
def test_normalise_is_idempotent(reference):
    key = normalise_for_matching(reference)
    assert normalise_for_matching(key) == key


@given(digits(3, 19), st.integers(0, 5))
def test_rf_wrapped_and_zero_padded_national_references_share_a_key(base, padding):
    national = FI.make(base)
    key = normalise_for_matching(national)
    assert normalise_for_matching(RF.make(national)) == key
    assert normalise_for_matching("0" * padding + national) == key
    assert normalise_for_matching(FI.format(national)) == key


@given(st.integers(100, 10**19 - 1), st.integers(100, 10**19 - 1))
def test_different_national_references_get_different_keys(first, second):
    assume(first != second)
    keys = {normalise_for_matching(FI.make(str(number))) for number in (first, second)}
    assert len(keys) == 2
