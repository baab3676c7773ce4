# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""When an overdue invoice enters the draft collection list, and which invoices never do."""

from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CollectionCommon

DUE = date(2026, 3, 10)


@tagged("post_install", "-at_install")
class TestTiming(CollectionCommon):
    def _day(self, day):
        return DUE + timedelta(days=day)

    def _daily_run(self, day):
        """The two daily scheduled actions, as they run on day ``day`` after the due date."""
        with freeze_time(self._day(day)):
            self._run_reminders()
            self._fill_draft_list()

    def _policy(self, *steps, **values):
        return self.env["collection.reminder.policy"].create(
            {
                "name": "Reminders",
                "step_ids": [Command.create(step) for step in steps],
                **values,
            }
        )

    # ------------------------------------------------------------------ no reminder steps

    def test_enters_on_day_14_without_steps(self):
        invoice = self._invoice(DUE)
        self._daily_run(13)
        self.assertFalse(self._case(invoice))
        self.assertFalse(invoice.collection_state)
        self._daily_run(14)
        case = self._case(invoice)
        self.assertEqual(case.state, "draft")
        self.assertEqual(case.entry, "rules")
        self.assertEqual(invoice.collection_state, "draft")
        # Running again changes nothing.
        self._daily_run(15)
        self.assertEqual(self._case(invoice), case)

    def test_delay_is_a_backend_setting(self):
        self.backend.delay_days = 1
        invoice = self._invoice(DUE)
        self._daily_run(0)
        self.assertFalse(self._case(invoice))
        self._daily_run(1)
        self.assertTrue(self._case(invoice))

    def test_disabled_steps_keep_the_delay_rule(self):
        self._policy({"name": "Reminder", "delay_days": 7, "payment_days": 14, "enabled": False})
        invoice = self._invoice(DUE)
        self._daily_run(13)
        self.assertFalse(invoice.collection_reminder_ids)
        self.assertFalse(self._case(invoice))
        self._daily_run(14)
        self.assertTrue(self._case(invoice))

    # ------------------------------------------------------------------ with reminder steps

    def test_enters_the_day_after_the_last_step_is_due(self):
        self._policy(
            {"name": "Reminder", "delay_days": 14, "payment_days": 14},
            {
                "name": "Collection notice",
                "kind": "collection_notice",
                "delay_days": 29,
                "payment_days": 14,
            },
        )
        invoice = self._invoice(DUE)
        self._daily_run(13)
        self.assertFalse(invoice.collection_reminder_ids)
        self._daily_run(14)
        self.assertEqual(invoice.collection_reminder_ids.mapped("state"), ["sent"])
        self.assertFalse(self._case(invoice), "the 14-day rule does not apply with steps")
        self._daily_run(28)
        self.assertEqual(len(invoice.collection_reminder_ids), 1)
        self._daily_run(29)
        notice = invoice.collection_reminder_ids.filtered(lambda r: r.kind == "collection_notice")
        self.assertEqual(notice.send_date, self._day(29))
        self.assertEqual(notice.pay_by, self._day(43))
        self._daily_run(43)  # the notice's last day to pay
        self.assertFalse(self._case(invoice))
        self._daily_run(44)
        self.assertEqual(self._case(invoice).state, "draft")

    def test_a_step_sent_late_moves_the_entry_day(self):
        self._policy(
            {"name": "Notice", "kind": "collection_notice", "delay_days": 1, "payment_days": 14}
        )
        invoice = self._invoice(DUE)
        self._daily_run(5)  # the run did not happen on day 1
        notice = invoice.collection_reminder_ids
        self.assertEqual(notice.pay_by, self._day(19))
        self._daily_run(16)  # planned entry day, but the notice only ran out on day 19
        self.assertFalse(self._case(invoice))
        self._daily_run(20)
        self.assertTrue(self._case(invoice))

    def test_a_reminder_not_sent_holds_the_invoice_back(self):
        self._policy({"name": "Reminder", "delay_days": 7, "payment_days": 7})
        self.debtor.email = False
        invoice = self._invoice(DUE)
        self._daily_run(7)
        reminder = invoice.collection_reminder_ids
        self.assertEqual(reminder.state, "manual")
        self._daily_run(30)
        self.assertFalse(self._case(invoice), "no collection before the reminder went out")
        with freeze_time(self._day(30)):
            reminder.action_mark_sent()
        self.assertEqual(reminder.pay_by, self._day(37))
        self._daily_run(37)
        self.assertFalse(self._case(invoice))
        self._daily_run(38)
        self.assertTrue(self._case(invoice))

    # ------------------------------------------------------------------ by hand

    def test_moved_by_hand_before_the_steps_ran_out(self):
        self._policy({"name": "Reminder", "delay_days": 14, "payment_days": 14})
        invoice = self._invoice(DUE)
        with freeze_time(self._day(0)), self.assertRaisesRegex(UserError, "not overdue"):
            invoice.action_collection_move_to_list()
        with freeze_time(self._day(3)):
            invoice.action_collection_move_to_list()
        case = self._case(invoice)
        self.assertEqual((case.state, case.entry), ("draft", "hand"))
        self.assertEqual(invoice.collection_moved_on, self._day(3))
        with self.assertRaisesRegex(UserError, "already has a collection case"):
            invoice.action_collection_move_to_list()

    def test_moved_from_the_reminder_list(self):
        self._policy({"name": "Reminder", "delay_days": 7, "payment_days": 14})
        invoice = self._invoice(DUE)
        self._daily_run(7)
        with freeze_time(self._day(8)):
            action = invoice.collection_reminder_ids.action_move_to_collection()
        self.assertEqual(action["res_model"], "collection.case")
        self.assertEqual(self._case(invoice).entry, "hand")

    def test_removed_from_the_list_stays_off_until_released(self):
        invoice = self._invoice(DUE)
        self._daily_run(14)
        self._case(invoice).action_remove()
        self.assertTrue(invoice.collection_hold)
        self.assertFalse(self._case(invoice))
        self._daily_run(15)
        self.assertFalse(self._case(invoice))
        invoice.collection_hold = False
        self._daily_run(16)
        self.assertTrue(self._case(invoice))

    def test_paid_draft_leaves_the_list(self):
        invoice = self._invoice(DUE)
        self._daily_run(14)
        self._pay(invoice, 100.0, self._day(15))
        self._daily_run(16)
        self.assertFalse(self._case(invoice))

    # ------------------------------------------------------------------ never eligible

    def test_customer_opted_out(self):
        self.debtor.transfer_to_collection = False
        invoice = self._invoice(DUE)
        self._daily_run(40)
        self.assertFalse(self._case(invoice))
        with (
            freeze_time(self._day(40)),
            self.assertRaisesRegex(UserError, "not to be transferred to a collection agency"),
        ):
            invoice.action_collection_move_to_list()
        # Another customer's invoice of the same day goes.
        other = self._invoice(DUE, partner=self.consumer)
        self._daily_run(41)
        self.assertTrue(self._case(other))

    def test_factoring_invoice_is_excluded(self):
        self._policy({"name": "Reminder", "delay_days": 7, "payment_days": 7})
        invoice = self._invoice(DUE, collection_factoring=True)
        self._daily_run(7)
        self.assertFalse(invoice.collection_reminder_ids, "the factor reminds, not us")
        self._daily_run(40)
        self.assertFalse(self._case(invoice))
        with (
            freeze_time(self._day(40)),
            self.assertRaisesRegex(UserError, "financed by factoring"),
        ):
            invoice.action_collection_move_to_list()

    def test_start_date(self):
        self.backend.start_date = DUE + timedelta(days=1)
        before = self._invoice(DUE)
        on_start = self._invoice(DUE + timedelta(days=1))
        self._daily_run(30)
        self.assertFalse(self._case(before))
        self.assertTrue(self._case(on_start))

    def test_fee_invoices_and_credit_notes_never_enter(self):
        invoice = self._invoice(DUE)
        fee = self._invoice(DUE, amount=5.0, post=False)
        fee.collection_fee_parent_id = invoice
        fee.action_post()
        self._daily_run(30)
        self.assertTrue(self._case(invoice))
        self.assertFalse(self._case(fee))

    def test_without_a_creating_agency_nothing_enters(self):
        self.backend.creates_cases = False
        invoice = self._invoice(DUE)
        self._daily_run(30)
        self.assertFalse(self._case(invoice))
        with freeze_time(self._day(30)), self.assertRaisesRegex(UserError, "No collection agency"):
            invoice.action_collection_move_to_list()
