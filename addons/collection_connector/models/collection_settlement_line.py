# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from nordic_billing.collection import SettlementLine
from nordic_billing.collection.sync import remittance_postings

from .collection_backend import _naive_utc
from .collection_case import _money

SETTLEMENT_KINDS = [
    ("principal", "Principal"),
    ("interest", "Interest"),
    ("fees", "Fees"),
    ("costs", "Collection costs"),
    ("other", "Other"),
]


class CollectionSettlementLine(models.Model):
    """One line of an agency remittance, kept once (by the agency's line id) and booked once.

    The lines of one remittance become one journal entry in the agency's settlement journal:
    principal against the invoice's receivable (reconciled), fees against the open
    reminder-fee invoices first, interest, fees, costs and other postings on the agency's
    accounts, and the net amount on the remittance account the bank payment is matched with.
    """

    _name = "collection.settlement.line"
    _description = "Collection agency settlement line"
    _check_company_auto = True
    _order = "date desc, remittance_id, id"

    backend_id = fields.Many2one(
        "collection.backend", string="Agency", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    line_id = fields.Char(required=True, readonly=True)
    remittance_id = fields.Char(required=True, readonly=True, index=True)
    case_number = fields.Char(readonly=True)
    case_id = fields.Many2one("collection.case", index="btree_not_null", check_company=True)
    kind = fields.Selection(SETTLEMENT_KINDS, required=True, readonly=True)
    amount = fields.Monetary(readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    date = fields.Date(required=True, readonly=True)
    agency_created_at = fields.Datetime(string="Recorded by agency", readonly=True)
    move_id = fields.Many2one(
        "account.move", string="Journal entry", readonly=True, index="btree_not_null"
    )
    state = fields.Selection(
        [("new", "To book"), ("booked", "Booked"), ("error", "Error")],
        default="new",
        required=True,
        readonly=True,
        index=True,
    )
    error = fields.Text(readonly=True)

    _line_uniq = models.Constraint(
        "UNIQUE(backend_id, line_id)", "A settlement line of an agency is kept once."
    )

    @api.model
    def _store_lines(self, backend, lines):
        """Keep the lines not seen before; returns the new records."""
        known = set(
            self.search(
                [("backend_id", "=", backend.id), ("line_id", "in", [x.line_id for x in lines])]
            ).mapped("line_id")
        )
        numbers = {x.case_number for x in lines}
        cases = self.env["collection.case"].search(
            [("backend_id", "=", backend.id), ("case_number", "in", list(numbers))]
        )
        case_by_number = {case.case_number: case for case in cases}
        currencies = {}
        vals_list = []
        for line in lines:
            if line.line_id in known:
                continue
            known.add(line.line_id)
            if line.currency not in currencies:
                currencies[line.currency] = (
                    self.env["res.currency"]
                    .with_context(active_test=False)
                    .search([("name", "=", line.currency)], limit=1)
                )
            currency = currencies[line.currency]
            vals_list.append(
                {
                    "backend_id": backend.id,
                    "line_id": line.line_id,
                    "remittance_id": line.remittance_id,
                    "case_number": line.case_number,
                    "case_id": case_by_number.get(line.case_number, cases.browse()).id,
                    "kind": line.kind,
                    "amount": float(line.amount),
                    "currency_id": (currency or backend.company_id.currency_id).id,
                    "date": line.date,
                    "agency_created_at": _naive_utc(line.created_at),
                    "state": "new" if currency else "error",
                    "error": False
                    if currency
                    else self.env._("Unknown currency %(code)s.", code=line.currency),
                }
            )
        return self.create(vals_list)

    def _to_core(self):
        self.ensure_one()
        return SettlementLine(
            line_id=self.line_id,
            remittance_id=self.remittance_id,
            case_number=self.case_number or "",
            kind=self.kind,
            amount=_money(self.amount),
            currency=self.currency_id.name,
            date=self.date,
            created_at=self.agency_created_at or fields.Datetime.now(),
        )

    def action_book(self):
        """Book lines that failed, after the agency's accounts or the case were fixed.

        Whoever may fix those (a collection administrator, no accountant) books them as the
        scheduled action does."""
        self.check_access("write")
        self.sudo()._book()
        failed = self.filtered(lambda line: line.state == "error")
        if failed:
            raise UserError(failed[0].error)
        return True

    def _book(self):
        """Book every remittance these lines belong to, each in its own savepoint."""
        lines = self.filtered(lambda line: line.state != "booked" and not line.move_id)
        for (backend, remittance_id), group in lines.grouped(
            lambda line: (line.backend_id, line.remittance_id)
        ).items():
            # Book the whole remittance, and only when no one else holds any of its lines.
            group = self.search(
                [
                    ("backend_id", "=", backend.id),
                    ("remittance_id", "=", remittance_id),
                    ("move_id", "=", False),
                ]
            )
            locked = group.try_lock_for_update()
            if locked != group:
                continue
            group.invalidate_recordset(["move_id", "state"])
            group = group.filtered(lambda line: not line.move_id)
            if not group:
                continue
            try:
                with self.env.cr.savepoint():
                    move = group._book_remittance(backend)
                    group.write({"move_id": move.id, "state": "booked", "error": False})
            except (UserError, ValueError) as exc:
                # ValueError: the agency's lines do not make one remittance (mixed currencies).
                group.write({"state": "error", "error": str(exc)})

    def _book_remittance(self, backend):
        """One posted journal entry for these lines of one remittance."""
        if not backend.settlement_journal_id or not backend.clearing_account_id:
            raise UserError(
                self.env._(
                    "Set the settlement journal and the remittance account of %(agency)s.",
                    agency=backend.name,
                )
            )
        for line in self.filtered(lambda x: not x.case_id and x.case_number):
            line.case_id = self.env["collection.case"].search(
                [("backend_id", "=", backend.id), ("case_number", "=", line.case_number)], limit=1
            )
        cases = {line.case_number: line.case_id for line in self}
        open_fees = {
            number: sum(
                case.move_id.collection_fee_ids._collection_open_lines().mapped(
                    "amount_residual_currency"
                )
            )
            for number, case in cases.items()
            if case
        }
        [remittance] = remittance_postings(
            [line._to_core() for line in self],
            {number: _money(amount) for number, amount in open_fees.items()},
        )
        company = backend.company_id
        currency = self[0].currency_id
        accounts = {
            "interest": backend.interest_account_id,
            "fees": backend.fee_account_id,
            "costs": backend.cost_account_id,
            "other": backend.other_account_id,
        }
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        kinds["fee_invoices"] = kinds["fees"]
        line_vals, to_reconcile = [], []
        for index, posting in enumerate(remittance.postings):
            case = cases.get(posting.case_number)
            if posting.kind in ("principal", "fee_invoices"):
                if not case:
                    raise UserError(
                        self.env._(
                            "Remittance %(remittance)s pays case %(case)s, which is not a case "
                            "of %(agency)s.",
                            remittance=remittance.remittance_id,
                            case=posting.case_number,
                            agency=backend.name,
                        )
                    )
                targets = (
                    case.move_id._collection_open_lines()
                    if posting.kind == "principal"
                    else case.move_id.collection_fee_ids._collection_open_lines()
                )
                account = (
                    targets[:1] or case.move_id._collection_open_lines(all_lines=True)[:1]
                ).account_id
                if posting.amount > 0:  # a reversal of the agency is left open for staff
                    to_reconcile.append((index, targets))
            else:
                account = accounts[posting.kind]
                if not account:
                    raise UserError(
                        self.env._(
                            "Set the account for %(kind)s of %(agency)s.",
                            kind=kinds.get(posting.kind, posting.kind),
                            agency=backend.name,
                        )
                    )
            line_vals.append(
                {
                    "name": self.env._(
                        "%(remittance)s case %(case)s: %(kind)s",
                        remittance=remittance.remittance_id,
                        case=posting.case_number,
                        kind=kinds[posting.kind],
                    ),
                    "account_id": account.id,
                    "partner_id": case.partner_id.id if case else False,
                    "currency_id": currency.id,
                    "amount_currency": -float(posting.amount),
                    "balance": -self._to_company(
                        posting.amount, currency, company, remittance.date
                    ),
                }
            )
        balance = -sum(vals["balance"] for vals in line_vals)
        line_vals.append(
            {
                "name": self.env._(
                    "Remittance %(remittance)s", remittance=remittance.remittance_id
                ),
                "account_id": backend.clearing_account_id.id,
                "currency_id": currency.id,
                "amount_currency": float(remittance.net),
                "balance": balance,
            }
        )
        move = (
            self.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": backend.settlement_journal_id.id,
                    "date": remittance.date,
                    "ref": self.env._(
                        "%(agency)s remittance %(remittance)s",
                        agency=backend.name,
                        remittance=remittance.remittance_id,
                    ),
                    "collection_backend_id": backend.id,
                    "line_ids": [Command.create(vals) for vals in line_vals],
                }
            )
        )
        move.action_post()
        booked = move.line_ids.sorted("id")
        for index, targets in to_reconcile:
            if targets:
                (booked[index] + targets).reconcile()
        for case in {case for case in cases.values() if case}:
            case.move_id._message_log(
                body=self.env._(
                    "The agency's remittance %(remittance)s was booked in %(entry)s.",
                    remittance=remittance.remittance_id,
                    entry=move.name,
                )
            )
        return move

    @api.model
    def _to_company(self, amount, currency, company, date):
        if currency == company.currency_id:
            return float(amount)
        return currency._convert(float(amount), company.currency_id, company, date)
