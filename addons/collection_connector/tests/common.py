# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, timedelta

from odoo import Command, fields

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from nordic_billing.sandbox.agency import start_in_thread

SANDBOX_KEY = "sandbox-key"


class CollectionCommon(AccountTestInvoicingCommon):
    """Accounting in a Finnish company, a sandbox agency over real HTTP on 127.0.0.1 with a
    REST backend that creates cases, and two customers with full addresses."""

    country_code = "FI"  # a company in euros, the currency of the Finnish fee limits
    chart_template = "generic_coa"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids |= cls.env.ref("collection_connector.group_collection_manager")
        cls.company = cls.env.company
        cls.finland = cls.env.ref("base.fi")
        cls.sandbox = start_in_thread(api_key=SANDBOX_KEY)
        cls.addClassCleanup(cls.sandbox.stop)
        cls.env["ir.config_parameter"].sudo().set_param("collection_connector.backoff", "0")

        Account = cls.env["account.account"]
        cls.account_clearing = Account.create(
            {
                "name": "Agency clearing",
                "code": "191900",
                "account_type": "asset_current",
                "reconcile": True,
            }
        )
        cls.account_interest = Account.create(
            {"name": "Late-payment interest", "code": "379000", "account_type": "income_other"}
        )
        cls.account_fees = Account.create(
            {"name": "Reminder fees", "code": "379100", "account_type": "income_other"}
        )
        cls.account_costs = Account.create(
            {"name": "Collection costs", "code": "869000", "account_type": "expense"}
        )
        cls.account_other = Account.create(
            {"name": "Agency other postings", "code": "869100", "account_type": "expense"}
        )
        cls.backend = cls._create_backend("Agency REST", creates_cases=True)
        Partner = cls.env["res.partner"]
        cls.debtor = Partner.create(
            {
                "name": "Velallinen Oy",
                "is_company": True,
                "company_registry": "1234567-8",
                "street": "Hämeenkatu 1",
                "zip": "33100",
                "city": "Tampere",
                "country_id": cls.finland.id,
                "email": "ap@velallinen.example",
            }
        )
        cls.consumer = Partner.create(
            {
                "name": "Matti Meikäläinen",
                "street": "Kotikatu 2 A 3",
                "zip": "00100",
                "city": "Helsinki",
                "country_id": cls.finland.id,
                "email": "matti@example.com",
            }
        )

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Odoo's guard against outside HTTP compares the timeout with a number; the core's
        # REST adapter passes requests a (connect, read) pair. Hand the guard the longer one.
        timeout = kw.get("timeout")
        if isinstance(timeout, tuple):
            kw["timeout"] = max(t for t in timeout if t is not None)
        return super()._request_handler(s, r, **kw)

    @classmethod
    def _create_backend(cls, name, protocol="generic_rest", **values):
        return cls.env["collection.backend"].create(
            {
                "name": name,
                "protocol": protocol,
                "url": cls.sandbox.url,
                "api_key": SANDBOX_KEY,
                "timeout": 5,
                "max_retries": 0,
                "settlement_journal_id": cls.company_data["default_journal_misc"].id,
                "clearing_account_id": cls.account_clearing.id,
                "interest_account_id": cls.account_interest.id,
                "fee_account_id": cls.account_fees.id,
                "cost_account_id": cls.account_costs.id,
                "other_account_id": cls.account_other.id,
                **values,
            }
        )

    @classmethod
    def _invoice(cls, due, amount=100.0, partner=None, post=True, **values):
        """A customer invoice of ``amount`` (no tax) due on ``due``, invoiced 14 days before."""
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": (partner or cls.debtor).id,
                "invoice_date": due - timedelta(days=14),
                "invoice_date_due": due,
                "invoice_payment_term_id": False,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Membership fee",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [],
                        }
                    )
                ],
                **values,
            }
        )
        if post:
            invoice.action_post()
        return invoice

    def _run_cron(self, xmlid):
        with self.enter_registry_test_mode():
            result = self.env.ref(xmlid).method_direct_trigger()
        self.assertIs(result, True, f"{xmlid} failed: {result}")

    def _fill_draft_list(self):
        self._run_cron("collection_connector.ir_cron_collection_draft_list")

    def _run_reminders(self):
        self._run_cron("collection_connector.ir_cron_collection_reminders")

    def _send(self):
        self._run_cron("collection_connector.ir_cron_collection_send")

    def _pull(self):
        self._run_cron("collection_connector.ir_cron_collection_pull")

    def _case(self, invoice):
        return self.env["collection.case"].search([("move_id", "=", invoice.id)])

    def _agency_case(self, case_number):
        return self.sandbox.state.cases[case_number]

    def _pay(self, invoice, amount, pay_date=None):
        """Register a customer payment of ``amount`` on ``invoice``."""
        return self._register_payment(
            invoice, amount=amount, payment_date=pay_date or fields.Date.today()
        )

    @staticmethod
    def _today():
        return date.today()
