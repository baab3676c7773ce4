# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime as dt

import requests

from odoo.tests import tagged

from nordic_billing import paytrail
from nordic_billing.bankfiles import KtlBatch, write_ktl
from nordic_billing.payment import Payment

from .common import MembookPaytrailCommon

BBAN = "47300010416310"


@tagged("post_install", "-at_install")
class TestPaytrailSettlement(MembookPaytrailCommon):
    def _paid(self, amount, reference):
        invoice = self._fee_invoice(self.member_a, amount)
        tx = self._paytrail_tx(
            reference=reference,
            amount=amount,
            partner_id=self.member_a.id,
            invoice_ids=[(6, 0, invoice.ids)],
        )
        self._complete(tx)
        tx._post_process()
        self.assertEqual(tx.payment_id.outstanding_account_id, self.transit_account)
        return tx, invoice

    def _settle(self, *transactions):
        response = requests.post(
            f"{self.sandbox.url}/_sandbox/settlements",
            json={"transactions": [tx.provider_reference for tx in transactions]},
            timeout=10,
        )
        self.assertEqual(response.status_code, 201, response.text)
        return response.json()

    def _import_payout(self, reference, cents, archive_id="PAYTRAIL1"):
        payout = Payment(
            account=BBAN,
            archive_id=archive_id,
            reference=reference,
            amount=paytrail.from_cents(cents),
            currency="EUR",
            payment_date=dt.date(2026, 2, 2),
            booking_date=dt.date(2026, 2, 2),
            payer_name="PAYTRAIL OYJ",
            is_correction=False,
            source_format="ktl",
            source_line="",
        )
        data = write_ktl([KtlBatch(payments=[payout], created=dt.datetime(2026, 2, 2, 8))])
        self.env["membook.bank.file"]._import_file(self.bank_journal, f"{archive_id}.svm", data)
        # An HttpCase runs in registry test mode already.
        self.env.ref("membook_membership.ir_cron_membook_bank_process").method_direct_trigger()
        self.env.invalidate_all()
        return self.env["membook.bank.payment"].search([("archive_id", "=", archive_id)])

    def _transit_items(self, transactions):
        return transactions.payment_id.move_id.line_ids.filtered(
            lambda line: line.account_id == self.transit_account
        )

    def test_settlement_with_commission_booked_and_cleared(self):
        tx_a, invoice_a = self._paid(60.0, "PT-A")
        tx_b, invoice_b = self._paid(30.0, "PT-B")
        tx_later, _invoice = self._paid(45.0, "PT-LATER")
        settlement = self._settle(tx_a, tx_b)
        # The sandbox keeps 2 % + 0.10 a payment: 1.30 + 0.70.
        self.assertEqual((settlement["gross"], settlement["commission"]), (9000, 200))
        reference = settlement["settlementReference"]
        payout = self._import_payout(reference, settlement["net"])

        self.assertEqual((payout.state, payout.match_kind), ("matched", "paytrail_settlement"))
        self.assertIn(reference, payout.match_reason)
        self.assertEqual(payout.paytrail_transaction_ids, tx_a | tx_b)
        self.assertEqual(payout.invoice_ids, invoice_a | invoice_b)
        self.assertEqual((tx_a | tx_b).mapped("paytrail_settlement_reference"), [reference] * 2)
        self.assertFalse(tx_later.paytrail_settlement_reference)
        # The commission is an expense, taken from the transit account.
        commission = payout.paytrail_commission_move_id
        self.assertEqual(commission.state, "posted")
        expense = commission.line_ids.filtered(
            lambda line: line.account_id == self.commission_account
        )
        self.assertEqual((expense.debit, expense.credit), (2.0, 0.0))
        # The bank got 88.00; the payments' transit items are cleared with the payout's item
        # and the commission: one full reconciliation, the money trail.
        self.assertEqual(payout.amount, 88.0)
        items = self._transit_items(tx_a | tx_b)
        self.assertTrue(all(items.mapped("reconciled")))
        full = items.full_reconcile_id
        self.assertEqual(len(full), 1)
        self.assertEqual(
            full.reconciled_line_ids,
            items
            | payout.counterpart_line_id
            | commission.line_ids.filtered(lambda line: line.account_id == self.transit_account),
        )
        # What is not settled yet stays on the transit account, and only that.
        open_items = self.env["account.move.line"].search(
            [("account_id", "=", self.transit_account.id), ("reconciled", "=", False)]
        )
        self.assertEqual(open_items, self._transit_items(tx_later))
        self.assertEqual(sum(open_items.mapped("balance")), 45.0)
        self.assertIn(invoice_a.payment_state, ("paid", "in_payment"))

    def test_payout_that_does_not_add_up_stays_in_the_queue(self):
        tx, _invoice = self._paid(60.0, "PT-ONE")
        settlement = self._settle(tx)
        payout = self._import_payout(settlement["settlementReference"], 6100, "PAYTRAIL2")
        self.assertEqual(payout.state, "to_check")
        self.assertIn("more than its payments", payout.match_reason)
        self.assertFalse(tx.paytrail_settlement_reference)
        self.assertFalse(any(self._transit_items(tx).mapped("reconciled")))

    def test_unknown_reference_stays_in_the_queue(self):
        self._paid(60.0, "PT-TWO")
        payout = self._import_payout("13", 5000, "PAYTRAIL3")
        self.assertEqual(payout.state, "to_check")
        self.assertNotEqual(payout.match_kind, "paytrail_settlement")
        self.assertFalse(payout.paytrail_transaction_ids)

    def test_paytrail_out_of_reach_leaves_the_payout_in_the_queue(self):
        tx, _invoice = self._paid(60.0, "PT-THREE")
        settlement = self._settle(tx)
        # Nothing listens there: the look-up fails to connect, as when Paytrail is down.
        self.paytrail.paytrail_api_url = "http://127.0.0.1:9"
        payout = self._import_payout(settlement["settlementReference"], settlement["net"], "PT4")
        self.assertEqual(payout.state, "to_check")
        self.assertFalse(tx.paytrail_settlement_reference)
        self.assertFalse(any(self._transit_items(tx).mapped("reconciled")))
