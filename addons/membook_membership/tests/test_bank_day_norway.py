# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Norway on the same path: a Norwegian company bills with KID references (l10n_no) and its
members' payments arrive in a Nets OCR giro file, read, matched, reconciled and allocated by the
same bank day as Finnish files."""

import datetime as dt
from decimal import Decimal

from odoo.tests import tagged

from nordic_billing.bankfiles import OcrAssignment, write_nets_ocr
from nordic_billing.payment import Payment

from .common import MembookBillingCommon

ACCOUNT = "99991042764"  # the company's Norwegian bank account (BBAN)


@tagged("post_install", "-at_install")
class TestBankDayNorway(MembookBillingCommon):
    @classmethod
    @MembookBillingCommon.setup_country("no")
    def setUpClass(cls):
        super().setUpClass()
        models = dict(
            cls.sale_journal._fields["invoice_reference_model"]._description_selection(cls.env)
        )
        if "no" not in models:
            cls.skipTest(cls, "needs the KID reference model of l10n_no")
        cls.sale_journal.invoice_reference_model = "no"
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.invoices = {}
        for member in (cls.member_a, cls.member_b):
            invoice = cls.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": member.id,
                    "invoice_date": "2026-01-15",
                    "invoice_date_due": "2026-02-15",
                    "invoice_line_ids": [
                        (0, 0, {"product_id": cls.fee.id, "price_unit": 60.0, "tax_ids": []})
                    ],
                }
            )
            invoice.action_post()
            cls.invoices[member] = invoice

    def _payment(self, archive, kid, amount):
        return Payment(
            account=ACCOUNT,
            archive_id=archive,
            reference=kid,
            amount=Decimal(amount),
            currency="NOK",
            payment_date=dt.date(2026, 2, 1),
            booking_date=dt.date(2026, 2, 2),
            payer_name="",
            is_correction=False,
            source_format="nets-ocr",
            source_line="",
        )

    def test_nets_ocr_giro_file_is_matched_reconciled_and_allocated(self):
        invoice_a, invoice_b = self.invoices[self.member_a], self.invoices[self.member_b]
        self.assertEqual(self.env.company.currency_id.name, "NOK")
        kid_a, kid_b = invoice_a.payment_reference, invoice_b.payment_reference
        self.assertTrue(kid_a.isdigit() and kid_b.isdigit(), "l10n_no gives KID references")
        data = write_nets_ocr(
            [
                OcrAssignment(
                    ACCOUNT,
                    # Member A pays in full; member B pays 20 of 60, with the KID zero-padded
                    # as the payer's bank may send it.
                    [
                        self._payment("100000001", kid_a, "60.00"),
                        self._payment("100000002", kid_b.zfill(25), "20.00"),
                    ],
                )
            ],
            dt.date(2026, 2, 2),
        )
        record = self.env["membook.bank.file"]._import_file(self.bank_journal, "OCR.txt", data)
        self.assertEqual(
            (record.file_format, record.payment_count, record.amount_total),
            ("nets-ocr", 2, 80.0),
        )
        cron = self.env.ref("membook_membership.ir_cron_membook_bank_process")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        paid_a, paid_b = record.payment_ids.sorted("archive_id")
        self.assertEqual((paid_a.state, paid_a.match_kind), ("matched", "exact"))
        self.assertEqual((paid_b.state, paid_b.match_kind), ("matched", "partial"))
        self.assertEqual(paid_a.reference_source, "structured")
        self.assertIn(invoice_a.payment_state, ("paid", "in_payment"))
        self.assertEqual((invoice_b.payment_state, invoice_b.amount_residual), ("partial", 40.0))
        self.assertTrue(paid_a.statement_line_id.is_reconciled)
        self.assertEqual(paid_a.statement_line_id.currency_id.name, "NOK")
        self.assertEqual(sum(record.payment_ids.statement_line_id.mapped("amount")), 80.0)
        allocations = self.env["membook.allocation"].search(
            [("invoice_id", "in", (invoice_a | invoice_b).ids)]
        )
        self.assertEqual(
            {
                (a.invoice_id, a.organisation_id.name): a.amount
                for a in allocations.filtered(lambda a: a.invoice_id == invoice_a)
            },
            {
                (invoice_a, "Tampere Ski Club"): 25.0,
                (invoice_a, "Pirkanmaa District"): 10.0,
                (invoice_a, "Finnish Ski Federation"): 25.0,
            },
        )
        self.assertEqual(sum(allocations.mapped("amount")), 80.0, "every krone allocated")
        self.assertEqual(set(allocations.company_id.mapped("currency_id.name")), {"NOK"})
