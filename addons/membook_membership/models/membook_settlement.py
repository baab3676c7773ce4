# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from nordic_billing import payouts
from nordic_billing.money import to_decimal
from nordic_billing.references import FI, normalise_for_matching


class MembookSettlement(models.Model):
    """What the operator owes one organisation for a week: its unsettled allocations.

    Draft settlements are made by the weekly scheduled action; confirming one freezes it and makes
    it payable; a payout batch pays confirmed settlements with a pain.001 credit transfer carrying
    the settlement's own structured reference, by which the payout is recognised on the bank file
    and the settlement marked paid.
    """

    _name = "membook.settlement"
    _description = "Settlement to an organisation"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, default="/", copy=False)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    organisation_id = fields.Many2one(
        "membook.organisation", required=True, index=True, check_company=True, readonly=True
    )
    date = fields.Date(required=True, default=fields.Date.context_today, readonly=True)
    state = fields.Selection(
        [("draft", "Draft"), ("confirmed", "Confirmed"), ("paid", "Paid"), ("cancel", "Cancelled")],
        string="Status",
        default="draft",
        required=True,
        tracking=True,
        index=True,
    )
    allocation_ids = fields.One2many("membook.allocation", "settlement_id", readonly=True)
    line_ids = fields.One2many("membook.settlement.line", "settlement_id", readonly=True)
    amount_total = fields.Monetary(compute="_compute_amount_total", store=True)
    reference = fields.Char(
        readonly=True, copy=False, index="btree_not_null", help="Creditor reference of the payout."
    )
    reference_key = fields.Char(compute="_compute_reference_key", store=True, index=True)
    bank_account_id = fields.Many2one(related="organisation_id.settlement_bank_id")
    payout_id = fields.Many2one("membook.payout", readonly=True, copy=False, index="btree_not_null")
    paid_date = fields.Date(
        readonly=True, copy=False, help="When the payout left the bank account."
    )

    @api.depends("allocation_ids.amount")
    def _compute_amount_total(self):
        for settlement in self:
            settlement.amount_total = sum(settlement.allocation_ids.mapped("amount"))

    @api.depends("reference")
    def _compute_reference_key(self):
        for settlement in self:
            settlement.reference_key = normalise_for_matching(settlement.reference or "") or False

    @api.model_create_multi
    def create(self, vals_list):
        settlements = super().create(vals_list)
        for settlement in settlements:
            settlement.name = self.env["ir.sequence"].next_by_code("membook.settlement") or "/"
            # A Finnish national reference from the settlement id: unique, checkable.
            settlement.reference = FI.make(f"{settlement.id + 1000:d}")
        return settlements

    def _refresh_lines(self):
        """One line per product: count and total of the allocations."""
        for settlement in self:
            totals = {}
            for allocation in settlement.allocation_ids:
                count, amount = totals.get(allocation.product_id, (0, 0.0))
                totals[allocation.product_id] = (count + 1, amount + allocation.amount)
            settlement.line_ids.unlink()
            self.env["membook.settlement.line"].create(
                [
                    {
                        "settlement_id": settlement.id,
                        "product_id": product.id,
                        "count": count,
                        "amount": amount,
                    }
                    for product, (count, amount) in totals.items()
                ]
            )

    def action_confirm(self):
        for settlement in self:
            if settlement.state != "draft":
                continue
            if settlement.amount_total <= 0:
                raise UserError(
                    self.env._("%s has nothing to pay out.", settlement.organisation_id.name)
                )
            if not settlement.bank_account_id:
                raise UserError(
                    self.env._(
                        "%s has no settlement account: set one on the organisation.",
                        settlement.organisation_id.name,
                    )
                )
            settlement.state = "confirmed"
        return True

    def action_cancel(self):
        if self.filtered(lambda s: s.state == "paid" or s.payout_id):
            raise UserError(
                self.env._("A paid settlement, or one in a payout, cannot be cancelled.")
            )
        self.allocation_ids.write({"settlement_id": False})
        self.write({"state": "cancel"})
        return True

    def action_mark_paid(self):
        self.filtered(lambda s: s.state == "confirmed").write(
            {"state": "paid", "paid_date": fields.Date.context_today(self)}
        )
        return True

    def action_create_payout(self):
        settlements = self.filtered(lambda s: s.state == "confirmed" and not s.payout_id)
        if not settlements:
            raise UserError(self.env._("Choose confirmed settlements that are not paid out yet."))
        payouts_ = self.env["membook.payout"]
        for company, group in settlements.grouped("company_id").items():
            payouts_ |= payouts_.create(
                {"company_id": company.id, "settlement_ids": [(6, 0, group.ids)]}
            )
        payouts_.action_generate()
        return {
            "type": "ir.actions.act_window",
            "res_model": "membook.payout",
            "view_mode": "list,form",
            "domain": [("id", "in", payouts_.ids)],
        }

    @api.model
    def _cron_weekly(self):
        """On each company's settlement day, settle every organisation's unsettled allocations."""
        self._cron_weekly_on(fields.Date.context_today(self))

    @api.model
    def _cron_weekly_on(self, today):
        Cron = self.env["ir.cron"]
        companies = self.env["res.company"].search(
            [
                ("membook_settlement_enabled", "=", True),
                ("membook_settlement_weekday", "=", str(today.weekday())),
            ]
        )
        for company in companies:
            for organisation in self._organisations_to_settle(company, today):
                self._settle(company, organisation, today)
                if not Cron._commit_progress(1):
                    return

    @api.model
    def _organisations_to_settle(self, company, date):
        groups = self.env["membook.allocation"]._read_group(
            [
                ("company_id", "=", company.id),
                ("settlement_id", "=", False),
                ("organisation_id", "!=", False),
                ("date", "<=", date),
            ],
            ["organisation_id"],
            ["amount:sum"],
        )
        return [organisation for organisation, total in groups if total > 0]

    @api.model
    def _settle(self, company, organisation, date):
        """A draft settlement of the organisation's unsettled allocations up to ``date``."""
        allocations = self.env["membook.allocation"].search(
            [
                ("company_id", "=", company.id),
                ("settlement_id", "=", False),
                ("organisation_id", "=", organisation.id),
                ("date", "<=", date),
            ]
        )
        # Skip rows another worker is settling right now; they are settled next time.
        allocations = allocations.try_lock_for_update()
        if not allocations or sum(allocations.mapped("amount")) <= 0:
            return self.browse()
        settlement = self.create(
            {"company_id": company.id, "organisation_id": organisation.id, "date": date}
        )
        allocations.write({"settlement_id": settlement.id})
        settlement._refresh_lines()
        return settlement

    def _match_payout(self, reference, amount, date=None):
        """Mark paid the confirmed settlement paid out with ``reference`` and ``amount``."""
        key = normalise_for_matching(reference)
        settlement = self.search(
            [("reference_key", "=", key), ("state", "=", "confirmed"), ("payout_id", "!=", False)],
            limit=1,
        )
        if settlement and to_decimal(settlement.amount_total) == amount:
            settlement.write(
                {"state": "paid", "paid_date": date or fields.Date.context_today(self)}
            )
            if all(s.state == "paid" for s in settlement.payout_id.settlement_ids):
                settlement.payout_id.state = "paid"
            return settlement
        return self.browse()


class MembookSettlementLine(models.Model):
    _name = "membook.settlement.line"
    _description = "Settlement line"
    _order = "settlement_id, product_id"

    settlement_id = fields.Many2one(
        "membook.settlement", required=True, ondelete="cascade", index=True
    )
    product_id = fields.Many2one("product.product")
    count = fields.Integer(string="Payments")
    amount = fields.Monetary()
    currency_id = fields.Many2one(related="settlement_id.currency_id")


class MembookPayout(models.Model):
    """A pain.001 credit-transfer file paying confirmed settlements."""

    _name = "membook.payout"
    _description = "Settlement payout"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, default="/", copy=False)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    execution_date = fields.Date(
        required=True, default=lambda self: fields.Date.context_today(self) + timedelta(days=1)
    )
    settlement_ids = fields.One2many("membook.settlement", "payout_id", check_company=True)
    amount_total = fields.Monetary(compute="_compute_amount_total")
    currency_id = fields.Many2one(related="company_id.currency_id")
    attachment_id = fields.Many2one("ir.attachment", readonly=True, string="Payment file")
    state = fields.Selection(
        [("draft", "Draft"), ("generated", "File ready"), ("paid", "Paid")],
        string="Status",
        default="draft",
        required=True,
    )

    @api.depends("settlement_ids.amount_total")
    def _compute_amount_total(self):
        for payout in self:
            payout.amount_total = sum(payout.settlement_ids.mapped("amount_total"))

    @api.model_create_multi
    def create(self, vals_list):
        payouts_ = super().create(vals_list)
        for payout in payouts_:
            payout.name = f"PAYOUT-{payout.id:05d}"
        return payouts_

    def _payout_batch(self):
        self.ensure_one()
        journal = self.company_id.membook_payout_journal_id
        bank = journal.bank_account_id
        if not bank:
            raise UserError(
                self.env._(
                    "Set the client-funds bank journal, with its bank account, in the settings."
                )
            )
        return payouts.PayoutBatch(
            msg_id=self.name,
            debtor_name=self.company_id.name,
            debtor_iban=bank.acc_number,
            debtor_bic=bank.bank_bic or "",
            execution_date=self.execution_date,
            transfers=[
                payouts.Transfer(
                    creditor_name=settlement.organisation_id.name,
                    iban=settlement.bank_account_id.acc_number,
                    bic=settlement.bank_account_id.bank_bic or "",
                    amount=to_decimal(settlement.amount_total),
                    end_to_end_id=settlement.name,
                    reference=settlement.reference,
                )
                for settlement in self.settlement_ids
            ],
            currency=self.currency_id.name,
        )

    def action_generate(self):
        for payout in self:
            try:
                xml = payouts.build_pain001(payout._payout_batch())
            except payouts.PayoutError as error:
                raise UserError(self.env._("The payment file cannot be made: %s", error)) from error
            payout.attachment_id = self.env["ir.attachment"].create(
                {
                    "name": f"{payout.name}.xml",
                    "raw": xml,
                    "mimetype": "application/xml",
                    "res_model": payout._name,
                    "res_id": payout.id,
                }
            )
            payout.state = "generated"
        return True
