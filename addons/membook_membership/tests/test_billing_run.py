# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL, format_amount, format_date, mute_logger

from odoo.addons.membook_membership.models.batching import analyze_when_stale
from odoo.addons.membook_membership.models.membook_billing_run import (
    MembookBillingRun,
    MembookBillingRunLine,
)

from nordic_billing.references import KINDS

from .common import MembookBillingCommon, filter_domain


@tagged("post_install", "-at_install")
class TestBillingRun(MembookBillingCommon):
    def _invoices(self, partner=None):
        domain = [("move_type", "=", "out_invoice"), ("membook_billing_run_id", "!=", False)]
        if partner:
            domain.append(("partner_id", "=", partner.id))
        return self.env["account.move"].search(domain)

    def test_preview_start_and_cron(self):
        run = self._run()
        run.action_preview()
        self.assertEqual(run.preview_member_count, 3)
        self.assertEqual(run.preview_amount, 180.0)
        run.action_start()
        self.assertEqual(run.state, "running")
        self.assertEqual(len(run.line_ids), 3)
        self._process_runs()
        self.assertEqual(run.state, "done")
        invoices = self._invoices()
        self.assertEqual(len(invoices), 3)
        self.assertEqual(set(invoices.mapped("state")), {"posted"})
        self.assertEqual(invoices.mapped("amount_total"), [60.0] * 3)
        self.assertEqual(
            sorted(invoices.partner_id.ids),
            sorted((self.member_a | self.member_b | self.member_other).ids),
        )
        self.assertEqual(
            len(invoices.invoice_line_ids.membook_split_ids),
            8,
            "3 splits for 2 club members, 2 for the district one",
        )
        lines = {line.partner_id: line for line in run.line_ids}
        self.assertEqual(lines[self.member_a].state, "sent")
        self.assertEqual(lines[self.member_b].state, "no_email")
        self.assertEqual(run.no_email_count, 1)
        mail = self.env["mail.mail"].search(
            [("model", "=", "account.move"), ("res_id", "=", lines[self.member_a].move_id.id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertIn(lines[self.member_a].move_id.get_portal_url(), mail.body_html)
        self.assertTrue(lines[self.member_a].move_id.is_move_sent)
        self.assertIn(f"access_token={lines[self.member_a].move_id.access_token}", mail.body_html)
        unpaid = self.env["res.partner"].search(
            filter_domain(self.env, "unpaid", today=date.today())
        )
        self.assertIn(self.member_a, unpaid)

    def test_invoice_email_is_filled_in_without_evaluating_code(self):
        """The fee invoice e-mail holds placeholders only, which Odoo fills in without compiling
        and evaluating the body for each invoice; the member reads the invoice's number, amount,
        due date and reference, and the link to pay, in their language."""
        template = self.env.ref("membook_membership.mail_template_membership_invoice")
        self.assertFalse(
            template._has_unsafe_expression_template_qweb(template.body_html, "account.move")
        )
        self.env["res.lang"]._activate_lang("fi_FI")
        self.env["res.lang"]._activate_lang("sv_SE")
        template.with_context(lang="fi_FI").body_html = template.body_html.replace(
            "Here is your membership fee invoice", "Tässä jäsenmaksulaskusi"
        )
        self.member_a.lang = "fi_FI"
        self.member_other.lang = "sv_SE"
        run = self._run()
        run.action_start()
        self._process_runs()
        for member, words in (
            (self.member_a, ["Tässä jäsenmaksulaskusi", "Katso ja maksa verkossa"]),
            (self.member_other, ["Visa och betala online"]),
        ):
            move = run.line_ids.filtered(lambda line, m=member: line.partner_id == m).move_id
            body = self.env["mail.mail"].search([("res_id", "=", move.id)]).body_html
            lang_env = self.env(context={"lang": member.lang})
            for text in (
                *words,
                member.name,
                move.name,
                move.payment_reference,
                format_amount(lang_env, 60.0, move.currency_id),
                format_date(lang_env, move.invoice_date_due),
                f'href="{move.get_base_url()}{move.get_portal_url()}"',
            ):
                self.assertIn(text, body)

    def test_organisation_subtree(self):
        run = self._run(organisation_ids=[(6, 0, self.club.ids)])
        run.action_preview()
        self.assertEqual(run.preview_member_count, 2)
        run2 = self._run(organisation_ids=[(6, 0, self.federation.ids)])
        run2.action_preview()
        self.assertEqual(run2.preview_member_count, 3)

    def test_rerun_creates_no_duplicates(self):
        self._run().action_start()
        self._process_runs()
        self.assertEqual(len(self._invoices()), 3)
        again = self._run()
        again.action_preview()
        self.assertEqual((again.preview_member_count, again.preview_skipped_count), (0, 3))
        with self.assertRaisesRegex(UserError, "already billed"):
            again.action_start()
        # A second product in the same period bills only that product.
        extra = self._create_fee_product("Magazine 2026", 20.0, [(self.level_federation, 20.0)])
        third = self._run(product_ids=[(6, 0, (self.fee | extra).ids)])
        third.action_start()
        self._process_runs()
        invoices = self._invoices(self.member_a)
        self.assertEqual(len(invoices), 2)
        self.assertEqual(sorted(invoices.mapped("amount_total")), [20.0, 60.0])
        # A new member joining later is billed by a rerun, alone.
        late = self.env["res.partner"].create(
            {"name": "Late Joiner", "is_member": True, "member_organisation_id": self.club.id}
        )
        fourth = self._run()
        fourth.action_start()
        self.assertEqual(fourth.line_ids.partner_id, late)

    def test_killed_batch_resumes_without_loss_or_duplicates(self):
        run = self._run()
        run.action_start()
        self.env["ir.config_parameter"].set_param("membook.billing_batch_size", 1)
        original = MembookBillingRunLine._create_invoices
        member_b = self.member_b
        crashed = []

        def crash_at_member_b(lines, todo):
            if any(line.partner_id == member_b for line, _vals in todo):
                crashed.append(True)
                raise RuntimeError("worker killed")
            return original(lines, todo)

        with (
            patch.object(MembookBillingRunLine, "_create_invoices", crash_at_member_b),
            mute_logger("odoo.addons.base.models.ir_cron"),
        ):
            self._process_runs()
        self.assertTrue(crashed)
        # The batch before the crash is committed; the crashed one left nothing behind.
        self.assertEqual(self._invoices().partner_id, self.member_a)
        self.assertEqual(run.state, "running")
        self.assertEqual(
            run.line_ids.filtered(lambda line: line.partner_id == member_b).state, "pending"
        )
        self._process_runs()
        self.assertEqual(run.state, "done")
        invoices = self._invoices()
        self.assertEqual(len(invoices), 3)
        self.assertEqual(len(invoices.partner_id), 3, "nobody billed twice")

    def test_batch_locked_after_another_copy_committed_is_taken_again(self):
        """A copy of the scheduled action that commits a batch between the start of this one's
        transaction and its lock makes PostgreSQL refuse the lock (a serialization failure);
        one test transaction cannot produce that, so it is raised here. The transaction is
        rolled back and the lock taken again: the run ends with every member billed once. A
        lock refused every time fails the run and leaves the members to the next one."""
        from psycopg2.errors import SerializationFailure

        from odoo.sql_db import Cursor

        from odoo.addons.base_cron_batch.models.ir_cron import LOCK_ATTEMPTS

        original = Cursor.execute
        refused = []

        def refuse(times):
            def execute(cr, query, params=None, log_exceptions=True):
                code = query.code if isinstance(query, SQL) else str(query)
                taking = "SKIP LOCKED" in code and "membook_billing_run_line" in code
                if taking and len(refused) < times:
                    refused.append(log_exceptions)
                    raise SerializationFailure("could not serialize access")
                return original(cr, query, params, log_exceptions)

            return patch.object(Cursor, "execute", execute)

        run = self._run()
        run.action_start()
        with refuse(2):
            self._process_runs(max_runs=1)
        self.assertEqual(refused, [False, False], "refused twice, not logged as a failed query")
        self.assertEqual(run.state, "done")
        self.assertEqual(len(run.line_ids.move_id), 3)
        self.assertEqual(len(run.line_ids.move_id.partner_id), 3)

        late = self.env["res.partner"].create(
            {"name": "Late Joiner", "is_member": True, "member_organisation_id": self.club.id}
        )
        later = self._run()
        later.action_start()
        refused.clear()
        with refuse(10**6), mute_logger("odoo.addons.base.models.ir_cron"):
            self._process_runs(max_runs=1)
        self.assertEqual(len(refused), LOCK_ATTEMPTS)
        self.assertEqual(later.line_ids.partner_id, late)
        self.assertEqual(later.line_ids.state, "pending")
        self._process_runs()
        self.assertEqual(later.state, "done")

    def test_failing_member_is_reported_not_blocking(self):
        original = MembookBillingRunLine._create_invoices
        member_b = self.member_b

        def refuse_member_b(lines, todo):
            if any(line.partner_id == member_b for line, _vals in todo):
                raise UserError(self.env._("Posting refused for this member"))
            return original(lines, todo)

        run = self._run()
        run.action_start()
        with patch.object(MembookBillingRunLine, "_create_invoices", refuse_member_b):
            self._process_runs()
        states = {line.partner_id: line.state for line in run.line_ids}
        self.assertEqual(states[self.member_b], "failed")
        self.assertEqual(states[self.member_a], "sent")
        self.assertIn(
            "Posting refused", run.line_ids.filtered(lambda line: line.state == "failed").message
        )
        self.assertEqual(len(self._invoices()), 2)

    def test_references_follow_the_journal_model(self):
        models = dict(
            self.sale_journal._fields["invoice_reference_model"]._description_selection(self.env)
        )
        checked = 0
        for model, kind in (("fi", "fi"), ("fi_rf", "rf"), ("no", "kid10")):
            if model not in models:
                continue
            self.sale_journal.invoice_reference_model = model
            # Three members of one shape: Odoo makes the first invoice, the others are copies.
            partners = self.env["res.partner"].create(
                [
                    {
                        "name": f"Ref {model} {n}",
                        "is_member": True,
                        "member_organisation_id": self.club.id,
                    }
                    for n in range(3)
                ]
            )
            run = self._run(
                member_domain=f"[('id', 'in', {partners.ids})]", period_key=f"ref-{model}"
            )
            run.action_start()
            self._process_runs()
            invoices = run.line_ids.move_id
            self.assertEqual(len(set(invoices.mapped("payment_reference"))), 3)
            for invoice in invoices:
                reference = invoice.payment_reference
                self.assertTrue(
                    KINDS[kind].check(reference.replace(" ", "")), f"{model}: {reference}"
                )
                self.assertEqual(reference, invoice._get_invoice_computed_reference())
                term = invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
                self.assertEqual(term.name, reference)
            checked += 1
        self.assertTrue(checked, "the Finnish or Norwegian localisation is installed for this test")

    def _booked(self, move):
        """What an invoice books, line by line, and the membership lines it gives."""
        return (
            sorted(
                (
                    line.display_type,
                    line.product_id.id,
                    line.account_id.id,
                    tuple(line.tax_ids.ids),
                    line.price_subtotal,
                    line.price_total,
                    line.amount_currency,
                    line.balance,
                    line.debit,
                    line.credit,
                    line.amount_residual,
                    line.date_maturity,
                )
                for line in move.line_ids
            ),
            (move.amount_untaxed, move.amount_tax, move.amount_total, move.amount_residual),
            sorted(
                (
                    membership.membership_id.id,
                    membership.member_price,
                    membership.date_from,
                    membership.date_to,
                    membership.date_cancel,
                    membership.state,
                )
                for membership in move.invoice_line_ids.membership_line_ids
            ),
        )

    def _magazine(self, price=19.99):
        return self.env["product.product"].create(
            {
                "name": "Member magazine",
                "type": "service",
                "membership": True,
                "membership_date_from": date(2026, 1, 1),
                "membership_date_to": date(2026, 12, 31),
                "list_price": price,
                "taxes_id": [(6, 0, self.tax_sale_a.ids)],
                "property_account_income_id": self.company_data["default_account_revenue"].id,
            }
        )

    def test_invoices_book_as_odoo_books_them(self):
        """The run gives the amounts of untaxed fee lines and creates the membership lines of a
        batch at once: its invoices book and record exactly what Odoo's own invoicing does."""
        fee = self._create_fee_product("Odd fee", 33.33, [(self.level_federation, 33.33)])
        magazine = self._magazine()
        products = fee | magazine
        run = self._run(
            product_ids=[(6, 0, products.ids)],
            member_domain=f"[('id', 'in', {(self.member_a | self.member_b).ids})]",
        )
        self.assertEqual(
            run._fee_line_amounts(),
            {fee.id: {"amount_currency": -33.33, "balance": -33.33}},
            "only the untaxed fee is booked ahead",
        )
        run.action_start()
        self._process_runs()
        line_a = run.line_ids.filtered(lambda line: line.partner_id == self.member_a)
        billed = line_a.move_id
        self.assertEqual(billed.state, "posted")
        # The same invoice the standard way, for a member the run did not bill.
        vals = line_a._invoice_vals(products)
        vals["partner_id"] = self.member_other.id
        standard = self.env["account.move"].create(vals)
        standard.action_post()
        self.assertEqual(self._booked(billed), self._booked(standard))
        self.assertEqual(len(billed.invoice_line_ids.membership_line_ids), 2)
        self.assertEqual(
            set(billed.invoice_line_ids.membership_line_ids.mapped("state")), {"invoiced"}
        )
        self.assertEqual(self.member_a.membership_state, "invoiced")
        self.assertEqual(self.member_a.membership_state, self.member_other.membership_state)
        self.assertEqual(self.member_a.membership_stop, self.member_other.membership_stop)
        self.assertEqual(self.member_b.membership_state, "invoiced")

    def test_amounts_odoo_disagrees_with_are_not_booked(self):
        """Should Odoo compute another subtotal than the run's amount, the run books the
        invoices the standard way instead."""
        original = MembookBillingRun._fee_line_amounts

        def off_by_a_cent(run):
            return {
                product_id: {key: value + 0.01 for key, value in amounts.items()}
                for product_id, amounts in original(run).items()
            }

        run = self._run()
        run.action_start()
        with patch.object(MembookBillingRun, "_fee_line_amounts", off_by_a_cent):
            self._process_runs()
        invoices = run.line_ids.move_id
        self.assertEqual(len(invoices), 3)
        self.assertEqual(set(run.line_ids.mapped("state")), {"sent", "no_email"})
        self.assertEqual(invoices.mapped("amount_total"), [60.0] * 3)
        self.assertEqual(set(invoices.line_ids.mapped("balance")), {-60.0, 60.0})
        self.assertEqual(len(invoices.invoice_line_ids.membership_line_ids), 3)

    def test_invoices_have_their_portal_token_from_creation(self):
        run = self._run(send_email=False)
        run.action_start()
        self._process_runs()
        tokens = run.line_ids.move_id.mapped("access_token")
        self.assertEqual(len(tokens), 3)
        self.assertTrue(all(tokens))
        self.assertEqual(len(set(tokens)), 3)

    def test_amounts_in_another_currency_are_left_to_odoo(self):
        other = self.setup_other_currency("EUR")
        journal = self.sale_journal.copy({"currency_id": other.id, "code": "EURS"})
        run = self._run(journal_id=journal.id)
        self.assertEqual(run._fee_line_amounts(), {})
        run.action_start()
        self._process_runs()
        invoices = run.line_ids.move_id
        self.assertEqual(invoices.currency_id, other)
        self.assertEqual(invoices.mapped("amount_total"), [60.0] * 3)

    def test_stale_statistics_are_refreshed(self):
        self.assertFalse(analyze_when_stale(self.env, "account_move", changed_rows=10**9))
        self.assertTrue(analyze_when_stale(self.env, "account_move", -1, changed_share=0))
        self.env.cr.execute("SELECT count(*) FROM account_move")
        count = self.env.cr.fetchone()[0]
        self.env.cr.execute("SELECT reltuples FROM pg_class WHERE relname = 'account_move'")
        self.assertEqual(self.env.cr.fetchone()[0], count, "the table was analysed")
