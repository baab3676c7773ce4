# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime as dt
from decimal import Decimal

from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon

from nordic_billing.bankfiles import KtlBatch, write_ktl
from nordic_billing.payment import Payment

from .common import MembookBillingCommon


@tagged("post_install", "-at_install")
class TestTours(MembookBillingCommon, AccountTestInvoicingHttpCommon):
    def test_billing_run_tour(self):
        club = self.env["membook.organisation"].create(
            {
                "name": "Tour Club",
                "level_id": self.level_club.id,
                "parent_organisation_id": self.district.id,
            }
        )
        self.env["res.partner"].create(
            [
                {"name": f"Tour Member {n}", "is_member": True, "member_organisation_id": club.id}
                for n in range(2)
            ]
        )
        self.fee.name = "Tour fee"
        self.start_tour("/odoo", "membook_billing_run_tour", login="accountman")
        run = self.env["membook.billing.run"].search([("name", "=", "Tour fees 2026")])
        self.assertEqual(run.state, "running")
        self.assertEqual(len(run.line_ids), 2)
        self.assertEqual(run.line_ids.partner_id.member_organisation_id, club)

    def test_unmatched_queue_tour(self):
        journal = self.sale_journal
        models = dict(journal._fields["invoice_reference_model"]._description_selection(self.env))
        if "fi" not in models:
            self.skipTest("needs the Finnish reference model of l10n_fi")
        journal.invoice_reference_model = "fi"
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.member_b.id,
                "invoice_date": "2026-01-15",
                "invoice_line_ids": [
                    (0, 0, {"product_id": self.fee.id, "price_unit": 60.0, "tax_ids": []})
                ],
            }
        )
        invoice.action_post()
        ref = invoice.payment_reference
        typo = ref[:-3] + ref[-2] + ref[-3] + ref[-1]
        payment = Payment(
            account="47300010416310",
            archive_id="TOUR1",
            reference=typo,
            amount=Decimal("60.00"),
            currency="EUR",
            payment_date=dt.date(2026, 2, 1),
            booking_date=dt.date(2026, 2, 2),
            payer_name="TOUR PAYER",
            is_correction=False,
            source_format="ktl",
            source_line="",
        )
        data = write_ktl([KtlBatch(payments=[payment], created=dt.datetime(2026, 2, 2, 8))])
        bank = self.company_data["default_journal_bank"]
        self.env["membook.bank.file"]._import_file(bank, "tour.svm", data)
        # An HttpCase runs in registry test mode already.
        self.env.ref("membook_membership.ir_cron_membook_bank_process").method_direct_trigger()
        queued = self.env["membook.bank.payment"].search([("archive_id", "=", "TOUR1")])
        self.assertEqual(queued.state, "to_check")
        self.start_tour("/odoo", "membook_unmatched_queue_tour", login="accountman")
        self.assertEqual(queued.state, "assigned")
        self.assertEqual(queued.assigned_by_id.login, "accountman")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
