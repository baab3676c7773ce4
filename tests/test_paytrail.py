# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Paytrail signing and verification, without a server."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nordic_billing import paytrail

# The documented redirect example (Paytrail API documentation, "Redirect and callback URL
# parameters").
VECTOR = {
    "checkout-account": "375917",
    "checkout-algorithm": "sha256",
    "checkout-amount": "2964",
    "checkout-stamp": "15336332710015",
    "checkout-reference": "192387192837195",
    "checkout-transaction-id": "4b300af6-9a22-11e8-9184-abb6de7fd2d0",
    "checkout-status": "ok",
    "checkout-provider": "nordea",
}
VECTOR_SIGNATURE = "b2d3ecdda2c04563a4638fcade3d4e77dfdc58829b429ad2c2cb422d0fc64080"


def test_documented_vector() -> None:
    assert paytrail.sign("SAIPPUAKAUPPIAS", VECTOR) == VECTOR_SIGNATURE
    assert paytrail.verify("SAIPPUAKAUPPIAS", VECTOR, VECTOR_SIGNATURE)


def test_vector_parsed() -> None:
    data = paytrail.parse_return("SAIPPUAKAUPPIAS", {**VECTOR, "signature": VECTOR_SIGNATURE})
    assert data.amount == Decimal("29.64")
    assert (data.stamp, data.status, data.provider) == ("15336332710015", "ok", "nordea")
    assert data.transaction_id == "4b300af6-9a22-11e8-9184-abb6de7fd2d0"


def test_order_and_case_do_not_matter() -> None:
    shuffled = {key.upper(): VECTOR[key] for key in reversed(list(VECTOR))}
    assert paytrail.sign("SAIPPUAKAUPPIAS", shuffled) == VECTOR_SIGNATURE


def test_other_parameters_are_not_signed() -> None:
    assert paytrail.sign("SAIPPUAKAUPPIAS", {**VECTOR, "lang": "fi"}) == VECTOR_SIGNATURE


@pytest.mark.parametrize(
    "change",
    [
        {"checkout-amount": "2965"},
        {"checkout-status": "fail"},
        {"checkout-new-thing": "x"},  # an added parameter is signed over
    ],
)
def test_tampered_parameters_fail(change) -> None:
    params = {**VECTOR, **change, "signature": VECTOR_SIGNATURE}
    assert not paytrail.verify("SAIPPUAKAUPPIAS", params, VECTOR_SIGNATURE)
    with pytest.raises(paytrail.SignatureError):
        paytrail.parse_return("SAIPPUAKAUPPIAS", params)


def test_unknown_parameters_tolerated_when_signed() -> None:
    params = {**VECTOR, "checkout-new-thing": "x"}
    params["signature"] = paytrail.sign("SAIPPUAKAUPPIAS", params)
    data = paytrail.parse_return("SAIPPUAKAUPPIAS", params)
    assert data.params["checkout-new-thing"] == "x"


def test_wrong_secret_or_merchant() -> None:
    params = {**VECTOR, "signature": VECTOR_SIGNATURE}
    with pytest.raises(paytrail.SignatureError):
        paytrail.parse_return("MONISAIPPUAKAUPPIAS", params)
    with pytest.raises(paytrail.SignatureError):
        paytrail.parse_return("SAIPPUAKAUPPIAS", params, merchant_id="695861")
    assert not paytrail.verify("SAIPPUAKAUPPIAS", params, None)
    assert not paytrail.verify("SAIPPUAKAUPPIAS", params, "")


def test_sha512_and_unknown_algorithm() -> None:
    params = {**VECTOR, "checkout-algorithm": "sha512"}
    signature = paytrail.sign("SAIPPUAKAUPPIAS", params, "", "sha512")
    assert len(signature) == 128
    assert paytrail.verify("SAIPPUAKAUPPIAS", params, signature)
    assert not paytrail.verify("SAIPPUAKAUPPIAS", {**params, "checkout-algorithm": "md5"}, "00")
    with pytest.raises(paytrail.SignatureError):
        paytrail.sign("SAIPPUAKAUPPIAS", params, "", "md5")


def test_missing_parameter_is_a_clear_error() -> None:
    params = {k: v for k, v in VECTOR.items() if k != "checkout-status"}
    params["signature"] = paytrail.sign("SAIPPUAKAUPPIAS", params)
    with pytest.raises(paytrail.PaytrailError, match="checkout-status"):
        paytrail.parse_return("SAIPPUAKAUPPIAS", params)


def test_request_headers_sign_the_body() -> None:
    body = paytrail.encode_body({"stamp": "a", "amount": 1})
    headers = paytrail.request_headers("375917", "SAIPPUAKAUPPIAS", "post", body)
    assert headers["checkout-method"] == "POST"
    assert paytrail.verify("SAIPPUAKAUPPIAS", headers, headers["signature"], body)
    assert not paytrail.verify("SAIPPUAKAUPPIAS", headers, headers["signature"], body + " ")
    paytrail.verify_response("SAIPPUAKAUPPIAS", headers, body.encode())
    with pytest.raises(paytrail.SignatureError):
        paytrail.verify_response("SAIPPUAKAUPPIAS", headers, b"{}")
    other = paytrail.request_headers("375917", "SAIPPUAKAUPPIAS", "POST", body)
    assert other["checkout-nonce"] != headers["checkout-nonce"]


@pytest.mark.parametrize(
    ("amount", "cents"),
    [(Decimal("29.64"), 2964), (29.64, 2964), ("0.1", 10), (0.1 + 0.2, 30), (1000, 100000)],
)
def test_cents(amount, cents) -> None:
    assert paytrail.to_cents(amount) == cents
    assert paytrail.from_cents(cents) == Decimal(str(cents)) / 100
