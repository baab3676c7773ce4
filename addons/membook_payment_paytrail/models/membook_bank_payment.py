# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import Command, fields, models
from odoo.exceptions import UserError, ValidationError

from nordic_billing import paytrail

_logger = logging.getLogger(__name__)


class MembookBankPayment(models.Model):
    _inherit = "membook.bank.payment"

    match_kind = fields.Selection(
        selection_add=[("paytrail_settlement", "Paytrail settlement")],
        ondelete={"paytrail_settlement": "set null"},
    )
    paytrail_transaction_ids = fields.Many2many(
        "payment.transaction",
        string="Paytrail payments",
        readonly=True,
        help="The online payments this Paytrail payout settles.",
    )
    paytrail_commission_move_id = fields.Many2one(
        "account.move", string="Paytrail commission", readonly=True
    )

    def _membook_place_unmatched(self):
        """Extension of the bank day: a payout of Paytrail, recognised by its settlement
        reference, clears the payments it settles from the transit account and books the
        commission Paytrail kept."""
        result = super()._membook_place_unmatched()
        candidates = self.filtered(lambda p: p.reference and not p.is_correction and p.amount > 0)
        if not candidates:
            return result
        # Credentials are read by the provider itself; the bank day may run as any accountant.
        providers = (
            self.env["payment.provider"]
            .sudo()
            .search(
                [
                    ("code", "=", "paytrail"),
                    ("company_id", "in", candidates.company_id.ids),
                    ("state", "in", ("enabled", "test")),
                ]
            )
        )
        for payment in candidates:
            for provider in providers.filtered(lambda p, c=payment.company_id: p.company_id == c):
                try:
                    settlement, transactions = provider._paytrail_find_settlement(
                        payment.reference_key or payment.reference
                    )
                except ValidationError as error:
                    # Paytrail out of reach: the payment waits in the queue as the matcher
                    # left it; a person can assign it. The bank day goes on.
                    _logger.info(
                        "Paytrail settlement look-up for %s failed: %s", payment.reference, error
                    )
                    continue
                if settlement:
                    try:
                        with self.env.cr.savepoint():
                            payment._membook_paytrail_clear(provider, settlement, transactions)
                    except (UserError, ValidationError) as error:
                        payment.match_reason = self.env._(
                            "Paytrail settlement %(ref)s could not be booked: %(error)s",
                            ref=payment.reference,
                            error=error,
                        )
                    break
        return result

    def _membook_paytrail_clear(self, provider, settlement, transactions):
        """Book this payout as Paytrail ``settlement`` of ``transactions``: its item moves to
        the transit account, the commission (what the transactions add up to, less the payout)
        is booked as an expense, and the transit items of the payments are reconciled with both.
        Anything that does not add up leaves the payout in the queue, with the reason."""
        self.ensure_one()
        reference = settlement.get("settlementReference") or self.reference
        # The transactions' payments are booked by post-processing, normally within minutes.
        transactions.filtered(lambda tx: not tx.is_post_processed)._post_process()
        gross = sum(paytrail.to_cents(tx.amount) for tx in transactions)
        net = paytrail.to_cents(self.amount)
        commission = gross - net
        outstanding = transactions.payment_id.outstanding_account_id
        transit_lines = transactions.payment_id.move_id.line_ids.filtered(
            lambda line: line.account_id in outstanding and not line.reconciled
        )
        transit = transit_lines.account_id
        reason = None
        if not transactions:
            reason = self.env._("Paytrail settlement %s holds none of our payments.", reference)
        elif commission < 0:
            reason = self.env._(
                "Paytrail settlement %(ref)s pays %(net)s, more than its payments' %(gross)s.",
                ref=reference,
                net=paytrail.from_cents(net),
                gross=paytrail.from_cents(gross),
            )
        elif len(transit) != 1 or paytrail.to_cents(sum(transit_lines.mapped("balance"))) != gross:
            reason = self.env._(
                "The payments of Paytrail settlement %s are not all open on one transit account.",
                reference,
            )
        elif commission and not provider.paytrail_commission_account_id:
            reason = self.env._("Set the commission account of the Paytrail provider.")
        if reason:
            self.match_reason = reason
            return False
        item = self.counterpart_line_id
        if not item:
            st_line = self.statement_line_id
            item = st_line.move_id.line_ids.filtered(
                lambda line: line.account_id == st_line.journal_id.suspense_account_id
            )
        item.write({"account_id": transit.id, "partner_id": False})
        to_reconcile = transit_lines | item
        commission_move = self.env["account.move"]
        date = self.booking_date or self.payment_date
        if commission:
            label = self.env._("Paytrail commission, settlement %s", reference)
            amount = float(paytrail.from_cents(commission))
            commission_move = self.env["account.move"].create(
                {
                    "move_type": "entry",
                    "journal_id": self._membook_paytrail_journal().id,
                    "date": date,
                    "ref": label,
                    "line_ids": [
                        Command.create(
                            {
                                "name": label,
                                "account_id": provider.paytrail_commission_account_id.id,
                                "debit": amount,
                            }
                        ),
                        Command.create({"name": label, "account_id": transit.id, "credit": amount}),
                    ],
                }
            )
            commission_move.action_post()
            to_reconcile |= commission_move.line_ids.filtered(
                lambda line: line.account_id == transit
            )
        to_reconcile.reconcile()
        transactions.paytrail_settlement_reference = reference
        self.write(
            {
                "state": "matched",
                "match_kind": "paytrail_settlement",
                "match_reason": self.env._(
                    "Paytrail settlement %(ref)s: %(count)s payments, %(gross)s less "
                    "%(commission)s commission.",
                    ref=reference,
                    count=len(transactions),
                    gross=paytrail.from_cents(gross),
                    commission=paytrail.from_cents(commission),
                ),
                "counterpart_line_id": item.id,
                "paytrail_transaction_ids": [Command.set(transactions.ids)],
                "paytrail_commission_move_id": commission_move.id,
                "invoice_ids": [Command.set(transactions.invoice_ids.ids)],
            }
        )
        return True

    def _membook_paytrail_journal(self):
        """The miscellaneous journal of the payout's company, for the commission entry."""
        return (
            self.env["account.journal"].search(
                [("type", "=", "general"), ("company_id", "=", self.company_id.id)], limit=1
            )
            or self.journal_id
        )
