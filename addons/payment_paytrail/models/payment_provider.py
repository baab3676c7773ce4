# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import ValidationError

from nordic_billing import paytrail

_logger = logging.getLogger(__name__)

SUPPORTED_CURRENCIES = ("EUR",)
DEFAULT_PAYMENT_METHOD_CODES = {"paytrail"}


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    code = fields.Selection(
        selection_add=[("paytrail", "Paytrail")], ondelete={"paytrail": "set default"}
    )
    paytrail_merchant_id = fields.Char(
        string="Paytrail Merchant ID",
        help="The merchant id (account) Paytrail gave you. In test mode Paytrail's public test "
        "merchant is used instead.",
        copy=False,
        groups="base.group_system",
    )
    paytrail_secret = fields.Char(
        string="Paytrail Secret Key",
        help="The secret key that signs every request and every answer.",
        copy=False,
        groups="base.group_system",
    )
    paytrail_api_url = fields.Char(
        string="Paytrail API URL",
        default=paytrail.BASE_URL,
        required_if_provider="paytrail",
        help="Paytrail's API. Change it only to try the provider against a local sandbox "
        "(nordic-billing sandbox paytrail).",
        groups="base.group_system",
    )
    paytrail_commission_account_id = fields.Many2one(
        "account.account",
        string="Paytrail Commission Account",
        help="Expense account for the commission Paytrail deducts from its payouts.",
        check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
    )

    # === CONSTRAINTS === #

    def _check_required_if_provider(self):
        """Override of `payment`: the merchant's own credentials are needed once enabled; test
        mode uses Paytrail's public test merchant."""
        result = super()._check_required_if_provider()
        missing = self.sudo().filtered(
            lambda p: p.code == "paytrail"
            and p.state == "enabled"
            and not (p.paytrail_merchant_id and p.paytrail_secret)
        )
        if missing:
            raise ValidationError(
                self.env._(
                    "Enter the Paytrail merchant id and secret key of %s before enabling it.",
                    ", ".join(missing.mapped("name")),
                )
            )
        return result

    # === COMPUTE METHODS === #

    def _compute_feature_support_fields(self):
        """Override of `payment` to enable refunds, whole or in part."""
        result = super()._compute_feature_support_fields()
        self.filtered(lambda p: p.code == "paytrail").update({"support_refund": "partial"})
        return result

    def _get_supported_currencies(self):
        """Override of `payment`: Paytrail takes euros only."""
        supported_currencies = super()._get_supported_currencies()
        if self.code == "paytrail":
            supported_currencies = supported_currencies.filtered(
                lambda c: c.name in SUPPORTED_CURRENCIES
            )
        return supported_currencies

    def _get_default_payment_method_codes(self):
        """Override of `payment` to return the default payment method codes."""
        self.ensure_one()
        if self.code != "paytrail":
            return super()._get_default_payment_method_codes()
        return DEFAULT_PAYMENT_METHOD_CODES

    # === CREDENTIALS === #

    def _paytrail_credentials(self):
        """(merchant id, secret): Paytrail's public test merchant in test mode."""
        self.ensure_one()
        if self.state == "test":
            return paytrail.TEST_MERCHANT_ID, paytrail.TEST_SECRET
        provider = self.sudo()
        return provider.paytrail_merchant_id or "", provider.paytrail_secret or ""

    def _paytrail_parse_return(self, data):
        """Verify the signed parameters of a redirect or callback; the core's ``ReturnData``.

        :raise paytrail.SignatureError: when the signature or the merchant does not match.
        """
        merchant_id, secret = self._paytrail_credentials()
        return paytrail.parse_return(secret, data, merchant_id)

    # === REQUEST HELPERS === #

    def _paytrail_request(
        self, method, endpoint, payload=None, *, transaction_id=None, params=None, reference=None
    ):
        """Send a signed request through Odoo's payment plumbing; the verified JSON answer.

        The body is serialised here, once, so that exactly the signed bytes are sent.
        """
        body = "" if payload is None else paytrail.encode_body(payload)
        return self._send_api_request(
            method,
            endpoint,
            params=params,
            data=body.encode("utf-8") if body else None,
            reference=reference,
            paytrail_body=body,
            paytrail_transaction_id=transaction_id,
        )

    def _build_request_url(self, endpoint, **kwargs):
        """Override of `payment` to build the request URL."""
        if self.code != "paytrail":
            return super()._build_request_url(endpoint, **kwargs)
        return self.sudo().paytrail_api_url.rstrip("/") + "/" + endpoint.lstrip("/")

    def _build_request_headers(self, method, endpoint, payload, **kwargs):
        """Override of `payment` to sign the request."""
        if self.code != "paytrail":
            return super()._build_request_headers(method, endpoint, payload, **kwargs)
        merchant_id, secret = self._paytrail_credentials()
        return paytrail.request_headers(
            merchant_id,
            secret,
            method,
            kwargs.get("paytrail_body") or "",
            transaction_id=kwargs.get("paytrail_transaction_id"),
            platform_name="odoo-payment_paytrail",
        )

    def _parse_response_content(self, response, **kwargs):
        """Override of `payment`: an answer whose signature does not match is refused."""
        if self.code != "paytrail":
            return super()._parse_response_content(response, **kwargs)
        _merchant_id, secret = self._paytrail_credentials()
        try:
            paytrail.verify_response(secret, response.headers, response.content)
        except paytrail.SignatureError as error:
            _logger.warning(
                "Paytrail answer with a wrong signature (request-id %s)", error.request_id
            )
            raise ValidationError(
                self.env._("Paytrail's answer is not signed with the merchant secret.")
            ) from error
        return response.json() if response.content else {}

    def _parse_response_error(self, response):
        """Override of `payment` to read Paytrail's error message."""
        if self.code != "paytrail":
            return super()._parse_response_error(response)
        return paytrail.error_message(response)

    # === SETTLEMENTS === #

    def _paytrail_find_settlement(self, bank_reference):
        """The Paytrail settlement paid out with ``bank_reference`` and the done payment
        transactions it settles: (settlement dict, transactions), or (None, empty) when Paytrail
        knows no such settlement.

        Paytrail lists settlements by bank reference; which payments a settlement holds is
        read from each candidate payment (``settlementReference``).
        """
        self.ensure_one()
        Transaction = self.env["payment.transaction"]
        settlements = self._paytrail_request(
            "GET", "/settlements", params={"bankReference": bank_reference}
        )
        if not settlements:
            return None, Transaction
        settlement = settlements[0]
        reference = settlement.get("settlementReference") or bank_reference
        domain = [
            ("provider_id", "=", self.id),
            ("state", "=", "done"),
            ("operation", "!=", "refund"),
            ("provider_reference", "!=", False),
            ("paytrail_settlement_reference", "=", False),
        ]
        settled_on = fields.Date.to_date((settlement.get("settledAt") or "")[:10] or None)
        if settled_on:
            # Paytrail settles what was paid before the payout: ask about those only.
            domain.append(("last_state_change", "<", settled_on + timedelta(days=1)))
        candidates = Transaction.search(domain)
        settled = Transaction
        for tx in candidates:
            payment = self._paytrail_request(
                "GET",
                f"/payments/{tx.provider_reference}",
                transaction_id=tx.provider_reference,
                reference=tx.reference,
            )
            if payment.get("settlementReference") == reference:
                settled |= tx
        return settlement, settled
