# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime as dt

from lxml import etree

from odoo import Command
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import MembookBillingCommon
from .test_overview import BankDayMixin

DAY = dt.date(2026, 2, 2)


@tagged("post_install", "-at_install")
class TestScreens(BankDayMixin, MembookBillingCommon):
    """What a treasurer reads every day says what is true."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_invoices()
        # Placing a payment books on the bank statement: the office's treasurer keeps the books.
        cls.treasurer = new_test_user(
            cls.env,
            login="screens-treasurer",
            groups="base.group_user,membership.group_membership_manager,account.group_account_user",
            company_id=cls.env.company.id,
            company_ids=[Command.set(cls.env.company.ids)],
        )

    def _queued(self, archive_id, amount, name="NOBODY"):
        record = self._import(
            [self._payment(archive_id, "", amount, DAY, name)], f"{archive_id}.xml"
        )
        payment = record.payment_ids
        self.assertEqual(payment.state, "to_check")
        return payment

    def _assign(self, payment, invoice):
        wizard = (
            self.env["membook.payment.assign"]
            .with_user(self.treasurer)
            .with_context(default_bank_payment_id=payment.id)
            .create({"invoice_ids": [(6, 0, invoice.ids)]})
        )
        wizard.action_assign()

    def test_assigned_payment_leaves_nothing_unapplied(self):
        payment = self._queued("H1", "60.00")
        self.assertEqual(payment.unapplied_amount, 60.0)
        self._assign(payment, self.invoices[self.member_b])
        self.assertEqual(payment.state, "assigned")
        self.assertEqual(sum(payment.allocation_ids.mapped("amount")), 60.0)
        self.assertEqual(payment.unapplied_amount, 0.0)
        # More than the invoice asks: the rest stays unapplied, on the member's account.
        more = self._queued("H2", "80.00")
        self._assign(more, self.invoices[self.member_other])
        self.assertEqual(more.unapplied_amount, 20.0)

    def test_match_reason_names_the_invoice(self):
        invoice = self.invoices[self.member_a]
        record = self._import(
            [self._payment("R1", self._ref(self.member_a), "60.00", DAY)], "reason.xml"
        )
        self.assertEqual(record.payment_ids.match_reason, f"Pays {invoice.name} in full.")

    def test_suggestions_heading_only_with_suggestions(self):
        payment = self._queued("S1", "33.33")  # no invoice of that amount or reference
        self.assertFalse(payment.suggestion_text)
        arch = etree.fromstring(self.env["membook.bank.payment"].get_view(view_type="form")["arch"])
        [group] = arch.xpath("//group[@string='Suggestions']")
        values = {"state": payment.state, "suggestion_text": payment.suggestion_text}
        self.assertTrue(safe_eval(group.get("invisible"), values), "the empty heading is hidden")
        values["suggestion_text"] = "INV/1 (Someone): same amount"
        self.assertFalse(safe_eval(group.get("invisible"), values))

    def test_invoice_picker_names_member_amount_and_due_date(self):
        arch = etree.fromstring(
            self.env["membook.payment.assign"].get_view(view_type="form")["arch"]
        )
        [field] = arch.xpath("//field[@name='invoice_ids']")
        context = safe_eval(field.get("context"))
        invoice = self.invoices[self.member_b]
        Move = self.env["account.move"].with_user(self.manager).with_context(**context)
        [(found_id, label)] = Move.name_search(invoice.name, [("id", "=", invoice.id)])
        self.assertEqual(found_id, invoice.id)
        parts = label.split(" · ")
        self.assertEqual(parts[0], invoice.name)
        self.assertEqual(parts[1], "Bertil Member")
        self.assertIn("60.00", parts[2])
        self.assertEqual(parts[3], "02/15/2026")
        # Elsewhere an invoice keeps Odoo's own name.
        self.assertNotIn("Bertil", invoice.with_user(self.manager).display_name)

    def test_membership_is_the_second_tab_of_a_contact(self):
        arch = etree.fromstring(
            self.env["res.partner"].with_user(self.manager).get_view(view_type="form")["arch"]
        )
        notebook = arch.xpath("//sheet//notebook")[0]
        pages = [page.get("name") for page in notebook.iterchildren("page")]
        self.assertEqual(pages.index("membership"), 1, pages)

    def test_settlement_allocations_show_member_invoice_date_amount(self):
        arch = etree.fromstring(self.env["membook.settlement"].get_view(view_type="form")["arch"])
        [embedded] = arch.xpath("//field[@name='allocation_ids']/list")
        shown = [
            node.get("name")
            for node in embedded.iterchildren("field")
            if node.get("column_invisible") not in ("True", "1") and node.get("optional") != "hide"
        ]
        self.assertEqual(shown[:4], ["partner_id", "invoice_id", "date", "amount"])
        self.assertNotIn("organisation_id", shown)
        self.assertNotIn("settlement_id", shown)

    def test_reporting_menu_offers_money_in_and_members(self):
        reporting = self.env.ref("membership.menu_report_membership")
        self.assertFalse(reporting.action)
        menus = self.env["ir.ui.menu"].with_user(self.manager).load_menus(False)
        children = [menus[child]["name"] for child in menus[reporting.id]["children"]]
        self.assertEqual(
            children,
            [
                "Money in",
                "Money in per organisation",
                "Members per organisation",
                "Member analysis",
            ],
        )
        # Money in per week, as the graph reads it.
        self._import([self._payment("W1", self._ref(self.member_a), "60.00", DAY)], "week.xml")
        action = self.env.ref("membook_membership.membook_bank_payment_action_money_in")
        groups = (
            self.env["membook.bank.payment"]
            .with_user(self.manager)
            ._read_group(safe_eval(action.domain), ["payment_date:week"], ["amount:sum"])
        )
        self.assertEqual([amount for _week, amount in groups], [60.0])


@tagged("post_install", "-at_install")
class TestBankFileImport(BankDayMixin, MembookBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_invoices()

    def test_same_file_again_says_so(self):
        payments = [
            self._payment("F1", self._ref(self.member_a), "60.00", DAY),
            self._payment("F2", self._ref(self.member_b), "60.00", DAY),
        ]
        first = self._import(payments, "day.xml")
        self.assertFalse(first.same_file_id)
        self.assertFalse(first.import_note)
        again = self._import(payments, "day-copy.xml")
        self.assertEqual((again.new_count, again.duplicate_count), (0, 2))
        self.assertEqual(again.same_file_id, first)
        self.assertIn("This exact file (same SHA-256) was imported before", again.import_note)
        self.assertIn("day.xml", again.import_note)
        # A third time still names the first import.
        third = self._import(payments, "day-copy-2.xml")
        self.assertEqual(third.same_file_id, first)
        # An overlapping file is not the same file: duplicates, no such note.
        overlap = self._import(
            [payments[1], self._payment("F3", self._ref(self.member_other), "60.00", DAY)],
            "overlap.xml",
        )
        self.assertEqual((overlap.new_count, overlap.duplicate_count), (1, 1))
        self.assertFalse(overlap.same_file_id)
        self.assertFalse(overlap.import_note)
