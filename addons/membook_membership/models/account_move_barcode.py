# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from markupsafe import Markup

from odoo import api, fields, models

from nordic_billing.barcode import BarcodeError, virtual_barcode
from nordic_billing.money import to_decimal


class AccountMove(models.Model):
    """The Finnish bank barcode of a customer invoice, for the PDF and the fee invoice e-mail."""

    _inherit = "account.move"

    membook_virtual_barcode = fields.Char(
        string="Virtual barcode",
        compute="_compute_membook_virtual_barcode",
        # Whoever may read the invoice may read its barcode (a member on the portal cannot read
        # the company's bank accounts).
        compute_sudo=True,
        help="The Finnish bank barcode of the amount still due (virtuaaliviivakoodi): the "
        "company's Finnish IBAN, the amount, the reference and the due date in 54 digits that the "
        "member copies into, or scans with, their bank's app.",
    )
    membook_virtual_barcode_issue = fields.Char(
        string="No virtual barcode",
        compute="_compute_membook_virtual_barcode",
        compute_sudo=True,
        help="Why this open invoice carries no virtual barcode.",
    )
    # The barcode paragraph of the fee invoice e-mail (empty when there is none), in the language
    # it is rendered in: a placeholder, see mail_allowed_qweb_expressions.
    membook_mail_barcode = fields.Html(
        string="E-mail virtual barcode", compute="_compute_membook_mail_barcode", sanitize=False
    )

    @api.depends(
        "move_type",
        "state",
        "partner_bank_id.acc_number",
        "amount_residual",
        "currency_id",
        "payment_reference",
        "invoice_date_due",
    )
    def _compute_membook_virtual_barcode(self):
        for move in self:
            move.membook_virtual_barcode = move.membook_virtual_barcode_issue = False
            if (
                move.move_type != "out_invoice"
                or move.state != "posted"
                or move.currency_id.is_zero(move.amount_residual)
            ):
                continue
            if not move.partner_bank_id:
                move.membook_virtual_barcode_issue = self.env._(
                    "The invoice has no bank account to be paid to."
                )
                continue
            try:
                barcode = virtual_barcode(
                    move.partner_bank_id.sanitized_acc_number,
                    # Odoo's amounts are floats rounded to the currency: exact in cents here.
                    to_decimal(move.amount_residual),
                    move.payment_reference or "",
                    move.invoice_date_due,
                    currency=move.currency_id.name,
                )
            except BarcodeError as error:
                move.membook_virtual_barcode_issue = str(error)
            else:
                move.membook_virtual_barcode = barcode.code

    @api.depends_context("lang")
    @api.depends("membook_virtual_barcode")
    def _compute_membook_mail_barcode(self):
        for move in self:
            move.membook_mail_barcode = (
                Markup(
                    '<p>%s<br/><strong style="font-family: monospace; letter-spacing: 1px;">'
                    "%s</strong></p>"
                )
                % (
                    self.env._("Virtual barcode, to copy into your bank's barcode payment:"),
                    move.membook_virtual_barcode,
                )
                if move.membook_virtual_barcode
                else False
            )

    def mail_allowed_qweb_expressions(self):
        return (*super().mail_allowed_qweb_expressions(), "object.membook_mail_barcode")
