# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime as dt

from odoo.tests import tagged

from .common import MembookBillingCommon

SHARES = {"Tampere Ski Club": 25.0, "Pirkanmaa District": 10.0, "Finnish Ski Federation": 25.0}


@tagged("post_install", "-at_install")
class TestLedger(MembookBillingCommon):
    """Whatever reconciles a fee invoice feeds the allocation ledger; undoing it reverses."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank_journal = cls.company_data["default_journal_bank"]

    def _invoice(self, member=None, price=60.0):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": (member or self.member_a).id,
                "invoice_date": "2026-01-15",
                "invoice_line_ids": [
                    (0, 0, {"product_id": self.fee.id, "price_unit": price, "tax_ids": []})
                ],
            }
        )
        invoice.action_post()
        return invoice

    def _register_payment(self, moves, amount=None, date="2026-02-01"):
        values = {"payment_date": date, "journal_id": self.bank_journal.id}
        if amount is not None:
            values["amount"] = amount
        return (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create(values)
            ._create_payments()
        )

    def _totals(self, documents):
        totals = {}
        for allocation in self.env["membook.allocation"].search(
            [("invoice_id", "in", documents.ids)]
        ):
            key = allocation.organisation_id.name or "operator"
            totals[key] = round(totals.get(key, 0.0) + allocation.amount, 2)
        return totals

    def test_register_payment_allocates_with_its_partial(self):
        invoice = self._invoice()
        payment = self._register_payment(invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        allocations = self.env["membook.allocation"].search([("invoice_id", "=", invoice.id)])
        self.assertEqual(self._totals(invoice), SHARES)
        partial = invoice.line_ids.matched_credit_ids
        self.assertEqual(len(partial), 1)
        self.assertEqual(allocations.partial_id, partial)
        self.assertEqual(partial.membook_allocation_ids, allocations)
        self.assertEqual(allocations.counterpart_move_id, payment.move_id)
        self.assertEqual(set(allocations.mapped("date")), {dt.date(2026, 2, 1)})

    def test_partial_payments_pro_rata_then_exact(self):
        invoice = self._invoice()
        self._register_payment(invoice, amount=30.0)
        self.assertEqual(
            self._totals(invoice),
            {"Tampere Ski Club": 12.5, "Pirkanmaa District": 5.0, "Finnish Ski Federation": 12.5},
        )
        self._register_payment(invoice, amount=30.0)
        self.assertEqual(self._totals(invoice), SHARES)

    def test_unreconcile_reverses_and_leaves_settled_rows_alone(self):
        invoice = self._invoice()
        self._register_payment(invoice)
        settlement = self.env["membook.settlement"]._settle(
            self.env.company, self.club, dt.date(2026, 2, 2)
        )
        settled = settlement.allocation_ids
        self.assertEqual(settled.mapped("amount"), [25.0])
        partial = invoice.line_ids.matched_credit_ids
        invoice.js_remove_outstanding_partial(partial.id)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(self._totals(invoice), dict.fromkeys(SHARES, 0.0))
        # The settled row is as it was; its reversal is a new row the next settlement nets.
        self.assertEqual(settlement.allocation_ids, settled)
        self.assertEqual(settled.amount, 25.0)
        reversal = self.env["membook.allocation"].search([("reversed_id", "=", settled.id)])
        self.assertEqual((reversal.amount, reversal.settlement_id), (-25.0, settlement.browse()))
        # Paid again: allocated again.
        self._register_payment(invoice)
        self.assertEqual(self._totals(invoice), SHARES)

    def test_manual_reconciliation_allocates(self):
        invoice = self._invoice()
        receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        entry = self.env["account.move"].create(
            {
                "move_type": "entry",
                "date": "2026-02-03",
                "line_ids": [
                    (
                        0,
                        0,
                        {
                            "account_id": receivable.account_id.id,
                            "partner_id": self.member_a.id,
                            "credit": 60.0,
                        },
                    ),
                    (
                        0,
                        0,
                        {
                            "account_id": self.bank_journal.default_account_id.id,
                            "debit": 60.0,
                        },
                    ),
                ],
            }
        )
        entry.action_post()
        (receivable | entry.line_ids.filtered(lambda line: line.credit)).reconcile()
        self.assertEqual(self._totals(invoice), SHARES)
        self.assertEqual(
            set(self.env["membook.allocation"].search([]).mapped("counterpart_move_id")), {entry}
        )

    def test_credit_note_of_paid_fee_takes_shares_back_when_refunded(self):
        invoice = self._invoice()
        self._register_payment(invoice)
        credit_note = invoice._reverse_moves([{"invoice_date": "2026-02-10"}])
        credit_note.action_post()
        self.assertEqual(credit_note.membook_split_ids.mapped("amount"), [25.0, 10.0, 25.0])
        self.assertEqual(self._totals(credit_note), {}, "nothing moved yet: the member has credit")
        self._register_payment(credit_note, date="2026-02-11")
        self.assertEqual(
            self._totals(credit_note), {name: -amount for name, amount in SHARES.items()}
        )
        self.assertEqual(self._totals(invoice | credit_note), dict.fromkeys(SHARES, 0.0))

    def test_credit_note_used_on_another_fee(self):
        """The credit of a paid and credited fee pays the next fee: the first fee's shares are
        taken back, the second's allocated."""
        invoice = self._invoice()
        self._register_payment(invoice)
        credit_note = invoice._reverse_moves([{"invoice_date": "2026-02-10"}])
        credit_note.action_post()
        second = self._invoice()
        lines = (credit_note | second).line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        lines.reconcile()
        self.assertEqual(second.amount_residual, 0.0)
        self.assertEqual(self._totals(invoice | credit_note | second), SHARES)
        self.assertEqual(self._totals(credit_note)["Tampere Ski Club"], -25.0)

    def test_credit_note_cancelling_unpaid_fee_allocates_nothing(self):
        invoice = self._invoice()
        credit_note = invoice._reverse_moves([{"invoice_date": "2026-02-10"}], cancel=True)
        self.assertEqual(invoice.payment_state, "reversed")
        self.assertTrue(credit_note.line_ids.matched_debit_ids)
        self.assertFalse(self.env["membook.allocation"].search([]))
