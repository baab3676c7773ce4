# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from decimal import Decimal
from typing import NamedTuple

from odoo import api, fields, models

from nordic_billing import allocation
from nordic_billing.allocation import AllocationLine, from_cents, to_cents

from .batching import insert_rows

CENT = Decimal("0.01")


def _cents(value):
    """Cents of an Odoo float amount."""
    return to_cents(Decimal(str(value)).quantize(CENT))


class LedgerItem(NamedTuple):
    """An amount applied to a fee document, for :meth:`MembookAllocation._allocate_many`.

    ``document_id``: the fee invoice paid (``sign`` 1) or the fee credit note whose credit was
    used or refunded (``sign`` -1); ``amount``: the amount applied, a positive Decimal.
    """

    document_id: int
    amount: Decimal
    date: object
    sign: int = 1
    partial_id: int | None = None
    counterpart_move_id: int | None = None
    bank_payment_id: int | None = None


class MembookAllocation(models.Model):
    """Money received for a fee, owed to one organisation (or kept by the operator).

    The ledger of what the company owes its organisations, fed by reconciliation itself: each
    partial reconciliation of a fee invoice's receivable item, whatever made it (the bank day,
    Odoo's register payment, an online payment, Procountor's paid status, a collection agency's
    settlement, a credit note, a person in the accounting screens), splits the amount applied
    over the invoice's fee lines, then over each line's recorded split, pro rata to what is
    still due (see :func:`nordic_billing.allocation.allocate`). A fee credit note whose credit
    is refunded or used on another invoice makes negative rows the same way. Removing a
    reconciliation adds the negated rows of its allocations: rows are never changed once made.
    Weekly settlements collect the unsettled allocations of each organisation.
    """

    _name = "membook.allocation"
    _description = "Fee allocation"
    _order = "date desc, id desc"
    _check_company_auto = True

    # No index on the company nor the product: every query of the ledger takes most of a
    # company's rows, a product's rows are too many to be worth one, and a product once invoiced
    # cannot be deleted (its invoice items restrict it). Each index costs a weekly settlement
    # (which writes every row it settles) close to a second per 300,000 rows.
    company_id = fields.Many2one("res.company", required=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, index=True)
    organisation_id = fields.Many2one(
        "membook.organisation",
        index="btree_not_null",
        ondelete="restrict",
        check_company=True,
        help="Empty: the operator company keeps it.",
    )
    product_id = fields.Many2one("product.product")
    amount = fields.Monetary(required=True)
    invoice_id = fields.Many2one(
        "account.move",
        string="Fee document",
        index=True,
        ondelete="restrict",
        help="The fee invoice paid, or the fee credit note refunded (negative amounts).",
    )
    move_line_id = fields.Many2one("account.move.line", string="Fee line", index=True)
    partner_id = fields.Many2one(related="invoice_id.partner_id", string="Member")
    partial_id = fields.Many2one(
        "account.partial.reconcile",
        string="Reconciliation",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        help="The reconciliation that applied the amount; empty once it was removed (the "
        "reversal rows say when).",
    )
    counterpart_move_id = fields.Many2one(
        "account.move",
        string="Paid with",
        index="btree_not_null",
        readonly=True,
        help="The entry that paid the fee: a bank entry, a payment, a credit note...",
    )
    bank_payment_id = fields.Many2one("membook.bank.payment", index="btree_not_null")
    settlement_id = fields.Many2one(
        "membook.settlement", index="btree_not_null", ondelete="set null", copy=False
    )
    reversed_id = fields.Many2one(
        "membook.allocation", string="Reverses", readonly=True, index="btree_not_null"
    )
    ledger_move_id = fields.Many2one(
        "account.move",
        string="Booked in",
        index="btree_not_null",
        readonly=True,
        copy=False,
        help="The entry that moved this amount to what is due to the organisation.",
    )

    # ------------------------------------------------------------------
    # The engine
    # ------------------------------------------------------------------
    @api.model
    def _allocate_many(self, items):
        """Allocate the amounts of ``items`` (:class:`LedgerItem`, in the order they were
        applied; a document may appear more than once) to the beneficiaries of the fees.

        Each amount goes first over the document's fee lines, pro rata to what each still has
        due, then over each line's recorded split; lines without a split stay with the
        operator. What was allocated before counts as paid (for a credit note, as refunded).
        Three reads and one insert for the whole batch, whatever its size (a bank day books
        tens of thousands). Returns the allocations created.
        """
        Allocation = self.sudo()
        document_ids = list({item.document_id for item in items})
        if not document_ids:
            return Allocation
        for model in ("account.move", "account.move.line", "membook.fee.split", self._name):
            self.env[model].flush_model()
        cr = self.env.cr
        # Cents by line id / by (line id, beneficiary), counted positive for either sign.
        before_line, before_target = {}, {}
        cr.execute(
            "SELECT move_line_id, organisation_id, amount FROM membook_allocation"
            " WHERE invoice_id = ANY(%s)",
            [document_ids],
        )
        sign_of = {item.document_id: item.sign for item in items}
        rows = cr.fetchall()
        cr.execute(
            """
            SELECT line.id, line.move_id, line.product_id, line.price_total, move.company_id
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
             WHERE line.move_id = ANY(%s) AND line.display_type = 'product'
               AND line.price_total > 0
             ORDER BY line.id
            """,
            [document_ids],
        )
        fee_lines, company_of, product_of, document_of = {}, {}, {}, {}
        for line_id, move_id, product_id, price_total, company_id in cr.fetchall():
            fee_lines.setdefault(move_id, []).append(AllocationLine(line_id, _cents(price_total)))
            company_of[move_id] = company_id
            product_of[line_id] = product_id
            document_of[line_id] = move_id
        for line_id, organisation_id, amount in rows:
            cents = _cents(amount) * sign_of.get(document_of.get(line_id), 1)
            before_line[line_id] = before_line.get(line_id, 0) + cents
            key = (line_id, organisation_id or 0)
            before_target[key] = before_target.get(key, 0) + cents
        cr.execute(
            "SELECT move_line_id, organisation_id, amount FROM membook_fee_split"
            " WHERE move_line_id = ANY(%s) ORDER BY move_line_id, sequence, id",
            [list(product_of)],
        )
        splits = {}
        for line_id, organisation_id, amount in cr.fetchall():
            splits.setdefault(line_id, []).append(
                AllocationLine(organisation_id or 0, _cents(amount))
            )
        today = fields.Date.context_today(self)
        vals_list = []
        for item in items:
            line_targets = fee_lines.get(item.document_id)
            if not line_targets or item.amount <= 0:
                continue
            paid_before = {t.beneficiary: before_line.get(t.beneficiary, 0) for t in line_targets}
            due = sum(t.cents for t in line_targets) - sum(paid_before.values())
            cents = min(to_cents(item.amount), max(due, 0))
            if not cents:
                continue
            line_cents = {t.beneficiary: t.cents for t in line_targets}
            for part in allocation.allocate(cents, line_targets, paid_before):
                line_id = part.beneficiary
                targets = splits.get(line_id) or [AllocationLine(0, line_cents[line_id])]
                before = {
                    t.beneficiary: before_target.get((line_id, t.beneficiary), 0) for t in targets
                }
                for share in allocation.allocate(part.cents, targets, before):
                    before_line[line_id] = before_line.get(line_id, 0) + share.cents
                    key = (line_id, share.beneficiary)
                    before_target[key] = before_target.get(key, 0) + share.cents
                    vals_list.append(
                        {
                            "company_id": company_of[item.document_id],
                            "date": item.date or today,
                            "organisation_id": share.beneficiary or None,
                            "product_id": product_of[line_id],
                            "amount": float(from_cents(item.sign * share.cents)),
                            "invoice_id": item.document_id,
                            "move_line_id": line_id,
                            "partial_id": item.partial_id,
                            "counterpart_move_id": item.counterpart_move_id,
                            "bank_payment_id": item.bank_payment_id,
                            "reversed_id": None,
                        }
                    )
        return insert_rows(Allocation, vals_list)

    def _reverse(self, date=None):
        """Add the negated rows of these allocations (their reconciliation was removed), dated
        ``date`` (default: today). The rows themselves are never changed: a settled one stays
        in its settlement, and the next settlement nets the reversal."""
        date = date or fields.Date.context_today(self)
        return insert_rows(
            self.sudo(),
            [
                {
                    "company_id": allocation.company_id.id,
                    "date": date,
                    "organisation_id": allocation.organisation_id.id or None,
                    "product_id": allocation.product_id.id or None,
                    "amount": -allocation.amount,
                    "invoice_id": allocation.invoice_id.id or None,
                    "move_line_id": allocation.move_line_id.id or None,
                    "partial_id": None,
                    "counterpart_move_id": allocation.counterpart_move_id.id or None,
                    "bank_payment_id": allocation.bank_payment_id.id or None,
                    "reversed_id": allocation.id,
                }
                for allocation in self
            ],
        )
