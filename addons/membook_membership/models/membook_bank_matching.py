# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The bank day's matching engine.

A batch of staged payments of one journal is matched with the core matcher
(:mod:`nordic_billing.matching`) against the open items carrying their references, locked until
the batch commits; the decisions are handed to the booking engine (``membook_bank_booking.py``)
and recorded on the payments in two statements per batch.
"""

from odoo import models
from odoo.tools import SQL

from nordic_billing import matching
from nordic_billing.money import to_decimal

from .batching import VALUES_ROWS, execute_values

MATCHED_KINDS = {"exact", "partial", "overpayment"}


class MembookBankPaymentMatching(models.Model):
    _inherit = "membook.bank.payment"

    def _open_items(self, keys):
        """Open receivable lines of posted customer invoices carrying one of ``keys``, locked
        with their invoices until the batch commits."""
        if not keys:
            return self.env["account.move.line"]
        domain = [
            ("company_id", "=", self.journal_id.company_id.id),
            ("move_id.membook_reference_key", "in", list(keys)),
            ("move_id.move_type", "=", "out_invoice"),
            ("parent_state", "=", "posted"),
            ("account_id.account_type", "=", "asset_receivable"),
            ("reconciled", "=", False),
            ("amount_residual", ">", 0),
        ]
        items = self.env["account.move.line"].search(domain, order="date_maturity, id")
        if not items:
            return items
        # Another copy of the scheduled action, or a person, may be paying one of these
        # invoices right now (a member who paid twice, in two batches). Locking them first
        # makes this batch wait for that to commit; then, as Odoo's transactions keep the
        # snapshot they started with, PostgreSQL refuses the lock (a serialization failure)
        # and _cron_process runs the batch again on fresh data, before any work is done on
        # what it read. In id order: batches never wait on each other in a circle.
        # (Not logged as a failed query: the conflict is expected, and handled.)
        self.env.cr.execute(
            SQL(
                """
            SELECT move.id FROM account_move move
             WHERE move.id IN (SELECT move_id FROM account_move_line WHERE id = ANY(%s))
             ORDER BY move.id FOR NO KEY UPDATE
            """,
                items.ids,
            ),
            log_exceptions=False,
        )
        self.env.cr.execute(
            SQL(
                "SELECT id FROM account_move_line WHERE id = ANY(%s) ORDER BY id"
                " FOR NO KEY UPDATE",
                items.ids,
            ),
            log_exceptions=False,
        )
        return items

    def _open_item_facts(self, items):
        """What matching and booking read of the open items ``items``, in one query (the ORM
        reads them field by field): {item id: row}."""
        if not items:
            return {}
        items.flush_recordset(
            ["move_id", "account_id", "amount_residual", "partner_id", "date_maturity", "date"]
        )
        items.move_id.flush_recordset(["payment_reference", "invoice_date", "name"])
        rows = self.env.execute_query_dict(
            SQL(
                """
            SELECT line.id, line.move_id, line.account_id, line.amount_residual,
                   line.partner_id, partner.commercial_partner_id,
                   COALESCE(line.date_maturity, line.date) AS due_date,
                   move.payment_reference, move.invoice_date, move.name AS move_name
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
              LEFT JOIN res_partner partner ON partner.id = line.partner_id
             WHERE line.id = ANY(%s)
            """,
                items.ids,
            )
        )
        return {row["id"]: row for row in rows}

    def _known_payments(self):
        """Earlier payments of the journal a correction in this batch may reverse."""
        corrections = self.filtered("is_correction")
        if not corrections:
            return self.browse()
        return self.search(
            [
                ("journal_id", "=", self.journal_id.id),
                ("state", "!=", "new"),
                ("is_correction", "=", False),
                "|",
                ("archive_id", "in", [a for a in corrections.mapped("archive_id") if a]),
                ("reference_key", "in", [k for k in corrections.mapped("reference_key") if k]),
            ]
        )

    def _process(self):
        """Match these staged payments of one journal, book them and reconcile the matches."""
        journal = self.journal_id
        keys = {key for key in self.mapped("reference_key") if key}
        items = self._open_items(keys)
        facts = self._open_item_facts(items)
        known = self._known_payments()
        by_line = {str(payment.id): payment for payment in self}
        decisions = matching.match_payments(
            [payment._as_core_payment(journal.company_id.currency_id.name) for payment in self],
            [
                matching.OpenItem(
                    item_id=row["id"],
                    reference=row["payment_reference"] or "",
                    open_amount=to_decimal(row["amount_residual"]),
                    partner_id=row["partner_id"],
                    due_date=row["due_date"],
                    invoice_date=row["invoice_date"],
                    label=row["move_name"] or "",
                )
                for row in (facts[line_id] for line_id in items.ids)
            ],
            known_payments=[
                matching.KnownPayment(
                    account=old.account or "",
                    archive_id=old.archive_id or "",
                    reference=old.reference or "",
                    amount=to_decimal(old.amount),
                    reversed=bool(old.reversed_by_id),
                    payment_date=old.payment_date,
                )
                for old in known
            ],
            reference_kinds=journal._membook_reference_kinds(),
        )
        lines_by_id = {line.id: line for line in items}  # one prefetch set for all reads
        plans = []
        for decision in decisions:
            payment = by_line[decision.payment.source_line]
            item_lines = [lines_by_id[alloc.item_id] for alloc in decision.allocations]
            plans.append((payment, decision, item_lines))
        matched = [plan for plan in plans if plan[1].kind.value in MATCHED_KINDS]
        others = [plan for plan in plans if plan[1].kind.value not in MATCHED_KINDS]
        payer = {
            payment: (
                facts[item_lines[0].id]["account_id"],
                facts[item_lines[0].id]["commercial_partner_id"],
            )
            for payment, _decision, item_lines in matched
        }
        # Payments for the queue go with the day's payments on the unidentified payments
        # account when the journal has one; corrections keep a statement line of their own.
        unidentified = journal.membook_unidentified_account_id
        queued = [
            plan
            for plan in others
            if unidentified
            and not plan[0].is_correction
            and plan[1].kind != matching.MatchKind.REVERSAL
        ]
        for payment, decision, _lines in queued:
            payer[payment] = (unidentified.id, decision.partner_id or None)
        # The invoices' side of the reconciliation, before booking too; the payments' items
        # are then booked reconciled.
        AccountMoveLine = self.env["account.move.line"]
        currency = journal.currency_id or journal.company_id.currency_id
        pending, slow = AccountMoveLine._membook_reconcile_invoices(
            [
                (
                    payment,
                    {
                        "account_id": payer[payment][0],
                        "partner_id": payer[payment][1],
                        "company_id": journal.company_id.id,
                        "currency_id": currency.id,
                        "date": payment.booking_date or payment.payment_date,
                        "amount": payment._membook_paid_amount(),
                    },
                    AccountMoveLine.browse([line.id for line in item_lines]),
                )
                for payment, _decision, item_lines in matched
            ]
        )
        booked = self._book_matched(
            journal,
            [(payment, *payer[payment]) for payment, *_rest in matched + queued],
            pending["credits"],
        )
        singles = self._book_singly(journal, [plan for plan in others if plan not in queued])
        updates, links = [], []

        def reason(payment, decision):
            note = payment._membook_charges_note()
            return f"{decision.reason} {note}".strip() if note else decision.reason

        for payment, decision, item_lines in matched:
            line_id, st_line_id = booked[payment]
            updates.append(
                (
                    payment.id,
                    "matched",
                    decision.kind.value,
                    reason(payment, decision),
                    float(decision.unapplied),
                    payer[payment][1],
                    st_line_id,
                    line_id,
                )
            )
            links += [
                (payment.id, move_id)
                for move_id in {facts[line.id]["move_id"] for line in item_lines}
            ]
        for payment, decision, _item_lines in others:
            line_id, st_line_id = booked.get(payment) or (None, singles[payment].id)
            updates.append(
                (
                    payment.id,
                    "reversal" if decision.kind == matching.MatchKind.REVERSAL else "to_check",
                    decision.kind.value,
                    reason(payment, decision),
                    float(decision.unapplied),
                    decision.partner_id or None,
                    st_line_id,
                    line_id,
                )
            )
        self._record_outcomes(updates, links)
        AccountMoveLine._membook_reconcile_credits(
            pending, {payment: booked[payment][0] for payment in pending["credits"]}
        )
        slow = set(slow)
        AccountMoveLine._membook_reconcile_with_odoo(
            [
                (
                    AccountMoveLine.browse(booked[payment][0]),
                    AccountMoveLine.browse([line.id for line in item_lines]),
                )
                for payment, _decision, item_lines in matched
                if payment in slow
            ]
        )
        for payment, decision, _lines in others:
            if decision.kind == matching.MatchKind.REVERSAL:
                payment._reverse_original(decision.reverses)
        self.filtered(lambda payment: payment.state == "to_check")._membook_place_unmatched()

    def _membook_place_unmatched(self):
        """Hook for payments of one journal that matched no invoice: they are booked and wait
        in the unmatched queue (``to_check``). An extension that recognises one of them (the
        payout of a payment service, say) books it and takes it out of the queue. Nothing here.
        """
        return True

    def _record_outcomes(self, updates, links):
        """Write what processing decided on each payment, in two statements for the batch.

        ``updates``: (payment id, state, match kind, reason, unapplied, partner id, statement
        line id, counterpart item id); ``links``: (payment id, invoice id) pairs. The ORM would
        write them one payment at a time; nothing stored depends on these fields.
        """
        self.flush_recordset()
        cr = self.env.cr
        # Written as the ORM writes them: by this user, at the transaction's time.
        execute_values(
            cr,
            SQL(
                """
            UPDATE membook_bank_payment p
               SET state = v.state, match_kind = v.kind, match_reason = v.reason,
                   unapplied_amount = v.unapplied::numeric, partner_id = v.partner::int,
                   statement_line_id = v.st_line::int, counterpart_line_id = v.item::int,
                   write_uid = %s, write_date = %s
              FROM (VALUES %s) AS v(id, state, kind, reason, unapplied, partner, st_line, item)
             WHERE p.id = v.id
            """,
                self.env.uid,
                cr.now(),
                VALUES_ROWS,
            ),
            updates,
        )
        field = self._fields["invoice_ids"]
        execute_values(
            cr,
            SQL(
                "INSERT INTO %s (%s, %s) VALUES %s ON CONFLICT DO NOTHING",
                SQL.identifier(field.relation),
                SQL.identifier(field.column1),
                SQL.identifier(field.column2),
                VALUES_ROWS,
            ),
            links,
        )
        self.invalidate_recordset()
