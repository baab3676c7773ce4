# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Payments and credit notes to the agency; its updates and settlements back into the books."""

from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import CollectionCommon


@tagged("post_install", "-at_install")
class TestSync(CollectionCommon):
    def setUp(self):
        super().setUp()
        self.sandbox.state.reset()
        self.sandbox.faults.reset()
        self.due = fields.Date.today() - timedelta(days=30)
        self.invoice = self._invoice(self.due, amount=100.0)
        self.invoice.action_collection_move_to_list()
        self.case = self._case(self.invoice)
        self.case.action_approve()
        self._send()
        self.assertEqual(self.case.state, "open")

    def _remote(self):
        return self._agency_case(self.case.case_number)

    def _payment_ops(self):
        return self.case.operation_ids.filtered(lambda op: op.kind == "payment")

    # ------------------------------------------------------------------ payments

    def test_payment_is_reported_once(self):
        # An accountant without debt-collection rights registers the payment.
        accountant = self.simple_accountman
        accountant.company_ids |= self.company
        accountant.company_id = self.company
        wizard = (
            self.env["account.payment.register"]
            .with_user(accountant)
            .with_context(active_model="account.move", active_ids=self.invoice.ids)
            .create({"amount": 40.0})
        )
        payment = wizard._create_payments()
        self.assertTrue(self.case.payments_dirty)
        self._send()
        operation = self._payment_ops()
        self.assertEqual((operation.state, operation.amount), ("done", 40.0))
        self.assertEqual(self._remote().payments[operation.key][0], 40)
        self.assertFalse(self.case.payments_dirty)
        # Running again reports nothing more.
        self._send()
        self.case.payments_dirty = True
        self._send()
        self.assertEqual(len(self._payment_ops()), 1)
        self.assertEqual(self.sandbox.state.count("add_payment"), 1)
        # Undoing the reconciliation reverses the payment at the agency, once.
        payment.move_id.line_ids.remove_move_reconcile()
        self._send()
        reversal = self._payment_ops() - operation
        self.assertEqual(reversal.key, f"{operation.key}-rev")
        self.assertEqual(reversal.amount, -40.0)
        self.assertEqual(reversal.state, "done")
        self.assertEqual(len(self._remote().payments), 2)

    def test_payment_sent_again_after_the_agency_failed(self):
        self.sandbox.faults.store_then_fail(1, "error", operation="add_payment")
        self._pay(self.invoice, 25.0)
        self._send()
        operation = self._payment_ops()
        self.assertEqual(operation.state, "pending")
        self.assertTrue(operation.next_try)
        operation.next_try = fields.Datetime.now() - timedelta(seconds=1)
        self._send()
        self.assertEqual(operation.state, "done")
        self.assertEqual(len(self._remote().payments), 1, "the payment id kept it single")

    def test_full_payment_marks_the_case_paid(self):
        self._pay(self.invoice, 100.0)
        self._send()
        self.assertEqual(self.case.state, "paid")
        self.assertEqual(self._remote().status, "paid")

    # ------------------------------------------------------------------ credit notes

    def test_partial_credit_note_is_refused(self):
        refund = self._reverse_invoice(self.invoice)
        refund.invoice_line_ids.price_unit = 40.0
        with self.assertRaisesRegex(UserError, "can only be credited in full"):
            refund.action_post()
        self.assertEqual(refund.state, "draft")

    def test_full_credit_note_withdraws_the_case(self):
        self._pay(self.invoice, 30.0)
        self._send()
        refund = self._reverse_invoice(self.invoice, post=True)
        self.assertEqual(refund.state, "posted")
        cancel = self.case.operation_ids.filtered(lambda op: op.kind == "cancel")
        self.assertEqual(cancel.state, "pending")
        self.assertIn(refund.name, cancel.reason)
        (refund.line_ids + self.invoice.line_ids).filtered(
            lambda line: line.account_type == "asset_receivable" and not line.reconciled
        ).reconcile()
        self._send()
        self.assertEqual(cancel.state, "done")
        self.assertEqual(self.case.state, "closed")
        self.assertEqual(self._remote().status, "closed")
        self.assertEqual(self.invoice.collection_state, "closed")
        self.assertEqual(
            len(self._payment_ops()), 1, "the credit note is no payment for the agency"
        )

    def test_full_credit_of_an_approved_case_never_sends_it(self):
        other = self._invoice(self.due, amount=50.0)
        other.action_collection_move_to_list()
        case = self._case(other)
        case.action_approve()
        self._reverse_invoice(other, post=True)
        self.assertEqual(case.state, "closed")
        self._send()
        self.assertEqual(len(self.sandbox.state.cases), 1)

    def test_partial_credit_of_a_draft_case_is_allowed(self):
        other = self._invoice(self.due, amount=50.0)
        other.action_collection_move_to_list()
        refund = self._reverse_invoice(other)
        refund.invoice_line_ids.price_unit = 10.0
        refund.action_post()
        self.assertEqual(self._case(other).state, "draft")

    def test_case_invoice_cannot_go_back_to_draft(self):
        with self.assertRaisesRegex(UserError, "cannot be reset to draft"):
            self.invoice.button_draft()
        found = self.env["collection.case"].name_search(self.case.case_number)
        self.assertEqual([row[0] for row in found], self.case.ids)

    # ------------------------------------------------------------------ agency updates

    def test_updates_and_settlement_are_booked_once(self):
        number = self.case.case_number
        self.sandbox.state.advance(
            number,
            principal="60.00",
            interest="2.50",
            fees="5.00",
            costs="-10.00",
            date=fields.Date.today().isoformat(),
        )
        self._pull()
        self.assertEqual(self.case.state, "open")
        self.assertEqual(self.case.collected_principal, 60.0)
        self.assertEqual(self.case.collected_interest, 2.5)
        self.assertEqual(self.case.collected_fees, 5.0)
        self.assertEqual(self.case.collected_costs, -10.0)
        lines = self.case.settlement_line_ids
        self.assertEqual(sorted(lines.mapped("kind")), ["costs", "fees", "interest", "principal"])
        move = lines.move_id
        self.assertEqual(len(move), 1)
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.journal_id, self.backend.settlement_journal_id)
        self.assertEqual(move.collection_backend_id, self.backend)
        balances = {line.account_id: line.balance for line in move.line_ids if line.balance}
        receivable = self.invoice.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        self.assertEqual(
            balances,
            {
                self.account_clearing: 57.5,
                receivable.account_id: -60.0,
                self.account_interest: -2.5,
                self.account_fees: -5.0,
                self.account_costs: 10.0,
            },
        )
        self.assertEqual(self.invoice.amount_residual, 40.0, "principal reconciled")
        # Pulling again books nothing twice.
        self._pull()
        self.assertEqual(self.case.settlement_line_ids, lines)
        self.assertEqual(
            self.env["account.move"].search_count(
                [("collection_backend_id", "=", self.backend.id)]
            ),
            1,
        )
        # Our booking of the agency's principal is not reported back as a payment.
        self._send()
        self.assertFalse(self._payment_ops())
        self.assertEqual(self.sandbox.state.count("add_payment"), 0)
        # The rest is collected: the case is paid and the invoice too.
        self.sandbox.state.advance(number, principal="40.00")
        self._pull()
        self.assertEqual(self.case.state, "paid")
        self.assertEqual(self.invoice.amount_residual, 0.0)
        self.assertEqual(len(self.case.settlement_line_ids.move_id), 2)

    def test_collection_administrator_reads_updates_now(self):
        """The button works for a collection administrator with no accounting rights, also
        when the agency sent settlement lines (which only the connector itself creates)."""
        admin = new_test_user(
            self.env,
            login="cc-sync-admin",
            groups="base.group_user,collection_connector.group_collection_manager",
        )
        self.sandbox.state.advance(
            self.case.case_number, principal="60.00", date=fields.Date.today().isoformat()
        )
        result = self.backend.with_user(admin).action_sync_now()
        self.assertIs(result, True)
        lines = self.case.settlement_line_ids
        self.assertEqual(lines.mapped("state"), ["booked"])
        self.assertEqual(self.invoice.amount_residual, 40.0)
        # Nobody creates settlement lines by hand, the administrator neither.
        with self.assertRaises(AccessError):
            self.env["collection.settlement.line"].with_user(admin).create(
                {
                    "backend_id": self.backend.id,
                    "line_id": "forged",
                    "remittance_id": "R",
                    "kind": "principal",
                    "currency_id": self.company.currency_id.id,
                    "date": fields.Date.today(),
                }
            )

    def test_settled_fees_pay_the_reminder_fee_invoice(self):
        fee_product = self.env["product.product"].create(
            {"name": "Reminder fee", "type": "service", "lst_price": 5.0, "taxes_id": []}
        )
        other = self._invoice(self.due, amount=80.0)
        fee = self._invoice(
            self.due + timedelta(days=14),
            amount=5.0,
            post=False,
            collection_fee_parent_id=other.id,
            invoice_line_ids=[
                Command.create({"product_id": fee_product.id, "price_unit": 5.0, "tax_ids": []})
            ],
        )
        fee.action_post()
        other.action_collection_move_to_list()
        case = self._case(other)
        case.action_approve()
        self._send()
        self.assertEqual(self._agency_case(case.case_number).claim["reminder_fees"], "5.00")
        self.sandbox.state.advance(case.case_number, principal="80.00", fees="8.00")
        self._pull()
        self.assertEqual(case.state, "paid")
        self.assertEqual(other.amount_residual, 0.0)
        self.assertEqual(fee.amount_residual, 0.0, "the fee invoice is paid first")
        move = case.settlement_line_ids.move_id
        fee_income = move.line_ids.filtered(lambda line: line.account_id == self.account_fees)
        self.assertEqual(fee_income.balance, -3.0, "only the rest is fee income")

    def test_settlement_waits_for_the_accounts(self):
        self.backend.interest_account_id = False
        self.sandbox.state.advance(self.case.case_number, principal="10.00", interest="1.00")
        self._pull()
        lines = self.case.settlement_line_ids
        self.assertEqual(set(lines.mapped("state")), {"error"})
        self.assertIn("Set the account for Interest", lines[0].error)
        self.assertFalse(lines.move_id)
        self.backend.interest_account_id = self.account_interest
        # The collection administrator who fixed the account books them, without accounting
        # rights; a collection user, who only sees the lines, may not.
        user = new_test_user(
            self.env,
            login="cc-book-user",
            groups="base.group_user,collection_connector.group_collection_user",
        )
        with self.assertRaises(AccessError):
            lines.with_user(user).action_book()
        admin = new_test_user(
            self.env,
            login="cc-book-admin",
            groups="base.group_user,collection_connector.group_collection_manager",
        )
        self.assertIs(lines.with_user(admin).action_book(), True)
        self.assertEqual(set(lines.mapped("state")), {"booked"})
        self.assertEqual(len(lines.move_id), 1)

    def test_agency_takes_principal_back(self):
        number = self.case.case_number
        self.sandbox.state.advance(number, principal="30.00")
        self.sandbox.state.advance(number, principal="-30.00")  # e.g. the debtor's bank recalled
        self._pull()
        lines = self.case.settlement_line_ids
        self.assertEqual(set(lines.mapped("state")), {"booked"})
        self.assertEqual(len(lines.move_id), 2)
        reversal = lines.filtered(lambda line: line.amount < 0).move_id
        clearing = reversal.line_ids.filtered(lambda line: line.account_id == self.account_clearing)
        self.assertEqual(clearing.balance, -30.0)
        self.assertEqual(self.invoice.amount_residual, 70.0, "left for staff to match")

    def test_returned_case(self):
        self.sandbox.state.advance(
            self.case.case_number, status="returned", message="debtor unknown", settle=False
        )
        self._pull()
        self.assertEqual(self.case.state, "returned")
        self.assertEqual(self.case.agency_message, "debtor unknown")
        self.assertEqual(self.invoice.collection_state, "returned")

    def test_agency_unavailable_while_pulling(self):
        self.sandbox.faults.fail_next(5, 503, operation="list_updates")
        with self.assertLogs(
            "odoo.addons.collection_connector.models.collection_backend", "WARNING"
        ):
            self._pull()
        self.assertIn("503", self.backend.sync_error)
        self.sandbox.faults.reset()
        self._pull()
        self.assertFalse(self.backend.sync_error)
