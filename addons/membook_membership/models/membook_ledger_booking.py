# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

CENT = Decimal("0.01")


def _money(value):
    return Decimal(str(value or 0)).quantize(CENT)


class MembookLedgerBooking(models.AbstractModel):
    """The general ledger follows the fee splits and the allocation ledger (see CONFIGURE).

    - Shares billed: the other organisations' shares of posted fee invoices move from the fee
      income account to the *shares billed for organisations* (transit) account; a credit note
      or an invoice reset to draft moves them back.
    - Allocations: what the ledger allocates to an organisation moves from the transit account
      to the *due to organisations* liability, with the organisation as partner (a negative
      allocation moves it back).

    Both are booked in batches, one entry per company and kind, from what is not booked yet:
    by the daily scheduled action, before every settlement and by the books check. The rows
    booked point to their entry, so nothing is booked twice and each amount is traceable.
    """

    _name = "membook.ledger.booking"
    _description = "Booking of fee shares and allocations"

    @api.model
    def _ready(self, company):
        return bool(
            company.membook_transit_account_id
            and company.membook_due_account_id
            and company.membook_ledger_journal_id
        )

    @api.model
    def _book_all(self, companies=None):
        """Book what is not booked yet for ``companies`` (default: every company set up)."""
        companies = companies or self.env["res.company"].search([])
        for company in companies.filtered(self._ready):
            self._book_shares(company)
            self._book_allocations(company)

    @api.model
    def _cron_book(self):
        self._book_all()
        self.env["ir.cron"]._commit_progress(1)

    @api.model
    def _entry(self, company, ref, lines):
        """Post one entry of ``lines`` ((account id, partner id or None, label, Decimal
        amount: positive debit, negative credit)), zero lines left out; None when empty."""
        vals = []
        for account_id, partner_id, label, amount in lines:
            if not amount:
                continue
            vals.append(
                {
                    "account_id": account_id,
                    "partner_id": partner_id,
                    "name": label,
                    "debit": float(amount) if amount > 0 else 0.0,
                    "credit": float(-amount) if amount < 0 else 0.0,
                }
            )
        if not vals:
            return self.env["account.move"]
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": company.membook_ledger_journal_id.id,
                    "company_id": company.id,
                    "date": fields.Date.context_today(self),
                    "ref": ref,
                    "line_ids": [(0, 0, line) for line in vals],
                }
            )
        )
        move.action_post()
        return move

    @api.model
    def _book_shares(self, company, moves=None):
        """Move the organisations' shares of posted fee documents to the transit account, and
        back for the ones no longer posted (``moves``: only those)."""
        self.env.flush_all()
        only = SQL(" AND split.move_id = ANY(%s)", moves.ids) if moves else SQL()
        rows = self.env.execute_query(
            SQL(
                """
            SELECT split.id, split.amount, line.account_id, move.move_type,
                   split.shares_move_id IS NOT NULL AS booked
              FROM membook_fee_split split
              JOIN account_move_line line ON line.id = split.move_line_id
              JOIN account_move move ON move.id = split.move_id
             WHERE split.company_id = %s AND split.organisation_id IS NOT NULL
               AND move.move_type IN ('out_invoice', 'out_refund')
               AND ((split.shares_move_id IS NULL AND move.state = 'posted')
                    OR (split.shares_move_id IS NOT NULL AND move.state != 'posted'))
               %s
             ORDER BY split.id
            """,
                company.id,
                only,
            )
        )
        if not rows:
            return
        by_account, book_ids, unbook_ids = {}, [], []
        for split_id, amount, account_id, move_type, booked in rows:
            # An invoice credits its income: the shares are taken off it (a debit); a credit
            # note, or undoing a booked invoice, gives them back.
            sign = (1 if move_type == "out_invoice" else -1) * (-1 if booked else 1)
            by_account[account_id] = by_account.get(account_id, 0) + sign * _money(amount)
            (unbook_ids if booked else book_ids).append(split_id)
        label = self.env._("Shares billed for organisations")
        transit = company.membook_transit_account_id.id
        move = self._entry(
            company,
            label,
            [(account_id, None, label, amount) for account_id, amount in by_account.items()]
            + [(transit, None, label, -sum(by_account.values()))],
        )
        cr = self.env.cr
        if book_ids:
            cr.execute(
                SQL(
                    "UPDATE membook_fee_split SET shares_move_id = %s WHERE id = ANY(%s)",
                    move.id or None,
                    book_ids,
                )
            )
        if unbook_ids:
            cr.execute(
                SQL(
                    "UPDATE membook_fee_split SET shares_move_id = NULL WHERE id = ANY(%s)",
                    unbook_ids,
                )
            )
        self.env["membook.fee.split"].invalidate_model(["shares_move_id"])

    @api.model
    def _book_allocations(self, company):
        """Move what the ledger allocated to organisations and is not booked yet from the
        transit account to what is due to each organisation: one item per organisation,
        totalled by the database, then one statement marks the rows booked."""
        self.env.flush_all()
        # The transaction reads one snapshot: the rows totalled are the rows marked below.
        unbooked = SQL(
            "alloc.company_id = %s AND alloc.ledger_move_id IS NULL"
            " AND alloc.organisation_id IS NOT NULL",
            company.id,
        )
        rows = self.env.execute_query(
            SQL(
                """
            SELECT org.partner_id, SUM(alloc.amount)
              FROM membook_allocation alloc
              JOIN membook_organisation org ON org.id = alloc.organisation_id
             WHERE %s
          GROUP BY org.partner_id
          ORDER BY MIN(alloc.id)
            """,
                unbooked,
            )
        )
        if not rows:
            return
        by_partner = {partner_id: _money(amount) for partner_id, amount in rows}
        label = self.env._("Fees paid, due to organisations")
        due = company.membook_due_account_id.id
        move = self._entry(
            company,
            label,
            [(due, partner_id, label, -amount) for partner_id, amount in by_partner.items()]
            + [(company.membook_transit_account_id.id, None, label, sum(by_partner.values()))],
        )
        self.env.cr.execute(
            SQL(
                "UPDATE membook_allocation alloc SET ledger_move_id = %s WHERE %s",
                move.id or None,
                unbooked,
            )
        )
        self.env["membook.allocation"].invalidate_model(["ledger_move_id"])

    # ------------------------------------------------------------------
    # The books check
    # ------------------------------------------------------------------
    @api.model
    def _check(self, company):
        """Per organisation: (what it is owed by the ledger, the balance of the due account
        for its partner), both Decimal; owed = allocations not in a payout yet, less the
        service fees of its settlements not paid out yet."""
        if not self._ready(company):
            raise UserError(
                self.env._(
                    "Choose the transit and due-to-organisations accounts and the ledger "
                    "journal of %s first.",
                    company.name,
                )
            )
        self._book_all(company)
        self.env.flush_all()
        owed = {}
        for partner_id, amount in self.env.execute_query(
            SQL(
                """
            SELECT org.partner_id, SUM(alloc.amount)
              FROM membook_allocation alloc
              JOIN membook_organisation org ON org.id = alloc.organisation_id
              LEFT JOIN membook_settlement settlement ON settlement.id = alloc.settlement_id
             WHERE alloc.company_id = %s AND settlement.payout_id IS NULL
             GROUP BY org.partner_id
            """,
                company.id,
            )
        ):
            owed[partner_id] = owed.get(partner_id, 0) + _money(amount)
        for partner_id, fee in self.env.execute_query(
            SQL(
                """
            SELECT org.partner_id, SUM(settlement.service_fee)
              FROM membook_settlement settlement
              JOIN membook_organisation org ON org.id = settlement.organisation_id
             WHERE settlement.company_id = %s AND settlement.state = 'confirmed'
               AND settlement.payout_id IS NULL
             GROUP BY org.partner_id
            """,
                company.id,
            )
        ):
            owed[partner_id] = owed.get(partner_id, 0) - _money(fee)
        balances = {
            partner.id: _money(-balance)
            for partner, balance in self.env["account.move.line"]
            .sudo()
            ._read_group(
                [
                    ("company_id", "=", company.id),
                    ("account_id", "=", company.membook_due_account_id.id),
                    ("parent_state", "=", "posted"),
                ],
                ["partner_id"],
                ["balance:sum"],
            )
        }
        Partner = self.env["res.partner"].sudo()
        return {
            Partner.browse(partner_id): (owed.get(partner_id, Decimal(0)), balances.get(partner_id))
            for partner_id in set(owed) | set(balances)
            if owed.get(partner_id) or balances.get(partner_id)
        }

    @api.model
    def action_check(self):
        """Tell whether the due account matches the ledger for every organisation."""
        company = self.env.company
        result = self._check(company)
        wrong = [
            self.env._(
                "%(organisation)s: owed %(owed)s, booked %(booked)s",
                organisation=partner.display_name,
                owed=owed,
                booked=booked or 0,
            )
            for partner, (owed, booked) in sorted(result.items(), key=lambda i: i[0].id)
            if owed != (booked or 0)
        ]
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Books check"),
                "message": "\n".join(wrong)
                or self.env._(
                    "The due-to-organisations account matches the allocations not paid out "
                    "for all %s organisations.",
                    len(result),
                ),
                "type": "danger" if wrong else "success",
                "sticky": bool(wrong),
            },
        }
