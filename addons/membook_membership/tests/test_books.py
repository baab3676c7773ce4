# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime as dt
from decimal import Decimal
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from nordic_billing.bankfiles import Outgoing, write_camt054

from ..models import membook_settlement
from .common import BooksMixin, MembookBillingCommon


@tagged("post_install", "-at_install")
class TestBooks(BooksMixin, MembookBillingCommon):
    """The general ledger follows the allocation ledger: shares billed, due to each
    organisation, the service fee, the payout and the outgoing transfer (CONFIGURE's example)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_books()
        cls.income = cls.company_data["default_account_revenue"]
        cls.Booking = cls.env["membook.ledger.booking"]

    def _invoice(self, member=None):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": (member or self.member_a).id,
                "invoice_date": "2026-01-15",
                "invoice_line_ids": [
                    (0, 0, {"product_id": self.fee.id, "price_unit": 60.0, "tax_ids": []})
                ],
            }
        )
        invoice.action_post()
        return invoice

    def _pay(self, invoice):
        return (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"payment_date": "2026-02-01", "journal_id": self.bank_journal.id})
            ._create_payments()
        )

    def _assert_books_match(self):
        result = self.Booking._check(self.env.company)
        self.assertTrue(result)
        for partner, (owed, booked) in result.items():
            self.assertEqual(owed, booked or Decimal(0), partner.display_name)
        return result

    def test_worked_example(self):
        """CONFIGURE's T-accounts: a 60.00 fee split 25/10/25, a 0.50 service fee."""
        invoice = self._invoice()
        self.Booking._book_all(self.env.company)
        # 1. Billed: the organisations' shares leave the fee income for the transit account.
        self.assertEqual(self._balance(self.transit_account), 60.0)
        self.assertEqual(self._balance(self.income), 0.0)
        self.assertEqual(invoice.membook_split_ids.shares_move_id.state, "posted")
        # Booking again books nothing twice.
        moves_before = self.env["account.move"].search_count([])
        self.Booking._book_all(self.env.company)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        # 2. Paid: the allocations move the shares to what is due to each organisation.
        self._pay(invoice)
        self.Booking._book_all(self.env.company)
        self.assertEqual(self._balance(self.transit_account), 0.0)
        for organisation, share in (
            (self.club, 25.0),
            (self.district, 10.0),
            (self.federation, 25.0),
        ):
            self.assertEqual(self._balance(self.due_account, organisation.partner_id), share)
        allocations = self.env["membook.allocation"].search([("invoice_id", "=", invoice.id)])
        self.assertEqual(len(allocations.ledger_move_id), 1)
        self._assert_books_match()
        # 3. Settled now (not on the settlement day) and confirmed: the fee is deducted.
        action = self.env["membook.settlement"].action_settle_now(self.club)
        settlement = self.env["membook.settlement"].browse(action["domain"][0][2])
        self.assertEqual(settlement.organisation_id, self.club)
        settlement.action_confirm()
        self.assertEqual(
            (settlement.payment_count, settlement.service_fee, settlement.amount_payable),
            (1, 0.5, 24.5),
        )
        self.assertEqual(self._balance(self.service_fee_account), 0.5)
        self.assertEqual(self._balance(self.due_account, self.club.partner_id), 24.5)
        self._assert_books_match()
        # 4. Paid out: due to the club is paid, against the outstanding payments account.
        settlement.action_create_payout()
        payout = settlement.payout_id
        self.assertEqual(payout.amount_total, 24.5)
        self.assertEqual(self._balance(self.due_account, self.club.partner_id), 0.0)
        outstanding = settlement.payout_line_id.account_id
        self.assertEqual(self._balance(outstanding, self.club.partner_id), 24.5)
        self._assert_books_match()
        # 5. The outgoing transfer on the bank statement reconciles the outstanding payment.
        camt = b"".join(
            write_camt054(
                "FI1410093000123458",
                [],
                outgoing=[
                    Outgoing(
                        account="FI1410093000123458",
                        archive_id="OUT-1",
                        reference=settlement.reference,
                        end_to_end_id=settlement.name,
                        creditor_name=self.club.name,
                        amount=Decimal("24.50"),
                        currency="EUR",
                        booking_date=dt.date(2026, 2, 4),
                        source_format="camt.054",
                        source_line="",
                    )
                ],
            )
        )
        self.env["membook.bank.file"]._import_file(self.bank_journal, "out.xml", camt)
        self.assertEqual(settlement.state, "paid")
        self.assertTrue(settlement.payout_line_id.reconciled)
        self.assertEqual(self._balance(outstanding, self.club.partner_id), 0.0)
        self._assert_books_match()

    def test_credit_note_and_draft_give_shares_back(self):
        invoice = self._invoice()
        self.Booking._book_all(self.env.company)
        self.assertEqual(self._balance(self.transit_account), 60.0)
        invoice.button_draft()
        self.assertEqual(self._balance(self.transit_account), 0.0, "booked back at once")
        self.assertFalse(invoice.membook_split_ids.shares_move_id)
        invoice.action_post()
        self._pay(invoice)
        credit_note = invoice._reverse_moves([{"invoice_date": "2026-02-10"}])
        credit_note.action_post()
        self.Booking._book_all(self.env.company)
        # Paid, then credited: the transit account holds the credit note's open shares.
        self.assertEqual(self._balance(self.transit_account), -60.0)
        self._pay(credit_note)
        self.Booking._book_all(self.env.company)
        self.assertEqual(self._balance(self.transit_account), 0.0)
        self.assertEqual(self._balance(self.due_account), 0.0)

    def test_settlement_day_cron_says_when_it_settles_nothing(self):
        self._pay(self._invoice())
        self.env.company.membook_settlement_weekday = "0"
        with patch.object(membook_settlement._logger, "info") as info:
            self.env["membook.settlement"]._cron_weekly_on(dt.date(2026, 2, 4))  # a Wednesday
        said = [call.args for call in info.mock_calls if call.args[1] == self.env.company.name]
        self.assertEqual(len(said), 1)
        self.assertIn("nothing settled", said[0][0])
        self.assertFalse(self.env["membook.settlement"].search([]))
        with freeze_time("2026-02-02"), self.enter_registry_test_mode():  # a Monday
            self.env.ref(
                "membook_membership.ir_cron_membook_settlement_weekly"
            ).method_direct_trigger()
        self.assertEqual(len(self.env["membook.settlement"].search([])), 3)

    def test_check_finds_a_difference(self):
        self._pay(self._invoice())
        self._assert_books_match()
        # An entry made by hand on the due account for the club: the check says so.
        entry = self.env["account.move"].create(
            {
                "move_type": "entry",
                "line_ids": [
                    (
                        0,
                        0,
                        {
                            "account_id": self.due_account.id,
                            "partner_id": self.club.partner_id.id,
                            "debit": 1.0,
                        },
                    ),
                    (0, 0, {"account_id": self.transit_account.id, "credit": 1.0}),
                ],
            }
        )
        entry.action_post()
        result = self.Booking._check(self.env.company)
        self.assertEqual(result[self.club.partner_id], (Decimal("25.00"), Decimal("24.00")))
        action = self.env["membook.settlement"].action_check_books()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn(self.club.name, action["params"]["message"])
