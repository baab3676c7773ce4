# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from urllib.parse import urlencode

import requests

from odoo.addons.account_payment.tests.common import AccountPaymentCommon
from odoo.addons.payment.tests.http_common import PaymentHttpCommon

from nordic_billing.sandbox.paytrail import start_in_thread

SANDBOX_TIMEOUT = 30


class PaytrailCommon(AccountPaymentCommon, PaymentHttpCommon):
    """A euro company, the Paytrail provider in test mode against a local Paytrail sandbox,
    its payments booked on the bank journal through a transit account."""

    @classmethod
    def setup_independent_company(cls, **kwargs):
        euro = cls.env.ref("base.EUR")
        euro.active = True
        return super().setup_independent_company(currency_id=euro.id, **kwargs)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = start_in_thread()
        cls.addClassCleanup(cls.sandbox.stop)
        Account = cls.env["account.account"]
        cls.transit_account = Account.create(
            {
                "name": "Paytrail transit",
                "code": "1799PT",
                "account_type": "asset_current",
                "reconcile": True,
            }
        )
        cls.commission_account = Account.create(
            {"name": "Paytrail commission", "code": "6999PT", "account_type": "expense"}
        )
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.paytrail = cls._prepare_provider(
            "paytrail",
            update_values={
                "paytrail_api_url": cls.sandbox.url,
                "journal_id": cls.bank_journal.id,
                "paytrail_commission_account_id": cls.commission_account.id,
                "is_published": True,
            },
        )
        cls.provider = cls.paytrail
        cls.currency = cls.currency_euro
        cls.payment_method = cls.env.ref("payment.payment_method_paytrail")
        cls.payment_method_id = cls.payment_method.id
        cls.payment_method_code = cls.payment_method.code
        cls.amount = 60.0
        cls.partner.email = "norbert.buyer@example.com"
        cls.paytrail.journal_id.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == cls.paytrail
        ).payment_account_id = cls.transit_account

    def setUp(self):
        super().setUp()
        requests.post(f"{self.sandbox.url}/_sandbox/reset", timeout=5).raise_for_status()

    # -- helpers ---------------------------------------------------------------------------

    def _paytrail_tx(self, **values):
        """A transaction created at the sandbox, as the payment form does."""
        tx = self._create_transaction("redirect", **values)
        processing_values = tx._get_processing_values()
        self.assertTrue(tx.provider_reference, tx.state_message)
        self.assertIn(self.sandbox.url, processing_values["redirect_form_html"])
        return tx

    def _sandbox_state(self):
        return requests.get(f"{self.sandbox.url}/_sandbox/state", timeout=5).json()

    def _complete(self, tx, status="ok", callback=True):
        """What Paytrail does when the payer finishes: the callback reaches Odoo (served while
        the test waits), and the signed redirect parameters are returned."""
        with self.allow_requests(all_requests=True):
            response = requests.post(
                f"{self.sandbox.url}/_sandbox/payments/{tx.provider_reference}/complete",
                json={"status": status, "provider": "nordea", "callback": callback},
                timeout=SANDBOX_TIMEOUT,
            )
            response.raise_for_status()
            result = response.json()
            self.assertTrue(self.sandbox.wait_callbacks(SANDBOX_TIMEOUT))
        self.env.invalidate_all()
        return result

    def _wait_callbacks(self):
        with self.allow_requests(all_requests=True):
            self.assertTrue(self.sandbox.wait_callbacks(SANDBOX_TIMEOUT))
        self.env.invalidate_all()

    def _get(self, path, params):
        """GET one of our Paytrail URLs as Paytrail (or the payer's browser) does."""
        response = self.url_open(f"{path}?{urlencode(params)}", allow_redirects=False)
        self.env.invalidate_all()
        return response
