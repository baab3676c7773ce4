# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import contextlib
import datetime as dt
import os
import tempfile
from decimal import Decimal
from unittest.mock import patch

import psycopg2
from freezegun import freeze_time
from lxml import etree

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import config, mute_logger

from odoo.addons.membook_membership.models import membook_bank_booking as booking_module
from odoo.addons.membook_membership.models import membook_bank_payment as bank_payment_module
from odoo.addons.membook_membership.models.membook_bank_booking import (
    ITEM_COPY_KNOWN_DEPENDENTS,
    MembookBankPaymentBooking,
)
from odoo.addons.membook_membership.models.membook_bank_matching import (
    MembookBankPaymentMatching,
)
from odoo.addons.membook_membership.models.registry_checks import stored_dependents

from nordic_billing.bankfiles import KtlBatch, Outgoing, write_camt054, write_ktl
from nordic_billing.payment import Payment

from .common import MembookBillingCommon

BBAN = "47300010416310"
IBAN = "FI4947300010416310"


@tagged("post_install", "-at_install")
class TestBankDay(MembookBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        models = dict(
            cls.sale_journal._fields["invoice_reference_model"]._description_selection(cls.env)
        )
        if "fi" not in models:
            cls.skipTest(cls, "needs the Finnish reference model of l10n_fi")
        cls.sale_journal.invoice_reference_model = "fi"
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.env.company.membook_payout_journal_id = cls.bank_journal
        cls.invoices = {}
        for member in (cls.member_a, cls.member_b, cls.member_other):
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

    # -- helpers --------------------------------------------------------
    def _payment(self, archive_id, reference, amount, correction=False, name="PAYER", account=BBAN):
        return Payment(
            account=account,
            archive_id=archive_id,
            reference=reference,
            amount=Decimal(amount),
            currency="EUR",
            payment_date=dt.date(2026, 2, 1),
            booking_date=dt.date(2026, 2, 2),
            payer_name=name,
            is_correction=correction,
            source_format="ktl",
            source_line="",
        )

    def _ktl(self, *payments):
        return write_ktl([KtlBatch(payments=list(payments), created=dt.datetime(2026, 2, 2, 8))])

    def _import(self, data, name="payments.svm"):
        record = self.env["membook.bank.file"]._import_file(self.bank_journal, name, data)
        cron = self.env.ref("membook_membership.ir_cron_membook_bank_process")
        for _attempt in range(5):  # as the scheduler calls a job again that ran out of time
            with self.enter_registry_test_mode():
                cron.method_direct_trigger()
            if not self.env["membook.bank.payment"].search_count([("state", "=", "new")]):
                break
        return record

    def _import_exact_over_partial(self, prefix):
        """Import a day paying member A exactly, B over and the other member in part; return
        its payments in that order."""
        record = self._import(
            self._ktl(
                self._payment(f"{prefix}1", self._ref(self.member_a), "60.00"),
                self._payment(f"{prefix}2", self._ref(self.member_b), "75.00"),
                self._payment(f"{prefix}3", self._ref(self.member_other), "30.00"),
            )
        )
        return record.payment_ids.sorted("archive_id")

    def _run_weekly(self, day):
        with freeze_time(day), self.enter_registry_test_mode():
            self.env.ref(
                "membook_membership.ir_cron_membook_settlement_weekly"
            ).method_direct_trigger()

    def _ref(self, member):
        return self.invoices[member].payment_reference

    def _allocations(self, invoice):
        return {
            (a.organisation_id.name or "operator"): a.amount
            for a in self.env["membook.allocation"].search([("invoice_id", "=", invoice.id)])
        }

    # -- import ---------------------------------------------------------
    def test_exact_payment_reconciles_and_allocates(self):
        data = self._ktl(self._payment("A1", self._ref(self.member_a), "60.00"))
        record = self._import(data)
        self.assertEqual(
            (record.payment_count, record.new_count, record.duplicate_count), (1, 1, 0)
        )
        self.assertEqual(record.file_format, "ktl")
        payment = record.payment_ids
        self.assertEqual((payment.state, payment.match_kind), ("matched", "exact"))
        invoice = self.invoices[self.member_a]
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertTrue(payment.statement_line_id.is_reconciled)
        self.assertEqual(
            self._allocations(invoice),
            {"Tampere Ski Club": 25.0, "Pirkanmaa District": 10.0, "Finnish Ski Federation": 25.0},
        )

    def test_duplicate_import_creates_nothing(self):
        data = self._ktl(
            self._payment("D1", self._ref(self.member_a), "60.00"),
            self._payment("D2", self._ref(self.member_b), "60.00"),
        )
        self._import(data)
        lines_before = self.env["account.bank.statement.line"].search_count([])
        again = self._import(data, "payments-again.svm")
        self.assertEqual((again.new_count, again.duplicate_count), (0, 2))
        self.assertEqual(self.env["account.bank.statement.line"].search_count([]), lines_before)
        # An overlapping file: one old payment, one new.
        overlap = self._ktl(
            self._payment("D2", self._ref(self.member_b), "60.00"),
            self._payment("D3", self._ref(self.member_other), "60.00"),
        )
        third = self._import(overlap, "overlap.svm")
        self.assertEqual((third.new_count, third.duplicate_count), (1, 1))
        self.assertEqual(self.env["account.bank.statement.line"].search_count([]), lines_before + 1)

    def test_bulk_rows_keep_every_character(self):
        """Staged payments and allocations are written with COPY: what a bank file carries in
        its free text (tabs, line breaks, backslashes, quotes, Nordic letters) comes back as it
        was, and a value COPY cannot take as text is refused before anything is written."""
        from ..models.batching import insert_rows

        Payment = self.env["membook.bank.payment"]
        bank_file = self.env["membook.bank.file"]._import_file(
            self.bank_journal,
            "text.svm",
            self._ktl(self._payment("T1", self._ref(self.member_a), "1.00")),
        )
        text = "tab\there\nline\r\nback\\slash\\N 'single' \"double\" ÅÄÖ åäö Øæ € \\."
        vals = {
            "file_id": bank_file.id,
            "journal_id": self.bank_journal.id,
            "company_id": self.bank_journal.company_id.id,
            "state": "to_check",
            "account": BBAN,
            "archive_id": "TEXT1",
            "amount": 12.5,
            "payment_date": dt.date(2026, 2, 1),
            "payer_name": text,
            "message": None,
            "is_correction": False,
            "reference": False,
        }
        payment = insert_rows(Payment, [vals])
        self.assertEqual(
            (payment.payer_name, payment.message, payment.reference, payment.amount),
            (text, False, False, 12.5),
        )
        self.assertEqual(payment.payment_date, dt.date(2026, 2, 1))
        self.assertIs(payment.is_correction, False)
        self.assertEqual(payment.create_uid, self.env.user)
        count = Payment.search_count([])
        with self.assertRaisesRegex(TypeError, "membook_bank_payment: dict"):
            insert_rows(Payment, [{**vals, "archive_id": "TEXT2"}, {**vals, "message": {}}])
        self.assertEqual(Payment.search_count([]), count)

    def test_malformed_file_writes_nothing(self):
        good = self._ktl(self._payment("M1", self._ref(self.member_a), "60.00"))
        lines = good.split(b"\r\n")
        # The sum record claims 1 cent more than the payments add up to.
        total = int(lines[2][7:18]) + 1
        lines[2] = lines[2][:7] + f"{total:011d}".encode() + lines[2][18:]
        bad = b"\r\n".join(lines)
        files_before = self.env["membook.bank.file"].search_count([])
        with self.assertRaisesRegex(UserError, "line 3: sum record"):
            self.env["membook.bank.file"]._import_file(self.bank_journal, "bad.svm", bad)
        self.assertEqual(self.env["membook.bank.file"].search_count([]), files_before)
        self.assertFalse(self.env["membook.bank.payment"].search([("archive_id", "=", "M1")]))
        with self.assertRaisesRegex(UserError, "cannot be imported"):
            self.env["membook.bank.file"]._import_file(self.bank_journal, "x.txt", b"hello")

    def test_partial_then_rest(self):
        invoice = self.invoices[self.member_a]
        self._import(self._ktl(self._payment("P1", self._ref(self.member_a), "30.00")))
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(invoice.amount_residual, 30.0)
        self.assertEqual(
            self._allocations(invoice),
            {"Tampere Ski Club": 12.5, "Pirkanmaa District": 5.0, "Finnish Ski Federation": 12.5},
        )
        self._import(self._ktl(self._payment("P2", self._ref(self.member_a), "30.00")))
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        allocations = self.env["membook.allocation"].search([("invoice_id", "=", invoice.id)])
        totals = {}
        for allocation in allocations:
            key = allocation.organisation_id.name
            totals[key] = totals.get(key, 0) + allocation.amount
        self.assertEqual(
            totals,
            {"Tampere Ski Club": 25.0, "Pirkanmaa District": 10.0, "Finnish Ski Federation": 25.0},
        )

    def test_overpayment_leaves_partner_credit(self):
        invoice = self.invoices[self.member_a]
        record = self._import(self._ktl(self._payment("O1", self._ref(self.member_a), "75.00")))
        payment = record.payment_ids
        self.assertEqual((payment.match_kind, payment.unapplied_amount), ("overpayment", 15.0))
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        credit = self.env["account.move.line"].search(
            [
                ("partner_id", "=", self.member_a.id),
                ("account_id.account_type", "=", "asset_receivable"),
                ("reconciled", "=", False),
                ("parent_state", "=", "posted"),
            ]
        )
        self.assertEqual(sum(credit.mapped("amount_residual")), -15.0)
        self.assertEqual(
            sum(self._allocations(invoice).values()), 60.0, "only the fee is allocated"
        )

    def test_reversal_reopens_invoice_and_reverses_allocations(self):
        invoice = self.invoices[self.member_a]
        self._import(self._ktl(self._payment("R1", self._ref(self.member_a), "60.00")))
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        record = self._import(
            self._ktl(self._payment("R1", self._ref(self.member_a), "60.00", correction=True))
        )
        correction = record.payment_ids
        self.assertEqual((correction.state, correction.match_kind), ("reversal", "reversal"))
        original = correction.reverses_id
        self.assertEqual((original.archive_id, original.state), ("R1", "reversed"))
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(invoice.amount_residual, 60.0)
        self.assertEqual(
            sum(
                self.env["membook.allocation"]
                .search([("invoice_id", "=", invoice.id)])
                .mapped("amount")
            ),
            0.0,
        )

    def test_day_booked_as_one_entry_and_one_payment_reversed(self):
        payments = self._import_exact_over_partial("E")
        st_line = payments.statement_line_id
        self.assertEqual(len(st_line), 1, "the day's matched payments make one bank line")
        self.assertEqual(st_line.amount, 165.0)
        entry = st_line.move_id
        self.assertEqual(entry.state, "posted")
        self.assertEqual(sum(entry.line_ids.mapped("debit")), 165.0)
        self.assertEqual(len(entry.line_ids), 4, "the bank line and one item per payer")
        bank_item = entry.line_ids.filtered(
            lambda line: line.account_id == self.bank_journal.default_account_id
        )
        self.assertEqual(payments.counterpart_line_id, entry.line_ids - bank_item)
        for payment, member, credit in zip(
            payments,
            (self.member_a, self.member_b, self.member_other),
            (60.0, 75.0, 30.0),
            strict=True,
        ):
            self.assertEqual(payment.counterpart_line_id.credit, credit)
            self.assertEqual(payment.counterpart_line_id.partner_id, member)
            self.assertIn(
                self.invoices[member],
                payment.counterpart_line_id.matched_debit_ids.debit_move_id.move_id,
            )
        self.assertEqual(self.invoices[self.member_other].payment_state, "partial")
        # The bank takes back the overpaying payment: that invoice reopens, the others stay.
        self._import(
            self._ktl(self._payment("E2", self._ref(self.member_b), "75.00", correction=True)),
            "correction.svm",
        )
        self.assertEqual(payments[1].state, "reversed")
        self.assertEqual(self.invoices[self.member_b].payment_state, "not_paid")
        self.assertIn(self.invoices[self.member_a].payment_state, ("paid", "in_payment"))
        self.assertEqual(self.invoices[self.member_other].amount_residual, 30.0)
        self.assertTrue(payments[1].counterpart_line_id.reconciled, "settled by the correction")
        allocations = self.env["membook.allocation"].search(
            [("invoice_id", "=", self.invoices[self.member_b].id)]
        )
        self.assertEqual(len(allocations), 6, "three shares and their reversals")
        self.assertEqual(sum(allocations.mapped("amount")), 0.0)

    def test_copied_items_equal_what_the_orm_books(self):
        """The day entry's payer items are copied in SQL: they must be what the ORM makes."""
        payments = self._import_exact_over_partial("G")
        entry = payments.statement_line_id.move_id
        receivable = payments.counterpart_line_id.account_id
        self.assertEqual(len(receivable), 1)
        orm_line = (
            self.env["account.bank.statement.line"]
            .with_context(tracking_disable=True)
            .create(
                {
                    "journal_id": self.bank_journal.id,
                    "date": entry.date,
                    "amount": 165.0,
                    "payment_ref": payments.statement_line_id.payment_ref,
                    "line_ids": [
                        Command.create(
                            {
                                "name": payments.statement_line_id.payment_ref,
                                "account_id": self.bank_journal.default_account_id.id,
                                "currency_id": entry.currency_id.id,
                                "amount_currency": 165.0,
                                "debit": 165.0,
                                "credit": 0.0,
                            }
                        )
                    ]
                    + [
                        Command.create(
                            {
                                "name": payment.reference,
                                "account_id": receivable.id,
                                "partner_id": payment.partner_id.id,
                                "currency_id": entry.currency_id.id,
                                "amount_currency": -payment.amount,
                                "debit": 0.0,
                                "credit": payment.amount,
                            }
                        )
                        for payment in payments
                    ],
                }
            )
        )
        self.env.flush_all()
        # What reconciliation changes afterwards, and who or what names the records.
        skip = {
            "id",
            "move_id",
            "move_name",
            "statement_line_id",
            "create_uid",
            "create_date",
            "write_uid",
            "write_date",
            "amount_residual",
            "amount_residual_currency",
            "reconciled",
            "full_reconcile_id",
            "matching_number",
        }

        def items(move):
            self.env.cr.execute(
                "SELECT * FROM account_move_line WHERE move_id = %s ORDER BY id", [move.id]
            )
            return [
                {key: value for key, value in row.items() if key not in skip}
                for row in self.env.cr.dictfetchall()
            ]

        self.assertEqual(items(entry), items(orm_line.move_id))
        self.assertEqual(
            [(line.amount_residual, line.reconciled) for line in payments.counterpart_line_id],
            [(0.0, True), (-15.0, False), (0.0, True)],
        )

    def _watch_reconciliation(self, invoices):
        """Note the state of what paying ``invoices`` touches. The function returned, given
        the items the payments were booked on (one per invoice, in order), describes what
        changed since in terms that do not depend on record ids: every changed column of the
        invoices, their items, members and membership lines, the payments' items, day entry
        and statement line as booked, and every partial and full reconcile created."""
        cr = self.env.cr
        members = invoices.partner_id

        def rows(table, column, ids):
            cr.execute(f"SELECT * FROM {table} WHERE {column} = ANY(%s) ORDER BY id", [ids])
            return {row["id"]: row for row in cr.dictfetchall()}

        def state(credits):
            entry = credits.move_id
            ids = {
                "account_move": (invoices | entry).ids,
                "account_move_line": (invoices.line_ids | credits).ids,
                "res_partner": members.ids,
                "account_bank_statement_line": entry.statement_line_id.ids,
            }
            return {
                **{table: rows(table, "id", table_ids) for table, table_ids in ids.items()},
                "membership_membership_line": rows(
                    "membership_membership_line", "partner_id", members.ids
                ),
            }

        self.env.flush_all()
        before = state(self.env["account.move.line"])

        def changes(credits):
            self.assertEqual(len(credits), len(invoices))
            self.assertEqual(len(credits.move_id), 1, "one day entry")
            token = {}
            for number, (invoice, credit) in enumerate(zip(invoices, credits, strict=True)):
                token[("account_move_line", credit.id)] = ("credit", number)
                token[("res_partner", invoice.partner_id.id)] = ("member", number)
                token[("account_move", invoice.id)] = ("invoice", number)
                for index, line in enumerate(invoice.line_ids.sorted("id")):
                    token[("account_move_line", line.id)] = (("invoice", number), index)
            entry = credits.move_id
            token[("account_move", entry.id)] = ("day entry",)
            token[("account_bank_statement_line", entry.statement_line_id.id)] = (
                "day statement line",
            )
            for index, line in enumerate((entry.line_ids - credits).sorted("id")):
                token[("account_move_line", line.id)] = (("day entry",), index)
            lines = invoices.line_ids | credits
            return self._reconciliation_changes(lines, token, before, state(credits), rows)

        return changes

    def _reconciliation_changes(self, lines, token, before, after, rows):
        partials = rows("account_partial_reconcile", "debit_move_id", lines.ids)
        partials.update(rows("account_partial_reconcile", "credit_move_id", lines.ids))
        fulls = {}
        for row in after["account_move_line"].values():
            if row["full_reconcile_id"]:
                fulls.setdefault(row["full_reconcile_id"], []).append(
                    token[("account_move_line", row["id"])]
                )
        for full_id, members in fulls.items():
            token[("account_full_reconcile", full_id)] = ("full", *sorted(members, key=str))
        for partial in partials.values():
            token[("account_partial_reconcile", partial["id"])] = (
                "partial",
                token[("account_move_line", partial["debit_move_id"])],
                token[("account_move_line", partial["credit_move_id"])],
            )
        references = {
            "move_id": "account_move",
            "debit_move_id": "account_move_line",
            "credit_move_id": "account_move_line",
            "full_reconcile_id": "account_full_reconcile",
            "partner_id": "res_partner",
            "statement_line_id": "account_bank_statement_line",
        }

        def canonical(column, value):
            if column == "matching_number" and value:
                if value.startswith("P"):
                    return token[("account_partial_reconcile", int(value[1:]))]
                return token[("account_full_reconcile", int(value))]
            return token.get((references.get(column), value), value)

        changes = {}
        for table, new_rows in after.items():
            for row_id, row in new_rows.items():
                old = before[table].get(row_id, {})
                # internal_index: a sort key made of the date and the record id. The day entry
                # is numbered in its journal after the other run's, and created at its time.
                ignored = {"write_date", "internal_index"}
                if not old:
                    ignored |= {"id", "create_date", "name", "sequence_number", "move_name"}
                changed = {
                    column: canonical(column, value)
                    for column, value in row.items()
                    if column not in ignored and old.get(column) != value
                }
                if changed:
                    key = token.get((table, row_id)) or canonical("partner_id", row["partner_id"])
                    changes[(table, str(key))] = changed
        skip = {"id", "create_date", "write_date"}
        created = sorted(
            str(
                {
                    column: canonical(column, value)
                    for column, value in row.items()
                    if column not in skip
                }
            )
            for row in partials.values()
        ) + sorted(str(token[("account_full_reconcile", full_id)]) for full_id in fulls)
        return changes, created

    def test_set_based_reconciliation_writes_what_odoo_writes(self):
        """Paying the same invoices through the set-based path and through Odoo's changes the
        same columns of the same records to the same values, and creates the same partial and
        full reconciles: exact, partial and over-payments, and invoices in two instalments paid
        in full and in part. Membership lines and members' membership state included."""
        AccountMoveLine = type(self.env["account.move.line"])
        real_sql = AccountMoveLine._membook_reconcile_sql
        AccountMove = type(self.env["account.move"])
        real_paid = AccountMove._invoice_paid_hook
        effects, sql_plans, ledgers = {}, {"odoo": [], "set-based": []}, {}
        paid_hooks = {"odoo": [], "set-based": []}
        for run in ("odoo", "set-based"):
            members = self.env["res.partner"].create(
                [
                    {
                        "name": f"{run} {n}",
                        "is_member": True,
                        "member_organisation_id": self.club.id,
                    }
                    for n in range(5)
                ]
            )
            invoices = self.env["account.move"]
            for member, terms in zip(members, [False] * 3 + [self.pay_terms_b] * 2, strict=True):
                invoice = self.env["account.move"].create(
                    {
                        "move_type": "out_invoice",
                        "partner_id": member.id,
                        "invoice_date": "2026-01-15",
                        "invoice_payment_term_id": terms and terms.id,
                        "invoice_line_ids": [
                            (0, 0, {"product_id": self.fee.id, "price_unit": 60.0, "tax_ids": []})
                        ],
                    }
                )
                invoice.action_post()
                invoices |= invoice
            amounts = ("60.00", "30.00", "75.00", "60.00", "40.00")
            data = self._ktl(
                *(
                    self._payment(f"{run[:3]}{n}", invoice.payment_reference, amount)
                    for n, (invoice, amount) in enumerate(zip(invoices, amounts, strict=True))
                )
            )

            def spy_sql(model, plans, pending, run=run):
                sql_plans[run] += plans
                return real_sql(model, plans, pending)

            def spy_paid(moves, run=run, invoices=invoices):
                # Which invoices Odoo's hook is told are paid, and whether their
                # reconciliation is all there when it is.
                paid_hooks[run] += [
                    (
                        list(invoices).index(move),
                        move.amount_residual,
                        bool(move._get_reconciled_amls()),
                    )
                    for move in moves
                ]
                return real_paid(moves)

            changes = self._watch_reconciliation(invoices)
            with (
                patch.object(AccountMoveLine, "_membook_reconcile_sql", spy_sql),
                patch.object(AccountMove, "_invoice_paid_hook", spy_paid),
                # No known overrides: everything takes Odoo's path.
                patch.object(AccountMoveLine, "_membook_reconcile_hooks", return_value=None)
                if run == "odoo"
                else contextlib.nullcontext(),
            ):
                record = self._import(data, name=f"{run}.svm")
            payments = record.payment_ids.sorted("archive_id")
            self.assertEqual(set(payments.mapped("state")), {"matched"})
            effects[run] = changes(payments.counterpart_line_id)  # as the cron left them
            ledgers[run] = self._ledger_rows(invoices, payments)
            self.assertEqual(
                invoices.mapped("payment_state"),
                ["paid", "partial", "paid", "paid", "partial"],
            )
        self.assertFalse(sql_plans["odoo"])
        self.assertEqual(
            len(sql_plans["set-based"]), 5, "every plan is plain: none took Odoo's path"
        )
        odoo_changes, odoo_created = effects["odoo"]
        sql_changes, sql_created = effects["set-based"]
        self.assertEqual(sorted(sql_changes), sorted(odoo_changes), (sql_changes, odoo_changes))
        for key, changed in odoo_changes.items():
            self.assertEqual(sql_changes[key], changed, key)
        self.assertEqual(sql_created, odoo_created)
        self.assertEqual(len(odoo_created), 7 + 2)  # partials (instalments: two each), fulls
        self.assertEqual(sorted(paid_hooks["set-based"]), sorted(paid_hooks["odoo"]))
        # The allocation ledger: the same rows, each linked to its partial and bank payment.
        self.assertEqual(ledgers["set-based"], ledgers["odoo"])
        self.assertEqual(
            self._ledger_totals(ledgers["odoo"]),
            {0: 60.0, 1: 30.0, 2: 60.0, 3: 60.0, 4: 40.0},
        )
        self.assertEqual(
            sorted(paid_hooks["odoo"]), [(0, 0.0, True), (2, 0.0, True), (3, 0.0, True)]
        )

    def _ledger_rows(self, invoices, payments):
        """The allocations of ``invoices`` in terms that do not depend on record ids: invoice
        number, fee line index, beneficiary, product, amount, date, bank payment number, and
        whether the row's partial, bank payment and paying entry agree with each other."""
        rows = []
        for allocation in self.env["membook.allocation"].search(
            [("invoice_id", "in", invoices.ids)]
        ):
            invoice = allocation.invoice_id
            payment = allocation.bank_payment_id
            partial = allocation.partial_id
            rows.append(
                (
                    list(invoices).index(invoice),
                    list(invoice.line_ids.sorted("id")).index(allocation.move_line_id),
                    allocation.organisation_id.name or "operator",
                    allocation.product_id.id,
                    allocation.amount,
                    str(allocation.date),
                    list(payments).index(payment),
                    partial.debit_move_id.move_id == invoice,
                    partial.credit_move_id == payment.counterpart_line_id,
                    allocation.counterpart_move_id == payment.statement_line_id.move_id,
                )
            )
        return sorted(rows)

    def _ledger_totals(self, rows):
        totals = {}
        for row in rows:
            totals[row[0]] = round(totals.get(row[0], 0.0) + row[4], 2)
        return totals

    def test_unknown_reconciliation_extensions_send_to_odoos_path(self):
        """A stored field depending on reconciliation, or an override of it, that the set-based
        path does not know makes every plan take Odoo's path."""
        from ..models import account_move_line as module

        AccountMoveLine = self.env["account.move.line"]
        self.assertIsNotNone(AccountMoveLine._membook_reconcile_hooks())
        with patch.object(
            module, "KNOWN_DEPENDENTS", module.KNOWN_DEPENDENTS - {"account.move.line.reconciled"}
        ):
            self.assertIsNone(AccountMoveLine._membook_reconcile_hooks())
        overrides = {key: {"account": None} for key in module.KNOWN_OVERRIDES}
        with patch.object(module, "KNOWN_OVERRIDES", overrides):
            hooks = AccountMoveLine._membook_reconcile_hooks()
        # membook_membership itself overrides the creation of partials (the allocation
        # ledger), and so may other addons: unknown here, so no set-based path.
        self.assertIsNone(hooks)

    def test_blocked_invoice_takes_odoos_path(self):
        """What the set-based path does not know stays with Odoo: an invoice whose payment a
        person blocked is reconciled by Odoo, which leaves it blocked."""
        invoice = self.invoices[self.member_a]
        invoice.action_toggle_block_payment()
        AccountMoveLine = type(self.env["account.move.line"])
        real_sql = AccountMoveLine._membook_reconcile_sql
        fast = []

        def spy_sql(model, plans, pending):
            fast.extend(plans)
            return real_sql(model, plans, pending)

        with patch.object(AccountMoveLine, "_membook_reconcile_sql", spy_sql):
            record = self._import(
                self._ktl(
                    self._payment("B1", self._ref(self.member_a), "60.00"),
                    self._payment("B2", self._ref(self.member_b), "60.00"),
                )
            )
        self.assertEqual(set(record.payment_ids.mapped("state")), {"matched"})
        self.assertEqual(
            [payment.id for payment, _credit, _debits in fast],
            record.payment_ids.filtered(lambda p: p.archive_id == "B2").ids,
        )
        self.assertEqual(invoice.payment_state, "blocked")
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(self.invoices[self.member_b].payment_state, "paid")

    def test_invoice_reconciled_before_takes_odoos_path(self):
        """An instalment invoice paid in part on one day and in full on the next: the second
        payment's item is fresh, but the invoice already has reconciliations (a payment record
        among them would weigh in Odoo's payment state), so Odoo reconciles it."""
        member = self.env["res.partner"].create(
            {"name": "Instalments", "is_member": True, "member_organisation_id": self.club.id}
        )
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": member.id,
                "invoice_date": "2026-01-15",
                "invoice_payment_term_id": self.pay_terms_b.id,
                "invoice_line_ids": [
                    (0, 0, {"product_id": self.fee.id, "price_unit": 60.0, "tax_ids": []})
                ],
            }
        )
        invoice.action_post()
        first = invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
        first = first.sorted("date_maturity")[0]
        AccountMoveLine = type(self.env["account.move.line"])
        real_sql = AccountMoveLine._membook_reconcile_sql
        fast = []

        def spy_sql(model, plans, pending):
            fast.extend(payment.id for payment, _credit, _debits in plans)
            return real_sql(model, plans, pending)

        with patch.object(AccountMoveLine, "_membook_reconcile_sql", spy_sql):
            day1 = self._import(
                self._ktl(self._payment("I1", invoice.payment_reference, f"{first.balance:.2f}")),
                name="day1.svm",
            )
            self.assertEqual(fast, day1.payment_ids.ids)
            self.assertEqual(invoice.payment_state, "partial")
            day2 = self._import(
                self._ktl(
                    self._payment("I2", invoice.payment_reference, f"{invoice.amount_residual:.2f}")
                ),
                name="day2.svm",
            )
        self.assertEqual(day2.payment_ids.state, "matched")
        self.assertNotIn(day2.payment_ids.id, fast)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_unreferenced_and_unknown_go_to_queue_and_can_be_assigned(self):
        self._check_queue_and_assign()

    def test_queue_on_unidentified_payments_account(self):
        """With an unidentified payments account, the day's payments for the queue share one
        statement line, each with its own item on that account; assigning one moves its item
        to the receivable, and a correction settles the other's item."""
        account = self.env["account.account"].create(
            {
                "name": "Unidentified payments",
                "code": "289900",
                "account_type": "liability_current",
                "reconcile": True,
            }
        )
        with self.assertRaises(ValidationError):
            self.bank_journal.membook_unidentified_account_id = self.bank_journal.default_account_id
        self.bank_journal.membook_unidentified_account_id = account
        queue = self._check_queue_and_assign()
        self.assertEqual(len(queue.statement_line_id), 1)
        entry = queue.statement_line_id.move_id
        self.assertEqual(entry.state, "posted")
        self.assertFalse(
            entry.line_ids.filtered(
                lambda line: line.account_id == self.bank_journal.suspense_account_id
            )
        )
        self.assertTrue(queue.statement_line_id.is_reconciled)
        nobody, swapped = queue.sorted("archive_id")
        self.assertEqual(nobody.counterpart_line_id.account_id, account)
        self.assertEqual(nobody.counterpart_line_id.name, "NOBODY")
        self.assertEqual(nobody.counterpart_line_id.amount_residual, -60.0)
        self.assertEqual(swapped.counterpart_line_id.account_id.account_type, "asset_receivable")
        self.assertEqual(swapped.counterpart_line_id.partner_id, self.member_b)
        self.assertTrue(swapped.counterpart_line_id.reconciled)
        # The bank takes the unidentified payment back: its item is settled, nothing is paid.
        record = self._import(
            b"".join(
                write_camt054(
                    IBAN,
                    [
                        self._payment(
                            "U1", "", "60.00", name="NOBODY", account=IBAN, correction=True
                        )
                    ],
                )
            ),
            "return.xml",
        )
        self.assertEqual(record.payment_ids.state, "reversal")
        self.assertEqual(nobody.state, "reversed")
        self.assertTrue(nobody.counterpart_line_id.reconciled)
        self.assertEqual(nobody.counterpart_line_id.account_id, account)

    def _check_queue_and_assign(self):
        ref_b = self._ref(self.member_b)
        typo = ref_b[:-3] + ref_b[-2] + ref_b[-3] + ref_b[-1]  # two digits swapped
        # KTL carries referenced payments only: unreferenced ones come in camt.054.
        payments = [
            self._payment("U1", "", "60.00", name="NOBODY", account=IBAN),
            self._payment("U2", typo, "60.00", name="BERTIL M", account=IBAN),
        ]
        record = self._import(b"".join(write_camt054(IBAN, payments)), "notification.xml")
        kinds = dict(
            zip(
                record.payment_ids.mapped("archive_id"),
                record.payment_ids.mapped("match_kind"),
                strict=True,
            )
        )
        self.assertEqual(kinds["U1"], "unreferenced")
        self.assertIn(kinds["U2"], ("unknown_reference", "invalid_reference"))
        queue = self.env["membook.bank.payment"].search([("state", "=", "to_check")])
        self.assertEqual(set(queue.mapped("archive_id")), {"U1", "U2"})
        swapped = queue.filtered(lambda p: p.archive_id == "U2")
        suggestions = swapped._suggestions()
        self.assertEqual(suggestions[0][0], self.invoices[self.member_b])
        self.assertIn("typo", suggestions[0][2])
        wizard = (
            self.env["membook.payment.assign"]
            .with_context(default_bank_payment_id=swapped.id)
            .create({})
        )
        self.assertEqual(wizard.invoice_ids, self.invoices[self.member_b], "top suggestion preset")
        wizard.action_assign()
        self.assertEqual(swapped.state, "assigned")
        self.assertEqual(swapped.assigned_by_id, self.env.user)
        self.assertTrue(swapped.assigned_at)
        self.assertIn(self.invoices[self.member_b].payment_state, ("paid", "in_payment"))
        self.assertEqual(sum(self._allocations(self.invoices[self.member_b]).values()), 60.0)
        with self.assertRaises(UserError):
            swapped._assign(self.invoices[self.member_other])
        return queue

    def test_killed_batch_resumes_without_loss_or_duplicates(self):
        self.env["ir.config_parameter"].set_param("membook.bank_batch_size", 1)
        data = self._ktl(
            self._payment("K1", self._ref(self.member_a), "60.00"),
            self._payment("K2", self._ref(self.member_b), "60.00"),
            self._payment("K3", self._ref(self.member_other), "60.00"),
        )
        self.env["membook.bank.file"]._import_file(self.bank_journal, "k.svm", data)
        original = MembookBankPaymentMatching._process

        def crash_at_k2(payments):
            if "K2" in payments.mapped("archive_id"):
                raise RuntimeError("worker killed")
            return original(payments)

        cron = self.env.ref("membook_membership.ir_cron_membook_bank_process")
        with (
            patch.object(MembookBankPaymentMatching, "_process", crash_at_k2),
            mute_logger("odoo.addons.base.models.ir_cron"),
            self.enter_registry_test_mode(),
        ):
            cron.method_direct_trigger()
        states = dict(
            self.env["membook.bank.payment"]
            .search([("archive_id", "in", ("K1", "K2", "K3"))])
            .mapped(lambda p: (p.archive_id, p.state))
        )
        self.assertEqual(states, {"K1": "matched", "K2": "new", "K3": "new"})
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        payments = self.env["membook.bank.payment"].search(
            [("archive_id", "in", ("K1", "K2", "K3"))]
        )
        self.assertEqual(set(payments.mapped("state")), {"matched"})
        self.assertEqual(
            len(payments.statement_line_id), 3, "one statement line per batch, no more"
        )
        for member in (self.member_a, self.member_b, self.member_other):
            self.assertIn(self.invoices[member].payment_state, ("paid", "in_payment"))

    def test_batch_in_conflict_is_taken_again(self):
        """A batch a concurrent transaction conflicts with (two copies of the scheduled action
        paying the same invoice) fails in PostgreSQL with a serialization failure; one test
        transaction cannot produce that, so it is raised here after the batch did its work.
        The batch is rolled back and taken again: nothing is lost or booked twice. A batch
        that keeps conflicting fails the run, leaving its payments to the next one."""
        from psycopg2.errors import SerializationFailure

        from ..models import membook_bank_payment as module

        self.env["ir.config_parameter"].set_param("membook.bank_batch_size", 1)
        data = self._ktl(
            self._payment("C1", self._ref(self.member_a), "60.00"),
            self._payment("C2", self._ref(self.member_b), "60.00"),
        )
        self.env["membook.bank.file"]._import_file(self.bank_journal, "c.svm", data)
        original = MembookBankPaymentMatching._process
        calls = []

        def conflict(payments, times):
            calls.append(payments.archive_id)
            result = original(payments)
            if calls.count(payments.archive_id) <= times.get(payments.archive_id, 0):
                raise SerializationFailure("could not serialize access due to concurrent update")
            return result

        cron = self.env.ref("membook_membership.ir_cron_membook_bank_process")
        with (
            patch.object(
                MembookBankPaymentMatching, "_process", lambda p: conflict(p, {"C1": 1, "C2": 2})
            ),
            self.enter_registry_test_mode(),
        ):
            cron.method_direct_trigger()
        self.assertEqual(calls, ["C1", "C1", "C2", "C2", "C2"])
        payments = self.env["membook.bank.payment"].search([("archive_id", "in", ("C1", "C2"))])
        self.assertEqual(set(payments.mapped("state")), {"matched"})
        self.assertEqual(len(payments.statement_line_id), 2, "one statement line per batch")
        for member in (self.member_a, self.member_b):
            invoice = self.invoices[member]
            self.assertEqual(invoice.payment_state, "paid")
            self.assertEqual(len(invoice.line_ids.matched_credit_ids), 1, "reconciled once")
        self.assertEqual(
            len(self.env["membook.allocation"].search([("bank_payment_id", "in", payments.ids)])),
            6,
            "three organisations per payment, once",
        )

        calls.clear()
        data = self._ktl(self._payment("C3", self._ref(self.member_other), "60.00"))
        self.env["membook.bank.file"]._import_file(self.bank_journal, "c3.svm", data)
        with (
            patch.object(MembookBankPaymentMatching, "_process", lambda p: conflict(p, {"C3": 99})),
            mute_logger("odoo.addons.base.models.ir_cron"),
            self.enter_registry_test_mode(),
        ):
            cron.method_direct_trigger()
        self.assertEqual(calls, ["C3"] * (module.MAX_BATCH_CONFLICTS + 1))
        third = self.env["membook.bank.payment"].search([("archive_id", "=", "C3")])
        self.assertEqual(
            (third.state, third.statement_line_id), ("new", self.env["account.bank.statement.line"])
        )
        self.assertEqual(self.invoices[self.member_other].payment_state, "not_paid")

    def test_folder_import_moves_files(self):
        with (
            tempfile.TemporaryDirectory() as root,
            patch.dict(config.options, {"membook_bank_folder_root": root}),
        ):
            folder = os.path.join(root, "nordea")
            os.mkdir(folder)
            self.bank_journal.membook_import_folder = folder
            with open(os.path.join(folder, "good.svm"), "wb") as handle:
                handle.write(self._ktl(self._payment("F1", self._ref(self.member_a), "60.00")))
            with open(os.path.join(folder, "bad.txt"), "wb") as handle:
                handle.write(b"not a bank file")
            with self.enter_registry_test_mode():
                self.env.ref(
                    "membook_membership.ir_cron_membook_bank_folder"
                ).method_direct_trigger()
            self.assertEqual(sorted(os.listdir(os.path.join(folder, "processed"))), ["good.svm"])
            self.assertEqual(sorted(os.listdir(os.path.join(folder, "failed"))), ["bad.txt"])
            self.assertTrue(self.env["membook.bank.file"].search([("name", "=", "good.svm")]))

    # -- the SQL fast paths ----------------------------------------------
    def _assert_exact_over_partial_booked(self, payments):
        self.assertEqual(set(payments.mapped("state")), {"matched"})
        for member in (self.member_a, self.member_b):  # exact, and over the invoice
            self.assertIn(self.invoices[member].payment_state, ("paid", "in_payment"))
        self.assertEqual(self.invoices[self.member_other].payment_state, "partial")
        self.assertEqual(self.invoices[self.member_other].amount_residual, 30.0)
        # One item per payer, each the payer's: nothing of an undone fast path is left.
        entries = payments.statement_line_id.move_id
        receivable = payments.counterpart_line_id.account_id
        items = entries.line_ids.filtered(lambda line: line.account_id == receivable)
        self.assertEqual(items, payments.counterpart_line_id)
        self.assertEqual(items.mapped("partner_id"), payments.mapped("partner_id"))
        self.assertEqual(sum(items.mapped("credit")), 165.0)
        self.assertEqual(
            self._allocations(self.invoices[self.member_a]),
            {"Tampere Ski Club": 25.0, "Pirkanmaa District": 10.0, "Finnish Ski Federation": 25.0},
        )

    def test_fast_paths_write_the_orms_timestamps(self):
        """What the SQL fast paths write bears the time the ORM writes in the same transaction
        (``cr.now()``), not the database's clock: the payments, the copied and reconciled
        items, the invoices and the reconciliations of a bank day."""
        moment = dt.datetime(2026, 2, 3, 10, 0, 0)  # the cron's transaction's time, frozen
        with freeze_time(moment):
            payments = self._import_exact_over_partial("NOW")
        self.assertFalse(any(payments.mapped("fast_path_note")), "booked by the fast paths")
        self.env.invalidate_all()
        invoices = self.env["account.move"].browse([i.id for i in self.invoices.values()])
        receivables = invoices.line_ids.filtered(lambda line: line.display_type == "payment_term")
        partials = receivables.matched_credit_ids
        self.assertEqual(len(partials), 3)
        written = {
            "statement lines (the ORM's)": payments.statement_line_id.mapped("create_date"),
            "payments": payments.mapped("write_date"),
            "payers' items": payments.counterpart_line_id.mapped("write_date"),
            "invoices' items": receivables.mapped("write_date"),
            "invoices": invoices.mapped("write_date"),
            "partials": partials.mapped("create_date") + partials.mapped("write_date"),
            "full reconciles": receivables.full_reconcile_id.mapped("create_date"),
        }
        self.assertEqual(
            {name: set(dates) for name, dates in written.items()},
            {name: {moment} for name in written},
        )

    def test_item_copy_guard_knows_the_registry(self):
        Payment = self.env["membook.bank.payment"]
        self.assertIsNone(Payment._membook_item_copy_blocker())
        # A stored field the copy does not know, depending on what it changes, stops it.
        dependents = stored_dependents(
            self.env,
            "account.move.line",
            ["partner_id", "name", "balance", "amount_currency", "debit", "credit"],
        )
        some = sorted(dependents & ITEM_COPY_KNOWN_DEPENDENTS)[0]
        known = ITEM_COPY_KNOWN_DEPENDENTS - {some}
        with patch.object(booking_module, "ITEM_COPY_KNOWN_DEPENDENTS", known):
            self.assertIn(some, Payment._membook_item_copy_blocker())
        with patch.object(
            booking_module,
            "ITEM_COPY_KNOWN_OVERRIDES",
            {("account.move.line", "create"): {"account", "analytic"}},
        ):
            self.assertIn("membership overrides", Payment._membook_item_copy_blocker())

    def test_switched_off_odoo_books_and_reconciles_the_bank_day(self):
        self.env["ir.config_parameter"].sudo().set_param("membook_membership.sql_fast_paths", "off")
        AccountMoveLine = type(self.env["account.move.line"])
        with (
            patch.object(MembookBankPaymentBooking, "_copy_item") as copy_item,
            patch.object(AccountMoveLine, "_membook_reconcile_sql") as reconcile_sql,
            patch.object(bank_payment_module._logger, "info") as info,
        ):
            payments = self._import_exact_over_partial("OFF")
        copy_item.assert_not_called()
        reconcile_sql.assert_not_called()
        self._assert_exact_over_partial_booked(payments)
        self.assertIn("sql_fast_paths", payments.file_id.fast_path_note)
        logged = [str(call.args[-1]) for call in info.call_args_list]
        self.assertTrue(any("sql_fast_paths turns" in m for m in logged), logged)

    def test_failing_fast_path_is_undone_and_odoo_books_the_batch(self):
        real_copy = MembookBankPaymentBooking._copy_item
        calls = []

        def copy_then_fail(model, template, rows):
            calls.append(real_copy(model, template, rows))  # items written, then the failure
            raise psycopg2.errors.DataError("forced failure of the item copy")

        with (
            patch.object(MembookBankPaymentBooking, "_copy_item", copy_then_fail),
            patch.object(bank_payment_module._logger, "warning") as warning,
        ):
            payments = self._import_exact_over_partial("FAIL")
        self.assertTrue(calls, "the copy ran and wrote before failing")
        self.assertIn("forced failure", str(warning.call_args.args[-1]))
        self._assert_exact_over_partial_booked(payments)
        self.assertIn("forced failure", payments.file_id.fast_path_note)

    # -- settlements ----------------------------------------------------
    def test_three_level_split_settled_and_paid_out(self):
        for organisation, iban in (
            (self.federation, "FI2112345600000785"),
            (self.district, "FI5810171000000122"),
            (self.club, "FI4950009420028730"),
        ):
            organisation.settlement_bank_id = self.env["res.partner.bank"].create(
                {"acc_number": iban, "partner_id": organisation.partner_id.id}
            )
        nordea = self.env["res.bank"].create({"name": "Nordea", "bic": "NDEAFIHH"})
        self.bank_journal.bank_account_id = self.env["res.partner.bank"].create(
            {
                "acc_number": "FI1410093000123458",
                "partner_id": self.env.company.partner_id.id,
                "bank_id": nordea.id,
            }
        )
        self._import(
            self._ktl(
                self._payment("S1", self._ref(self.member_a), "60.00"),
                self._payment("S2", self._ref(self.member_other), "60.00"),
            )
        )
        monday = dt.date(2026, 2, 2)
        self.env.company.membook_settlement_weekday = str(monday.weekday())
        Settlement = self.env["membook.settlement"]
        self._run_weekly(monday)
        settlements = Settlement.search([])
        totals = {s.organisation_id.name: s.amount_total for s in settlements}
        # Member A (club): 25/10/25; the district member: club share goes to the district.
        self.assertEqual(
            totals,
            {"Tampere Ski Club": 25.0, "Pirkanmaa District": 45.0, "Finnish Ski Federation": 50.0},
        )
        # Running again settles nothing twice.
        self._run_weekly(monday)
        self.assertEqual(len(Settlement.search([])), 3)
        settlements.action_confirm()
        action = settlements.action_create_payout()
        payout = self.env["membook.payout"].browse(action["domain"][0][2])
        self.assertEqual(payout.state, "generated")
        xml = payout.attachment_id.raw
        self._validate_pain001(xml)
        root = etree.fromstring(xml)
        self.assertEqual(etree.QName(root).namespace.rsplit(":", 1)[1], "pain.001.001.09")
        # A bank that still takes only the old version: chosen on the journal.
        self.bank_journal.membook_pain001_version = "pain.001.001.03"
        payout.action_generate()
        old = etree.fromstring(payout.attachment_id.raw)
        self.assertEqual(etree.QName(old).namespace.rsplit(":", 1)[1], "pain.001.001.03")
        self._validate_pain001(payout.attachment_id.raw)
        ns = {"p": root.nsmap[None]}
        self.assertEqual(root.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=ns), "3")
        self.assertEqual(root.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns), "120.00")
        refs = root.findall(".//p:CdtrRefInf", namespaces=ns)
        self.assertEqual(len(refs), 3)
        for ref in refs:
            self.assertEqual(ref.findtext("p:Tp/p:CdOrPrtry/p:Cd", namespaces=ns), "SCOR")
            self.assertIsNone(ref.find("p:Tp/p:Issr", namespaces=ns))
        # The payouts appear on the next statement: the settlements are paid.
        outgoing = [
            Outgoing(
                account="FI1410093000123458",
                archive_id=f"OUT-{s.id}",
                reference=s.reference,
                end_to_end_id=s.name,
                creditor_name=s.organisation_id.name,
                amount=Decimal(str(s.amount_total)).quantize(Decimal("0.01")),
                currency="EUR",
                booking_date=dt.date(2026, 2, 4),
                source_format="camt.054",
                source_line="",
            )
            for s in settlements
        ]
        camt = b"".join(write_camt054("FI1410093000123458", [], outgoing=outgoing))
        record = self.env["membook.bank.file"]._import_file(self.bank_journal, "camt.xml", camt)
        self.assertEqual(record.payout_count, 3)
        self.assertEqual(set(settlements.mapped("state")), {"paid"})
        self.assertEqual(set(settlements.mapped("paid_date")), {dt.date(2026, 2, 4)})
        self.assertEqual(payout.state, "paid")

    def _validate_pain001(self, xml):
        # The official XSD ships with sepaxml, a test requirement (requirements-odoo.txt).
        import sepaxml

        version = etree.QName(etree.fromstring(xml)).namespace.rsplit(":", 1)[1]
        xsd = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", f"{version}.xsd")
        schema = etree.XMLSchema(etree.parse(xsd))
        schema.assertValid(etree.fromstring(xml))

    def test_settlements_switched_off(self):
        self._import(self._ktl(self._payment("W1", self._ref(self.member_a), "60.00")))
        self.env.company.membook_settlement_enabled = False
        self.env.company.membook_settlement_weekday = "0"
        self._run_weekly(dt.date(2026, 2, 2))
        self.assertFalse(self.env["membook.settlement"].search([]))
        self.assertEqual(len(self.env["membook.allocation"].search([])), 3, "still allocated")

    def test_settlement_report_renders(self):
        self._import(self._ktl(self._payment("P9", self._ref(self.member_a), "60.00")))
        settlement = self.env["membook.settlement"]._settle(
            self.env.company, self.club, dt.date(2026, 2, 2)
        )
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "membook_membership.report_settlement", settlement.ids
        )
        html = html.decode()
        self.assertIn(settlement.name, html)
        self.assertIn(self.fee.name, html)
        self.assertIn(settlement.reference, html)
        # The payments it pays for: member and invoice of each.
        self.assertIn(self.member_a.name, html)
        self.assertIn(self.invoices[self.member_a].name, html)
