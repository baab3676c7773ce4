# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import urls

from nordic_billing import paytrail

_logger = logging.getLogger(__name__)

RETURN_URL = "/payment/paytrail/return"
CALLBACK_URL = "/payment/paytrail/callback"
# States a redirect or callback no longer changes: Paytrail may call both URLs, more than once
# and in any order; the first final answer wins.
FINAL_STATES = ("done", "cancel", "error")
LANGUAGES = {"fi": "FI", "sv": "SV"}


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    paytrail_settlement_reference = fields.Char(
        string="Paytrail Settlement",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The reference of the Paytrail payout that settled this payment.",
    )

    # === RENDERING === #

    def _get_specific_rendering_values(self, processing_values):
        """Override of `payment`: create the payment at Paytrail and send the payer to its
        hosted payment page."""
        if self.provider_code != "paytrail":
            return super()._get_specific_rendering_values(processing_values)
        try:
            payment = self._paytrail_request("POST", "/payments", self._paytrail_payment_payload())
        except ValidationError as error:
            self._set_error(str(error))
            return {}
        self.provider_reference = payment.get("transactionId")
        return {"api_url": payment.get("href")}

    def _paytrail_urls(self, path):
        url = urls.urljoin(self.provider_id.get_base_url(), path)
        return {"success": url, "cancel": url}

    def _paytrail_payment_payload(self):
        """The body of ``POST /payments`` for this transaction."""
        email = self.partner_email or self.partner_id.email
        if not email:
            raise ValidationError(
                self.env._(
                    "Paytrail needs the payer's e-mail address; %s has none.", self.partner_name
                )
            )
        lang = (self.partner_lang or "")[:2]
        return {
            "stamp": self.reference,
            "reference": self.reference,
            "amount": paytrail.to_cents(self.amount),
            "currency": self.currency_id.name,
            "language": LANGUAGES.get(lang, "EN"),
            "customer": {"email": email},
            "redirectUrls": self._paytrail_urls(RETURN_URL),
            "callbackUrls": self._paytrail_urls(CALLBACK_URL),
        }

    def _paytrail_request(self, method, endpoint, payload=None, *, transaction_id=None):
        self.ensure_one()
        return self.provider_id._paytrail_request(
            method, endpoint, payload, transaction_id=transaction_id, reference=self.reference
        )

    # === PROCESSING === #

    @api.model
    def _extract_reference(self, provider_code, payment_data):
        """Override of `payment`: our reference travels as Paytrail's ``stamp``."""
        if provider_code != "paytrail":
            return super()._extract_reference(provider_code, payment_data)
        return payment_data.get("checkout-stamp")

    def _process(self, provider_code, payment_data):
        """Override of `payment`: a redirect or callback about a transaction that already
        reached a final state changes nothing (replays, the other URL of the pair)."""
        if provider_code != "paytrail":
            return super()._process(provider_code, payment_data)
        tx = self or self._search_by_reference(provider_code, payment_data)
        if tx and tx.state in FINAL_STATES:
            _logger.info(
                "Paytrail: transaction %s is %s already; %s status %s changes nothing.",
                tx.reference,
                tx.state,
                payment_data.get("checkout-transaction-id"),
                payment_data.get("checkout-status"),
            )
            return tx
        return super(PaymentTransaction, tx)._process(provider_code, payment_data)

    def _extract_amount_data(self, payment_data):
        """Override of `payment`: Paytrail reports cents, and takes euros only."""
        if self.provider_code != "paytrail":
            return super()._extract_amount_data(payment_data)
        return {
            "amount": float(paytrail.from_cents(payment_data["checkout-amount"])),
            "currency_code": payment_data.get("currency", "EUR"),
        }

    def _validate_amount(self, payment_data):
        """Override of `payment`: say which amounts differ; the transaction goes to error and
        nothing is booked."""
        if self.provider_code != "paytrail":
            return super()._validate_amount(payment_data)
        data = self._extract_amount_data(payment_data)
        reported = paytrail.to_cents(data["amount"])
        expected = paytrail.to_cents(abs(self.amount))
        if reported != expected or data["currency_code"] != self.currency_id.name:
            self._set_error(
                self.env._(
                    "Paytrail reported %(reported)s %(reported_currency)s for this payment, but "
                    "the transaction is for %(expected)s %(currency)s: it was not confirmed and "
                    "nothing was booked.",
                    reported=paytrail.from_cents(reported),
                    reported_currency=data["currency_code"],
                    expected=paytrail.from_cents(expected),
                    currency=self.currency_id.name,
                )
            )

    def _apply_updates(self, payment_data):
        """Override of `payment` to update the transaction from Paytrail's status."""
        if self.provider_code != "paytrail":
            return super()._apply_updates(payment_data)
        if not self.provider_reference:
            self.provider_reference = payment_data.get("checkout-transaction-id")
        status = payment_data.get("checkout-status")
        if status == "ok":
            self._set_done()
        elif status in ("pending", "delayed"):
            self._set_pending()
        elif status == "fail":
            self._set_canceled(self.env._("The payment was cancelled or refused at Paytrail."))
        else:
            self._set_error(self.env._("Paytrail sent an unknown payment status: %s", status))

    # === REFUNDS === #

    def _send_refund_request(self):
        """Override of `payment` to ask Paytrail to refund (part of) the source payment."""
        if self.provider_code != "paytrail":
            return super()._send_refund_request()
        source = self.source_transaction_id
        answer = self._paytrail_request(
            "POST",
            f"/payments/{source.provider_reference}/refund",
            {
                "amount": paytrail.to_cents(-self.amount),
                "refundStamp": self.reference,
                "refundReference": self.reference,
                "callbackUrls": self._paytrail_urls(CALLBACK_URL),
            },
            transaction_id=source.provider_reference,
        )
        self.provider_reference = answer.get("transactionId")
        if answer.get("status") == "ok":
            self._set_done()
        else:
            self._set_pending()
