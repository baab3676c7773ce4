# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from nordic_billing import payouts
from nordic_billing.references import FI, normalise_for_matching

_logger = logging.getLogger(__name__)
CENT = Decimal("0.01")
# First key of the transaction-level advisory lock taken while a company is settled (the
# second is the company's id).
SETTLEMENT_LOCK = 7_340_031


def _money(value):
    return Decimal(str(value or 0)).quantize(CENT)


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
    amount_total = fields.Monetary(string="Allocated", compute="_compute_amount_total", store=True)
    payment_count = fields.Integer(
        string="Payments", readonly=True, help="Payments of fees this settlement pays for."
    )
    service_fee = fields.Monetary(
        readonly=True,
        copy=False,
        help="The operator's service fee, deducted when the settlement is confirmed.",
    )
    amount_payable = fields.Monetary(
        string="To pay out", compute="_compute_amount_payable", store=True
    )
    fee_move_id = fields.Many2one(
        "account.move", string="Service fee entry", readonly=True, copy=False
    )
    payout_line_id = fields.Many2one(
        "account.move.line",
        string="Payout item",
        readonly=True,
        copy=False,
        help="The outstanding payment booked for this settlement by its payout; reconciled by "
        "the outgoing transfer on the bank statement.",
    )
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

    @api.depends("amount_total", "service_fee")
    def _compute_amount_payable(self):
        for settlement in self:
            settlement.amount_payable = settlement.amount_total - settlement.service_fee

    @api.depends("reference")
    def _compute_reference_key(self):
        for settlement in self:
            settlement.reference_key = normalise_for_matching(settlement.reference or "") or False

    @api.model_create_multi
    def create(self, vals_list):
        settlements = super().create(vals_list)
        # As ir.sequence's next_by_code, with the sequence looked up once for the batch.
        sequence = self.env["ir.sequence"].search(
            [
                ("code", "=", "membook.settlement"),
                ("company_id", "in", [self.env.company.id, False]),
            ],
            order="company_id",
            limit=1,
        )
        for settlement in settlements:
            settlement.name = sequence._next() if sequence else "/"
            # A Finnish national reference from the settlement id: unique, checkable.
            settlement.reference = FI.make(f"{settlement.id + 1000:d}")
        return settlements

    def _refresh_lines(self):
        """One line per product: count and total of the allocations; the number of payments."""
        for settlement in self:
            settlement.payment_count = len(settlement._paid_with())
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

    def _action_list(self, model, records, name):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "view_mode": "list,form",
            "domain": [("id", "in", records.ids)],
            "context": {"create": False},
        }

    def action_view_invoices(self):
        self.ensure_one()
        return self._action_list(
            "account.move", self.allocation_ids.invoice_id, self.env._("Fee documents")
        )

    def action_view_bank_payments(self):
        self.ensure_one()
        return self._action_list(
            "membook.bank.payment", self.allocation_ids.bank_payment_id, self.env._("Bank payments")
        )

    def _paid_with(self):
        """The payments this settlement pays for: one key per bank payment, else per paying
        entry and fee document, of its positive allocations not reversed in it."""
        self.ensure_one()
        reversed_ids = set(self.allocation_ids.reversed_id.ids)
        return {
            (
                allocation.bank_payment_id.id,
                0 if allocation.bank_payment_id else allocation.counterpart_move_id.id,
                0 if allocation.bank_payment_id else allocation.invoice_id.id,
            )
            for allocation in self.allocation_ids
            if allocation.amount > 0 and allocation.id not in reversed_ids
        }

    def _compute_service_fee(self):
        """The company's fee for this settlement: per payment and/or a share, in cents, never
        more than the settlement."""
        self.ensure_one()
        company = self.company_id
        total = _money(self.amount_total)
        fee = _money(company.membook_service_fee_fixed) * self.payment_count
        fee += (total * Decimal(str(company.membook_service_fee_percent)) / 100).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        return max(min(fee, total), Decimal(0))

    def _book_service_fees(self):
        """Book the service fees of these settlements: one entry per company for the whole
        confirmation, what is due to each organisation debited with its settlement's fee (its
        own item, labelled with the settlement), the service fee income credited with the
        total. Each settlement points to the entry."""
        Booking = self.env["membook.ledger.booking"]
        for company, settlements in self.filtered("service_fee").grouped("company_id").items():
            if not Booking._ready(company):
                continue
            if not company.membook_service_fee_account_id:
                raise UserError(
                    self.env._("Choose the service fee income account of %s.", company.name)
                )
            lines = [
                (
                    company.membook_due_account_id.id,
                    settlement.organisation_id.partner_id.id,
                    self.env._("Service fee %s", settlement.name),
                    _money(settlement.service_fee),
                )
                for settlement in settlements
            ]
            label = (
                lines[0][2]
                if len(settlements) == 1
                else self.env._("Service fees of %s settlements", len(settlements))
            )
            total = sum(line[3] for line in lines)
            lines.append((company.membook_service_fee_account_id.id, None, label, -total))
            settlements.fee_move_id = Booking._entry(company, label, lines)

    def _unbook_service_fee(self):
        """Take back the service fee of this settlement: the opposite of its items in the
        entry of its confirmation (which may hold other settlements' fees)."""
        self.ensure_one()
        company = self.company_id
        label = self.env._("Service fee %s cancelled", self.name)
        fee = _money(self.service_fee)
        self.env["membook.ledger.booking"]._entry(
            company,
            label,
            [
                (
                    company.membook_due_account_id.id,
                    self.organisation_id.partner_id.id,
                    label,
                    -fee,
                ),
                (company.membook_service_fee_account_id.id, None, label, fee),
            ],
        )

    def action_confirm(self):
        settlements = self.filtered(lambda s: s.state == "draft")
        for settlement in settlements:
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
            settlement.service_fee = float(settlement._compute_service_fee())
            if settlement.amount_payable <= 0:
                raise UserError(
                    self.env._(
                        "The service fee takes all of %s: nothing to pay out.", settlement.name
                    )
                )
        settlements._book_service_fees()
        settlements.state = "confirmed"
        return True

    def action_cancel(self):
        if self.filtered(lambda s: s.state == "paid" or s.payout_id):
            raise UserError(
                self.env._("A paid settlement, or one in a payout, cannot be cancelled.")
            )
        for settlement in self.filtered("fee_move_id"):
            settlement._unbook_service_fee()
        self.allocation_ids.write({"settlement_id": False})
        self.write({"state": "cancel", "service_fee": 0.0, "fee_move_id": False})
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
        enabled = self.env["res.company"].search([("membook_settlement_enabled", "=", True)])
        companies = enabled.filtered(lambda c: c.membook_settlement_weekday == str(today.weekday()))
        for company in enabled - companies:
            _logger.info(
                "Settlements: %s settles on weekday %s, not today (%s): nothing settled; use "
                "Settle now to settle on another day.",
                company.name,
                company.membook_settlement_weekday,
                today,
            )
        for company in companies:
            self._settle_company(company, today)
            if not Cron._commit_progress(1):
                return

    @api.model
    def _settle_company(self, company, date, organisations=None):
        """Book the ledger, then settle ``organisations`` (default: every one with something
        to settle) of ``company`` up to ``date``; returns the settlements made."""
        # One worker at a time books and settles a company: another waits for it to commit.
        self.env.cr.execute(
            SQL("SELECT pg_advisory_xact_lock(%s, %s)", SETTLEMENT_LOCK, company.id)
        )
        self.env["membook.ledger.booking"]._book_all(company)
        return self._settle_organisations(company, date, organisations)

    @api.model
    def _settle_organisations(self, company, date, organisations=None):
        """Settle ``organisations`` (default: every one with something to settle) of
        ``company`` up to ``date``, one after the other (see membook_settlement_fast.py for
        the set-based path); returns the settlements made."""
        settlements = self.browse()
        for organisation in self._organisations_to_settle(company, date):
            if organisations is None or organisation in organisations:
                settlements |= self._settle(company, organisation, date)
        return settlements

    @api.model
    def action_settle_now(self, organisations=None):
        """Settle now, whatever the weekday: every organisation of the current company, or
        ``organisations``; says what was settled."""
        company = self.env.company
        if not company.membook_settlement_enabled:
            raise UserError(self.env._("%s does not settle to organisations.", company.name))
        settlements = self._settle_company(company, fields.Date.context_today(self), organisations)
        if not settlements:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "title": self.env._("Settle now"),
                    "message": self.env._("Nothing to settle: no unsettled allocations."),
                    "type": "info",
                },
            }
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Settlements made"),
            "res_model": self._name,
            "view_mode": "list,form",
            "domain": [("id", "in", settlements.ids)],
        }

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

    @api.model
    def action_check_books(self):
        return self.env["membook.ledger.booking"].action_check()

    def _match_payout(self, reference, amount, date=None, journal=None):
        """Mark paid the confirmed settlement paid out with ``reference`` and ``amount``; with
        the bank ``journal``, book the outgoing transfer on it, reconciled with the payout's
        outstanding payment."""
        key = normalise_for_matching(reference)
        settlement = self.search(
            [("reference_key", "=", key), ("state", "=", "confirmed"), ("payout_id", "!=", False)],
            limit=1,
        )
        if settlement and _money(settlement.amount_payable) == amount:
            settlement.write(
                {"state": "paid", "paid_date": date or fields.Date.context_today(self)}
            )
            if journal and settlement.payout_line_id:
                settlement._reconcile_transfer(journal, amount, settlement.paid_date)
            if all(s.state == "paid" for s in settlement.payout_id.settlement_ids):
                settlement.payout_id.state = "paid"
            return settlement
        return self.browse()

    def _reconcile_transfer(self, journal, amount, date):
        """Book the outgoing transfer of this settlement on ``journal``'s statement and
        reconcile it with the outstanding payment its payout booked."""
        self.ensure_one()
        item = self.payout_line_id
        if item.reconciled:
            return
        st_line = (
            self.env["account.bank.statement.line"]
            .sudo()
            .create(
                {
                    "journal_id": journal.id,
                    "date": date,
                    "amount": -float(amount),
                    "payment_ref": self.reference,
                    "partner_id": self.organisation_id.partner_id.id,
                }
            )
        )
        suspense = st_line.move_id.line_ids.filtered(
            lambda line: line.account_id == journal.suspense_account_id
        )
        suspense.write({"account_id": item.account_id.id, "partner_id": item.partner_id.id})
        (suspense | item).reconcile()


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
    move_id = fields.Many2one(
        "account.move",
        string="Payout entry",
        readonly=True,
        copy=False,
        help="The outgoing payments booked on the client-funds bank journal.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("generated", "File ready"), ("paid", "Paid")],
        string="Status",
        default="draft",
        required=True,
    )

    @api.depends("settlement_ids.amount_payable")
    def _compute_amount_total(self):
        for payout in self:
            payout.amount_total = sum(payout.settlement_ids.mapped("amount_payable"))

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
                    amount=_money(settlement.amount_payable),
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
                xml = payouts.build_pain001(
                    payout._payout_batch(),
                    payout.company_id.membook_payout_journal_id.membook_pain001_version
                    or payouts.DEFAULT_VERSION,
                )
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
            payout._book()
            payout.state = "generated"
        return True

    def _book(self):
        """Book the outgoing payments: what is due to each organisation is paid, against the
        outstanding payments account of the payout journal, one item per settlement."""
        self.ensure_one()
        company = self.company_id
        if not self.env["membook.ledger.booking"]._ready(company) or self.move_id:
            return
        journal = company.membook_payout_journal_id
        outstanding = journal.outbound_payment_method_line_ids.payment_account_id[:1]
        if not outstanding:
            raise UserError(
                self.env._(
                    "Give the outgoing payment method of %s an outstanding payments account.",
                    journal.display_name,
                )
            )
        lines = []
        for settlement in self.settlement_ids:
            partner = settlement.organisation_id.partner_id
            amount = float(_money(settlement.amount_payable))
            label = f"{self.name} {settlement.name} {settlement.reference}"
            lines += [
                (
                    0,
                    0,
                    {
                        "account_id": company.membook_due_account_id.id,
                        "partner_id": partner.id,
                        "name": label,
                        "debit": amount,
                    },
                ),
                (
                    0,
                    0,
                    {
                        "account_id": outstanding.id,
                        "partner_id": partner.id,
                        "name": label,
                        "credit": amount,
                    },
                ),
            ]
        move = (
            self.env["account.move"]
            .sudo()
            .create(
                {
                    "move_type": "entry",
                    "journal_id": journal.id,
                    "company_id": company.id,
                    "date": self.execution_date,
                    "ref": self.name,
                    "line_ids": lines,
                }
            )
        )
        move.action_post()
        self.move_id = move
        credits = move.line_ids.filtered(lambda line: line.account_id == outstanding)
        for settlement, item in zip(self.settlement_ids, credits.sorted("id"), strict=True):
            settlement.payout_line_id = item
