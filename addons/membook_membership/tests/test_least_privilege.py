# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The main flows run by the least privileged user each is meant for, and what a user may not
reach: the server's folders, and production bank files from a neutralized copy."""

import base64
import datetime as dt
import os
import tempfile
from decimal import Decimal
from unittest.mock import patch

from odoo.exceptions import AccessError, ValidationError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged
from odoo.tools import config

from nordic_billing.bankfiles import KtlBatch, write_ktl
from nordic_billing.payment import Payment

from .common import MembookBillingCommon

ROOT_OPTION = "membook_bank_folder_root"


@tagged("post_install", "-at_install")
class TestLeastPrivilege(MembookBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sale_journal.invoice_reference_model = "fi"
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.env.company.membook_payout_journal_id = cls.bank_journal
        # Invoicing rights only: no membership role, no accounting configuration.
        cls.clerk = new_test_user(
            cls.env, login="mb-clerk", groups="base.group_user,account.group_account_invoice"
        )
        # Configures journals, not the server.
        cls.accountant = new_test_user(
            cls.env, login="mb-accountant", groups="base.group_user,account.group_account_manager"
        )
        cls.office = new_test_user(
            cls.env,
            login="mb-office",
            groups="base.group_user,membership.group_membership_manager",
        )
        cls.system = new_test_user(
            cls.env,
            login="mb-system",
            groups="base.group_user,base.group_system,account.group_account_manager",
        )

    def _fee_invoice(self, member, env=None):
        env = env or self.env
        invoice = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": member.id,
                "invoice_date": "2026-01-15",
                "invoice_date_due": "2026-02-15",
                "invoice_line_ids": [
                    (0, 0, {"product_id": self.fee.id, "price_unit": 60.0, "tax_ids": []})
                ],
            }
        )
        invoice.action_post()
        return invoice

    # -- posting --------------------------------------------------------
    def test_clerk_posts_a_fee_invoice(self):
        invoice = self._fee_invoice(self.member_a, self.env(user=self.clerk))
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(
            {s.organisation_id.name: s.amount for s in invoice.sudo().membook_split_ids},
            {"Tampere Ski Club": 25.0, "Pirkanmaa District": 10.0, "Finnish Ski Federation": 25.0},
        )

    # -- bank day and settlement ----------------------------------------
    def test_office_imports_a_bank_file_and_confirms_the_settlement(self):
        invoice = self._fee_invoice(self.member_a)
        payment = Payment(
            account="47300010416310",
            archive_id="LP1",
            reference=invoice.payment_reference,
            amount=Decimal("60.00"),
            currency="EUR",
            payment_date=dt.date(2026, 2, 1),
            booking_date=dt.date(2026, 2, 2),
            payer_name="PAYER",
            is_correction=False,
            source_format="ktl",
            source_line="",
        )
        data = write_ktl([KtlBatch(payments=[payment], created=dt.datetime(2026, 2, 2, 8))])
        office = self.env(user=self.office)
        wizard = office["membook.bank.file.import"].create(
            {
                "journal_id": self.bank_journal.id,
                "data_file": base64.b64encode(data),
                "filename": "day.svm",
            }
        )
        action = wizard.action_import()
        record = office["membook.bank.file"].browse(action["res_id"])
        self.assertEqual(record.new_count, 1)
        cron = self.env.ref("membook_membership.ir_cron_membook_bank_process")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.club.settlement_bank_id = self.env["res.partner.bank"].create(
            {"acc_number": "FI4950009420028730", "partner_id": self.club.partner_id.id}
        )
        settlement = office["membook.settlement"].create(
            {"organisation_id": self.club.id, "company_id": self.env.company.id}
        )
        allocations = self.env["membook.allocation"].search(
            [("organisation_id", "=", self.club.id)]
        )
        self.assertTrue(allocations)
        allocations.settlement_id = settlement
        self.assertIs(settlement.action_confirm(), True)
        self.assertEqual(settlement.state, "confirmed")
        self.assertIs(settlement.action_mark_paid(), True)
        self.assertEqual(settlement.state, "paid")

    def test_starting_work_wakes_every_copy_of_the_scheduled_action(self):
        """CONFIGURE suggests copies of the bank-day and billing actions to share the work: an
        import or a billing run wakes each copy, not only the original."""
        Trigger = self.env["ir.cron.trigger"]
        for xmlid in (
            "membook_membership.ir_cron_membook_bank_process",
            "membook_membership.ir_cron_membook_billing_run",
        ):
            cron = self.env.ref(xmlid)
            cron.copy({"name": f"{cron.name} (2)"})
        jobs = {
            xmlid: self.env["ir.cron"].search(
                [
                    ("model_id", "=", self.env.ref(xmlid).model_id.id),
                    ("code", "=", self.env.ref(xmlid).code),
                ]
            )
            for xmlid in (
                "membook_membership.ir_cron_membook_bank_process",
                "membook_membership.ir_cron_membook_billing_run",
            )
        }
        self.assertEqual([len(crons) for crons in jobs.values()], [2, 2])
        Trigger.search([]).unlink()
        invoice = self._fee_invoice(self.member_a)
        payment = Payment(
            account="47300010416310",
            archive_id="WAKE1",
            reference=invoice.payment_reference,
            amount=Decimal("60.00"),
            currency="EUR",
            payment_date=dt.date(2026, 2, 1),
            booking_date=dt.date(2026, 2, 2),
            payer_name="PAYER",
            is_correction=False,
            source_format="ktl",
            source_line="",
        )
        data = write_ktl([KtlBatch(payments=[payment], created=dt.datetime(2026, 2, 2, 8))])
        self.env["membook.bank.file"]._import_file(self.bank_journal, "wake.svm", data)
        bank_jobs = jobs["membook_membership.ir_cron_membook_bank_process"]
        self.assertEqual(Trigger.search([("cron_id", "in", bank_jobs.ids)]).cron_id, bank_jobs)
        run = self.env["membook.billing.run"].create(
            {
                "name": "Fees 2026",
                "period_key": "2026",
                "journal_id": self.sale_journal.id,
                "product_ids": [(6, 0, self.fee.ids)],
                "member_domain": f"[('id', '=', {self.member_b.id})]",
            }
        )
        run.action_start()
        billing_jobs = jobs["membook_membership.ir_cron_membook_billing_run"]
        self.assertEqual(
            Trigger.search([("cron_id", "in", billing_jobs.ids)]).cron_id, billing_jobs
        )

    def test_buttons_answer_rpc(self):
        """Buttons return an action or True: None cannot be marshalled over XML-RPC."""
        office = self.env(user=self.office)
        run = office["membook.billing.run"].create(
            {
                "name": "Fees 2026",
                "period_key": "2026",
                "journal_id": self.sale_journal.id,
                "product_ids": [(6, 0, self.fee.ids)],
            }
        )
        self.assertIs(run.action_cancel(), True)
        settlement = office["membook.settlement"].create(
            {"organisation_id": self.club.id, "company_id": self.env.company.id}
        )
        self.assertIs(settlement.action_cancel(), True)

    # -- the bank file folder -------------------------------------------
    def test_bank_file_folder_only_by_system_and_under_the_root(self):
        with tempfile.TemporaryDirectory() as root:
            inside = os.path.join(root, "nordea")
            with patch.dict(config.options, {ROOT_OPTION: root}):
                with self.assertRaises(AccessError):
                    self.bank_journal.with_user(self.accountant).membook_import_folder = inside
                journal = self.bank_journal.with_user(self.system)
                for outside in ("/etc", os.path.join(root, "..", "elsewhere"), "relative/dir"):
                    with (
                        self.subTest(folder=outside),
                        self.assertRaisesRegex(ValidationError, "not inside"),
                    ):
                        journal.membook_import_folder = outside
                journal.membook_import_folder = inside
                self.assertEqual(self.bank_journal.sudo().membook_import_folder, inside)
            # Without a root in the server configuration, no folder at all.
            with patch.dict(config.options, {ROOT_OPTION: ""}):
                with self.assertRaisesRegex(ValidationError, ROOT_OPTION):
                    journal.membook_import_folder = os.path.join(root, "other")
                # A folder set before the root was taken away is not read.
                with self.assertLogs("odoo.addons.membook_membership", "WARNING") as logs:
                    self.env["membook.bank.file"]._cron_import_folders()
                self.assertIn("not read", logs.output[0])

    def test_neutralized_copy_forgets_the_bank_file_folders(self):
        with tempfile.TemporaryDirectory() as root:
            with patch.dict(config.options, {ROOT_OPTION: root}):
                self.bank_journal.membook_import_folder = root
            self.env.flush_all()
            for query in get_neutralization_queries(["membook_membership"]):
                self.env.cr.execute(query)
            self.env.invalidate_all()
            self.assertFalse(
                self.env["account.journal"]
                .sudo()
                .search_count([("membook_import_folder", "!=", False)])
            )
