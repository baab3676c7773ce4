# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from nordic_billing import procountor_invoices
from nordic_billing.procountor import PARTLY_PAID_STATUS, is_paid


class AccountMove(models.Model):
    _inherit = "account.move"

    procountor_backend_id = fields.Many2one(
        "procountor.backend",
        string="Procountor connection",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    procountor_invoice_id = fields.Integer(string="Procountor invoice", readonly=True, copy=False)
    procountor_status = fields.Char(string="Procountor status", readonly=True, copy=False)
    procountor_paid_amount = fields.Monetary(
        string="Paid in Procountor",
        readonly=True,
        copy=False,
        help="Sum of Procountor's payment events registered on this invoice so far.",
    )
    procountor_exchange_count = fields.Integer(compute="_compute_procountor_exchange_count")
    procountor_can_send = fields.Boolean(
        compute="_compute_procountor_can_send",
        help="Whether the invoice's company has a Procountor connection to send it through.",
    )

    @api.depends("company_id")
    @api.depends_context("uid")
    def _compute_procountor_can_send(self):
        # Whoever may send an invoice need not read the connection's settings.
        Backend = self.env["procountor.backend"].sudo()
        companies = set(Backend.search([("company_id", "in", self.company_id.ids)]).company_id.ids)
        for move in self:
            move.procountor_can_send = move.company_id.id in companies

    def _compute_procountor_exchange_count(self):
        counts = dict(
            self.env["procountor.exchange"]._read_group(
                [("res_model", "=", "account.move"), ("res_id", "in", self.ids)],
                ["res_id"],
                ["__count"],
            )
        )
        for move in self:
            move.procountor_exchange_count = counts.get(move.id, 0)

    # ------------------------------------------------------------------
    # Transfer
    # ------------------------------------------------------------------
    def _procountor_party(self):
        self.ensure_one()
        partner = self.commercial_partner_id
        return procountor_invoices.Party(
            name=partner.name or "",
            customer_number=partner.procountor_customer_number or "",
            email=self.partner_id.email or partner.email or "",
            street=" ".join(filter(None, (partner.street, partner.street2))),
            zip=partner.zip or "",
            city=partner.city or "",
            country=partner.country_id.code or "",
            einvoice_address=partner.procountor_einvoice_address or "",
            einvoice_operator=partner.procountor_einvoice_operator or "",
            language=partner.lang or "",
        )

    def _procountor_lines(self):
        self.ensure_one()
        lines = []
        for line in self.invoice_line_ids.filtered(lambda aml: aml.display_type == "product"):
            taxes = line.tax_ids
            if taxes.filtered(lambda t: t.amount_type != "percent" or t.price_include):
                raise UserError(
                    self.env._(
                        "%s: only percentage taxes excluded from the price can be sent to "
                        "Procountor.",
                        self.name,
                    )
                )
            vat = Decimal(str(sum(taxes.mapped("amount"))))
            template = line.product_id.product_tmpl_id
            lines.append(
                procountor_invoices.InvoiceLine(
                    product=(line.name or line.product_id.name or "").split("\n")[0],
                    quantity=Decimal(str(line.quantity)),
                    unit_price=Decimal(str(line.price_unit)),
                    vat_percent=vat,
                    vat_status=(template.procountor_vat_status or None) if not vat else None,
                    discount_percent=Decimal(str(line.discount)),
                    product_code=line.product_id.default_code or "",
                )
            )
        return lines

    def _procountor_problem_text(self, problem):
        """A problem of the core's ``invoice_problems``, in the user's language."""
        code = problem.code
        if code == "no_address":
            channel, *missing = problem.detail
            labels = {
                "street": self.env._("street"),
                "zip": self.env._("postal code"),
                "city": self.env._("city"),
            }
            channels = dict(
                self.env["res.partner"]
                ._fields["procountor_invoice_channel"]
                ._description_selection(self.env)
            )
            return self.env._(
                "the %(channel)s channel needs the address (%(missing)s)",
                channel=channels.get(channel, channel),
                missing=", ".join(labels.get(part, part) for part in missing),
            )
        texts = {
            "no_name": self.env._("the customer has no name"),
            "bad_number": self.env._("the invoice number must have 1 to 40 characters"),
            "no_email": self.env._("the e-mail channel needs an e-mail address"),
            "no_einvoice_address": self.env._("an e-invoice needs the e-invoice address"),
            "no_einvoice_operator": self.env._(
                "an e-invoice needs the operator (intermediator) code"
            ),
        }
        return texts.get(code, str(problem))

    def _procountor_invoice_payload(self):
        """The ``POST /invoices`` payload; raises ``UserError`` saying what is missing."""
        self.ensure_one()
        partner = self.commercial_partner_id
        channel = partner.procountor_invoice_channel
        if not channel:
            raise UserError(
                self.env._(
                    "%(invoice)s: %(partner)s has no invoicing channel.",
                    invoice=self.name,
                    partner=partner.display_name,
                )
            )
        party = self._procountor_party()
        lines = self._procountor_lines()
        due_date = self.invoice_date_due or self.invoice_date
        problems = [
            self._procountor_problem_text(problem)
            for problem in procountor_invoices.invoice_problems(channel, party, self.name)
        ]
        if not lines:
            problems.append(self.env._("the invoice has no lines"))
        if due_date < self.invoice_date:
            problems.append(self.env._("the due date is before the invoice date"))
        if problems:
            raise UserError(
                self.env._(
                    "%(invoice)s cannot be sent: %(problems)s",
                    invoice=self.name,
                    problems="; ".join(problems),
                )
            )
        return procountor_invoices.build_sales_invoice(
            number=self.name,
            invoice_date=self.invoice_date,
            due_date=due_date,
            party=party,
            lines=lines,
            channel=channel,
            currency=self.currency_id.name,
            reference=self.payment_reference or "",
        )

    def action_procountor_transfer(self):
        """Queue the chosen invoices for Procountor to create, approve and send by channel."""
        invoices = self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        if not invoices:
            raise UserError(self.env._("Choose posted customer invoices to send via Procountor."))
        Exchange = self.env["procountor.exchange"]
        Backend = self.env["procountor.backend"]
        problems = []
        vals_list = []
        for company, moves in invoices.grouped("company_id").items():
            backend = Backend._procountor_for(company)
            if not backend:
                raise UserError(
                    self.env._("%s has no active Procountor connection.", company.display_name)
                )
            backend._procountor_require("access_invoices")
            queued = set(
                Exchange.search(
                    [
                        ("backend_id", "=", backend.id),
                        ("kind", "=", "invoice"),
                        ("res_model", "=", "account.move"),
                        ("res_id", "in", moves.ids),
                    ]
                ).mapped("res_id")
            )
            for move in moves.filtered(lambda m, queued=queued: m.id not in queued):
                try:
                    payload = move._procountor_invoice_payload()
                except UserError as error:
                    problems.append(error.args[0])
                    continue
                vals_list.append(
                    {
                        "backend_id": backend.id,
                        "kind": "invoice",
                        "external_key": move.name,
                        "res_model": "account.move",
                        "res_id": move.id,
                        "payload": Exchange._procountor_dump(payload),
                    }
                )
        if problems:
            raise UserError("\n".join(problems))
        exchanges = Exchange.create(vals_list)
        if exchanges:
            self.env["ir.cron"]._wake_every_copy_of("procountor_connector.ir_cron_procountor_push")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Procountor"),
                "message": self.env._(
                    "%s invoice(s) queued for Procountor; the others were queued already.",
                    len(exchanges),
                ),
                "type": "success",
            },
        }

    def action_view_procountor_exchanges(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "procountor_connector.procountor_exchange_action"
        )
        action["domain"] = [("res_model", "=", "account.move"), ("res_id", "in", self.ids)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------
    # Paid status
    # ------------------------------------------------------------------
    def _procountor_register_payment(self, amount, date, journal):
        """Register ``amount`` (capped at what is open) paid on ``date`` into ``journal``."""
        self.ensure_one()
        amount = min(amount, self.amount_residual)
        if self.currency_id.compare_amounts(amount, 0) <= 0:
            return self.env["account.payment"]
        return (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=self.ids)
            .create(
                {
                    "payment_date": date,
                    "journal_id": journal.id,
                    "amount": amount,
                    "payment_difference_handling": "open",
                    "communication": self.env._("Paid in Procountor: %s", self.name),
                }
            )
            ._create_payments()
        )

    def _procountor_follow_status(self, client, status, backend):
        """Take Procountor's ``status``; register payments its events show and we lack."""
        self.ensure_one()
        self.procountor_status = status
        if not (is_paid(status) or status == PARTLY_PAID_STATUS):
            return
        journal = backend.payment_journal_id
        if not journal:
            return
        events = client.get_invoice_payment_events(self.procountor_invoice_id)
        total = procountor_invoices.paid_amount(events)
        if is_paid(status) and not total:  # marked paid in Procountor without a payment event
            total = Decimal(str(self.amount_total))
        new = float(total) - self.procountor_paid_amount
        if self.currency_id.compare_amounts(new, 0) <= 0:
            return
        day = procountor_invoices.last_payment_date(events) or fields.Date.context_today(self)
        self._procountor_register_payment(new, day, journal)
        self.procountor_paid_amount = float(total)
