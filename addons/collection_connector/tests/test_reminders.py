# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reminder policies: fee limits per country, and the daily run that sends each step once."""

from datetime import date, timedelta

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CollectionCommon

DUE = date(2026, 3, 10)


@tagged("post_install", "-at_install")
class TestReminders(CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fee_product = cls.env["product.product"].create(
            {
                "name": "Reminder fee",
                "type": "service",
                "lst_price": 5.0,
                "taxes_id": [],
                "property_account_income_id": cls.account_fees.id,
            }
        )
        cls.norway = cls.env.ref("base.no")
        cls.nok = cls.env.ref("base.NOK")

    def _policy(self, *steps, **values):
        return self.env["collection.reminder.policy"].create(
            {"name": "Reminders", "step_ids": [Command.create(s) for s in steps], **values}
        )

    def _fee_step(self, name, delay, fee, **values):
        return {
            "name": name,
            "delay_days": delay,
            "payment_days": 14,
            "fee_product_id": self.fee_product.id,
            "fee_amount": fee,
            **values,
        }

    # ------------------------------------------------------------------ fee limits

    def test_finnish_consumer_limit_is_5_eur(self):
        policy = self._policy(self._fee_step("Reminder", 14, 5.0), debtor_scope="person")
        with (
            self.assertRaisesRegex(ValidationError, r"above the Finnish consumer limit of 5\.00"),
            self.cr.savepoint(),
        ):
            policy.step_ids.fee_amount = 5.01
        with (
            self.assertRaisesRegex(ValidationError, "may carry a fee only from day 14"),
            self.cr.savepoint(),
        ):
            policy.step_ids.delay_days = 13
        # A free reminder may go earlier.
        policy.step_ids.write({"fee_product_id": False, "fee_amount": 0, "delay_days": 7})

    def test_finnish_business_limit_is_12_eur(self):
        policy = self._policy(self._fee_step("Reminder", 14, 12.0), debtor_scope="company")
        with (
            self.assertRaisesRegex(ValidationError, r"Finnish business limit of 12\.00 EUR"),
            self.cr.savepoint(),
        ):
            policy.step_ids.fee_amount = 12.5
        # A policy for all customers must keep the consumer limit too.
        with self.assertRaisesRegex(ValidationError, "Finnish consumer limit"), self.cr.savepoint():
            policy.debtor_scope = "all"

    def test_norway_35_nok_at_most_two(self):
        norwegian = {"country_id": self.norway.id, "currency_id": self.nok.id}
        policy = self._policy(
            self._fee_step("Purring", 14, 35.0),
            self._fee_step("Inkassovarsel", 28, 35.0, kind="collection_notice"),
            **norwegian,
        )
        with self.assertRaisesRegex(ValidationError, "allow at most 2"), self.cr.savepoint():
            policy.step_ids = [Command.create(self._fee_step("Purring 2", 42, 35.0))]
        with (
            self.assertRaisesRegex(ValidationError, r"Norwegian limit of 35\.00 NOK"),
            self.cr.savepoint(),
        ):
            policy.step_ids[0].fee_amount = 35.01
        with (
            self.assertRaisesRegex(ValidationError, "at least 14 days to pay"),
            self.cr.savepoint(),
        ):
            policy.step_ids[1].payment_days = 10
        # A third step without a fee is fine.
        policy.step_ids = [Command.create({"name": "Last call", "delay_days": 42})]

    def test_fee_needs_a_product_and_one_policy_per_scope(self):
        with self.assertRaisesRegex(ValidationError, "choose the product"), self.cr.savepoint():
            self._policy({"name": "Reminder", "delay_days": 14, "fee_amount": 3.0})
        self._policy({"name": "Reminder", "delay_days": 14})
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self._policy({"name": "Another", "delay_days": 14})

    # ------------------------------------------------------------------ the daily run

    def _run_on(self, day):
        with freeze_time(DUE + timedelta(days=day)):
            self._run_reminders()

    def test_run_sends_each_step_once_with_its_fee_invoice(self):
        self._policy(self._fee_step("Reminder", 14, 5.0))
        invoice = self._invoice(DUE, partner=self.consumer)
        self._run_on(14)
        reminder = invoice.collection_reminder_ids
        self.assertEqual(reminder.state, "sent")
        self.assertEqual(reminder.send_date, DUE + timedelta(days=14))
        self.assertEqual(reminder.pay_by, DUE + timedelta(days=28))
        self.assertEqual(reminder.amount_due, 100.0)
        fee = reminder.fee_move_id
        self.assertEqual(fee.state, "posted")
        self.assertEqual(fee.amount_total, 5.0)
        self.assertEqual(fee.collection_fee_parent_id, invoice)
        self.assertEqual(fee.invoice_date_due, reminder.pay_by)
        self.assertEqual(invoice.collection_fee_ids, fee)
        mail = self.env["mail.mail"].search(
            [("model", "=", "collection.reminder"), ("res_id", "=", reminder.id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.consumer)
        self.assertIn(invoice.name, mail.subject)
        self.assertIn(fee.name, mail.body_html)
        # Safe to run again, the same day or later: nothing more is sent.
        self._run_on(14)
        self._run_on(20)
        self.assertEqual(invoice.collection_reminder_ids, reminder)
        self.assertEqual(invoice.collection_fee_ids, fee)
        # The fee invoice itself is never reminded.
        self._run_on(60)
        self.assertFalse(fee.collection_reminder_ids)

    def test_policy_by_kind_of_customer(self):
        self._policy({"name": "Consumer reminder", "delay_days": 7}, debtor_scope="person")
        self._policy({"name": "Business reminder", "delay_days": 10}, debtor_scope="all")
        consumer_invoice = self._invoice(DUE, partner=self.consumer)
        business_invoice = self._invoice(DUE)
        self._run_on(7)
        self.assertEqual(consumer_invoice.collection_reminder_ids.step_id.name, "Consumer reminder")
        self.assertFalse(business_invoice.collection_reminder_ids)
        self._run_on(10)
        self.assertEqual(business_invoice.collection_reminder_ids.step_id.name, "Business reminder")

    def test_paid_invoice_is_not_reminded(self):
        self._policy({"name": "Reminder", "delay_days": 7})
        invoice = self._invoice(DUE)
        self._pay(invoice, 100.0, DUE)
        self._run_on(7)
        self.assertFalse(invoice.collection_reminder_ids)

    def test_customer_without_email_is_left_to_staff(self):
        self._policy(self._fee_step("Reminder", 14, 5.0))
        self.consumer.email = False
        invoice = self._invoice(DUE, partner=self.consumer)
        self._run_on(14)
        reminder = invoice.collection_reminder_ids
        self.assertEqual(reminder.state, "manual")
        self.assertIn("no e-mail address", reminder.error)
        self.assertTrue(reminder.fee_move_id, "the fee is charged in the letter too")
        with freeze_time(DUE + timedelta(days=16)):
            reminder.action_mark_sent()
        self.assertEqual((reminder.state, reminder.send_date), ("sent", DUE + timedelta(days=16)))
