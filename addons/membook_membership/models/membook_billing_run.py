# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import uuid
from datetime import timedelta

import psycopg2

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools.safe_eval import safe_eval

from .account_move import FeeLineAmountMismatch
from .batching import analyze_when_stale, lock_next_batch, wake_every_copy
from .registry_checks import fast_paths_off

_logger = logging.getLogger(__name__)

DEFAULT_MEMBER_DOMAIN = "[('is_member', '=', True), ('member_leave_date', '=', False)]"


class MembookBillingRun(models.Model):
    """Bill a set of members for a period: one invoice per member, one line per fee product.

    Starting a run records one line per member to bill; the scheduled action then creates and
    posts the invoices in batches, committing each batch, and e-mails them with their portal
    link. A member already billed for a product and period (by this or another run) is never
    billed again for it, so a run can be stopped and started again, or repeated, safely.
    """

    _name = "membook.billing.run"
    _description = "Billing run"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    state = fields.Selection(
        [("draft", "Draft"), ("running", "Running"), ("done", "Done"), ("cancel", "Cancelled")],
        string="Status",
        default="draft",
        required=True,
        tracking=True,
        index=True,
    )
    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        check_company=True,
        domain="[('type', '=', 'sale')]",
        default=lambda self: self.env["account.journal"].search(
            [
                ("type", "=", "sale"),
                *self.env["account.journal"]._check_company_domain(self.env.company),
            ],
            limit=1,
        ),
        help="Its reference model gives the payment references (Finnish, RF, KID...).",
    )
    invoice_date = fields.Date(required=True, default=fields.Date.context_today)
    due_days = fields.Integer(string="Days to pay", default=14, required=True)
    period_key = fields.Char(
        string="Period",
        required=True,
        default=lambda self: str(fields.Date.context_today(self).year),
        help="A member is billed once per product and period, e.g. 2026 or 2026-H1.",
    )
    product_ids = fields.Many2many(
        "product.product",
        string="Fee products",
        required=True,
        domain="[('membership', '=', True)]",
        check_company=True,
    )
    organisation_ids = fields.Many2many(
        "membook.organisation",
        string="Organisations",
        check_company=True,
        help="Bill the members of these organisations and of their sub-organisations; "
        "empty for all.",
    )
    member_domain = fields.Char(
        string="Member filter", default=DEFAULT_MEMBER_DOMAIN, required=True
    )
    send_email = fields.Boolean(string="E-mail invoices", default=True)
    line_ids = fields.One2many("membook.billing.run.line", "run_id", string="Members")
    preview_member_count = fields.Integer(readonly=True)
    preview_skipped_count = fields.Integer(
        string="Already billed", readonly=True, help="Members billed for every product already."
    )
    preview_amount = fields.Monetary(string="Preview total", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    line_count = fields.Integer(compute="_compute_counts")
    invoiced_count = fields.Integer(compute="_compute_counts")
    sent_count = fields.Integer(compute="_compute_counts")
    no_email_count = fields.Integer(compute="_compute_counts")
    failed_count = fields.Integer(compute="_compute_counts")
    progress = fields.Float(compute="_compute_counts")
    fast_path_note = fields.Char(
        string="Invoice copies",
        compute="_compute_fast_path_note",
        help="Empty while invoices of members of one shape are copied in SQL; otherwise why "
        "Odoo made them one by one.",
    )

    @api.depends("line_ids.state")
    def _compute_counts(self):
        counts = {
            (run, state): count
            for run, state, count in self.env["membook.billing.run.line"]._read_group(
                [("run_id", "in", self.ids)], ["run_id", "state"], ["__count"]
            )
        }
        for run in self:
            total = sum(count for (r, _state), count in counts.items() if r == run)
            run.line_count = total
            run.sent_count = counts.get((run, "sent"), 0)
            run.no_email_count = counts.get((run, "no_email"), 0)
            run.failed_count = counts.get((run, "failed"), 0)
            run.invoiced_count = (
                counts.get((run, "invoiced"), 0) + run.sent_count + run.no_email_count
            )
            run.progress = 100.0 * (total - counts.get((run, "pending"), 0)) / total if total else 0

    # ------------------------------------------------------------------
    # Selection and preview
    # ------------------------------------------------------------------
    def _member_search_domain(self):
        self.ensure_one()
        domain = Domain(safe_eval(self.member_domain or "[]"))
        domain &= Domain("company_id", "in", [self.company_id.id, False])
        if self.organisation_ids:
            domain &= Domain("member_organisation_id", "child_of", self.organisation_ids.ids)
        return domain

    def _billed_pairs(self, partner_ids):
        """(partner id, product id) already billed for this run's period and products."""
        if not partner_ids:
            return set()
        rows = self.env["account.move.line"]._read_group(
            [
                ("membook_period_key", "=", self.period_key),
                ("product_id", "in", self.product_ids.ids),
                ("partner_id", "in", list(partner_ids)),
                ("parent_state", "!=", "cancel"),
            ],
            ["partner_id", "product_id"],
        )
        return {(partner.id, product.id) for partner, product in rows}

    def _to_bill(self, partner_ids):
        """{partner id: products still to bill} for the given members."""
        billed = self._billed_pairs(partner_ids)
        result = {}
        for partner_id in partner_ids:
            products = self.product_ids.filtered(
                lambda p, pid=partner_id: (pid, p.id) not in billed
            )
            if products:
                result[partner_id] = products
        return result

    def _fee_line_amounts(self):
        """{product id: booked amounts} of this run's fee lines, known before their invoices.

        Odoo books an invoice line (its balance) after creating it, writing every line again,
        which costs more than creating it. A fee line without taxes in the company currency
        books its price as Odoo's tax engine rounds it: given at creation, Odoo keeps it, and
        _create_invoices checks it against Odoo's own subtotal. Fees with taxes, or billed in
        another currency, are left to Odoo.
        """
        self.ensure_one()
        company = self.company_id
        currency = self.journal_id.currency_id or company.currency_id
        if currency != company.currency_id:
            return {}
        AccountTax = self.env["account.tax"]
        amounts = {}
        # The product's taxes in this company, as Odoo picks them for an invoice line: a
        # product shared between companies holds each one's default taxes.
        for product in self.product_ids.filtered(
            lambda p: not p.taxes_id._filter_taxes_by_company(company)
        ):
            base_line = AccountTax._prepare_base_line_for_taxes_computation(
                None,
                product_id=product,
                price_unit=product.lst_price,
                quantity=1.0,
                currency_id=currency,
                tax_ids=AccountTax,
            )
            AccountTax._add_tax_details_in_base_line(base_line, company)
            AccountTax._round_base_lines_tax_details([base_line], company)
            details = base_line["tax_details"]
            # A customer invoice credits its income lines: negative amounts.
            amounts[product.id] = {
                "amount_currency": -details["total_excluded_currency"],
                "balance": -details["total_excluded"],
            }
        return amounts

    def action_preview(self):
        for run in self:
            run._check_ready()
            partner_ids = self.env["res.partner"].search(run._member_search_domain()).ids
            to_bill = run._to_bill(partner_ids)
            run.write(
                {
                    "preview_member_count": len(to_bill),
                    "preview_skipped_count": len(partner_ids) - len(to_bill),
                    "preview_amount": sum(
                        sum(products.mapped("lst_price")) for products in to_bill.values()
                    ),
                }
            )
        return True

    def _check_ready(self):
        for run in self:
            if not run.product_ids:
                raise UserError(self.env._("Choose at least one fee product."))
            if run.due_days < 0:
                raise UserError(self.env._("Days to pay cannot be negative."))

    # ------------------------------------------------------------------
    # Running
    # ------------------------------------------------------------------
    def action_start(self):
        """Record the members to bill and let the scheduled action do the work."""
        for run in self.filtered(lambda r: r.state == "draft"):
            run._check_ready()
            partner_ids = self.env["res.partner"].search(run._member_search_domain()).ids
            to_bill = run._to_bill(partner_ids)
            if not to_bill:
                raise UserError(self.env._("Every selected member is already billed."))
            self.env["membook.billing.run.line"].create(
                [{"run_id": run.id, "partner_id": partner_id} for partner_id in to_bill]
            )
            run.state = "running"
        wake_every_copy(self.env, "membook_membership.ir_cron_membook_billing_run")
        return True

    @api.depends("line_ids.fast_path_note")
    def _compute_fast_path_note(self):
        # Kept on the lines, which the worker that invoices them holds: copies of the scheduled
        # action writing the run itself would conflict.
        notes = dict(
            self.env["membook.billing.run.line"]._read_group(
                [("run_id", "in", self.ids), ("fast_path_note", "!=", False)],
                ["run_id"],
                ["fast_path_note:max"],
            )
        )
        for run in self:
            run.fast_path_note = notes.get(run, False)

    def action_cancel(self):
        self.filtered(lambda r: r.state in ("draft", "running")).write({"state": "cancel"})
        self.line_ids.filtered(lambda line: line.state == "pending").unlink()
        return True

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice")
        action["domain"] = [("membook_billing_run_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    @api.model
    def _cron_process(self, batch_size=None):
        """Invoice and e-mail the members of running runs, one committed batch at a time.

        Invoicing and e-mailing take turns, a batch each: invoicing holds the journal's
        numbering from posting until commit, so that a second copy of this action (see
        CONFIGURE) e-mails while the first invoices instead of waiting for it.
        """
        Line = self.env["membook.billing.run.line"]
        Cron = self.env["ir.cron"]
        batch_size = batch_size or int(
            self.env["ir.config_parameter"].sudo().get_param("membook.billing_batch_size", 200)
        )
        running = [("run_id.state", "=", "running")]
        to_send = [*running, ("run_id.send_email", "=", True)]
        steps = (
            ("invoice", [*running, ("state", "=", "pending")]),
            ("send", [*to_send, ("state", "=", "invoiced")]),
        )
        Cron._commit_progress(
            remaining=Line.search_count(steps[0][1])
            + Line.search_count([*to_send, ("state", "in", ("pending", "invoiced"))])
        )
        worked = True
        while worked:
            worked = False
            for step, domain in steps:
                # Statistics of the lines the run just recorded, and of the invoices it adds.
                analyze_when_stale(self.env, "membook_billing_run_line")
                if step == "invoice":
                    analyze_when_stale(self.env, "account_move")
                lines = lock_next_batch(Line, domain, batch_size)
                if not lines:
                    continue
                worked = True
                done = lines._invoice() if step == "invoice" else lines._send()
                if not Cron._commit_progress(done):
                    return
        running = self.search([("state", "=", "running")])
        for run in running:
            if not Line.search_count(
                [("run_id", "=", run.id), ("state", "in", ("pending", "invoiced"))]
                if run.send_email
                else [("run_id", "=", run.id), ("state", "=", "pending")]
            ):
                run.state = "done"
        Cron._commit_progress()


def _without_fee_line_amounts(vals_list):
    return [
        {
            **vals,
            "invoice_line_ids": [
                Command.create(
                    {
                        key: value
                        for key, value in line_vals.items()
                        if key not in ("amount_currency", "balance")
                    }
                )
                for _command, _id, line_vals in vals["invoice_line_ids"]
            ],
        }
        for vals in vals_list
    ]


class MembookBillingRunLine(models.Model):
    _name = "membook.billing.run.line"
    _description = "Member of a billing run"
    _order = "run_id, id"

    run_id = fields.Many2one("membook.billing.run", required=True, ondelete="cascade", index=True)
    partner_id = fields.Many2one("res.partner", string="Member", required=True, index=True)
    email = fields.Char(related="partner_id.email")
    move_id = fields.Many2one("account.move", string="Invoice", index="btree_not_null")
    amount_total = fields.Monetary(related="move_id.amount_total")
    currency_id = fields.Many2one(related="move_id.currency_id")
    state = fields.Selection(
        [
            ("pending", "To invoice"),
            ("invoiced", "Invoiced"),
            ("sent", "Sent"),
            ("no_email", "No e-mail address"),
            ("skipped", "Already billed"),
            ("failed", "Failed"),
        ],
        string="Status",
        default="pending",
        required=True,
        index=True,
    )
    message = fields.Char()
    fast_path_note = fields.Char(
        string="Made by Odoo", readonly=True, help="Why Odoo made this invoice, not a copy."
    )

    _run_partner_uniq = models.UniqueIndex(
        "(run_id, partner_id)", "A member appears once in a billing run."
    )
    # The scheduled action takes the next lines to invoice or e-mail in id order: without this,
    # it would read past every line already done, more at each batch of a large run.
    _todo_idx = models.Index("(state, id) WHERE state IN ('pending', 'invoiced')")

    def _invoice_vals(self, products, amounts=None):
        """Values of this member's invoice; ``amounts`` (from the run's _fee_line_amounts) gives
        the booked amount of the fee lines Odoo would otherwise book after creating them."""
        self.ensure_one()
        run = self.run_id
        amounts = amounts or {}
        return {
            "move_type": "out_invoice",
            "partner_id": self.partner_id.id,
            "company_id": run.company_id.id,
            "journal_id": run.journal_id.id,
            "invoice_date": run.invoice_date,
            "invoice_date_due": run.invoice_date + timedelta(days=run.due_days),
            "invoice_origin": run.name,
            "membook_billing_run_id": run.id,
            # The portal link e-mailed with the invoice needs a token: Odoo would write it on
            # rendering the mail, one invoice at a time, each write resynchronising the invoice.
            "access_token": str(uuid.uuid4()),
            "invoice_line_ids": [
                Command.create(
                    {
                        "product_id": product.id,
                        "quantity": 1.0,
                        "price_unit": product.lst_price,
                        "membook_period_key": run.period_key,
                        **amounts.get(product.id, {}),
                    }
                )
                for product in products
            ],
        }

    def _invoice(self):
        """Create and post the invoices of these lines; returns how many lines were handled.

        The batch is posted in one go; when that fails, each member is tried alone so that one
        bad record (say, a product without an income account) marks its line failed with the
        reason instead of stopping the run.
        """
        todo = []
        for run, lines in self.grouped("run_id").items():
            to_bill = run._to_bill(lines.partner_id.ids)
            amounts = run._fee_line_amounts()
            for line in lines:
                if products := to_bill.get(line.partner_id.id):
                    todo.append((line, line._invoice_vals(products, amounts)))
                else:
                    line.write({"state": "skipped", "message": self.env._("Already billed.")})
        try:
            with self.env.cr.savepoint():
                self._create_invoices(todo)
        except (UserError, ValidationError):
            for item in todo:
                try:
                    with self.env.cr.savepoint():
                        self._create_invoices([item])
                except (UserError, ValidationError) as error:
                    item[0].write({"state": "failed", "message": str(error)[:500]})
        return len(self)

    def _create_invoices(self, todo):
        """Make the invoices of ``todo`` ([(line, invoice values)]), posted, and link them.

        Odoo makes one invoice per shape of member (see _copy_shape); the other members of
        that shape get a copy of it, written in SQL as Odoo wrote it (account.move's
        _membook_copy_invoices), which costs a fraction of Odoo making each. Invoices that
        cannot be copied are made by Odoo.
        """
        notes = []
        groups = self._copy_groups(todo, notes)
        made = list(
            zip(groups, self._create_with_odoo([first for first, _rest in groups]), strict=True)
        )
        done = []
        for (first, rest), move in made:
            done.append((first[0], move))
            if not rest:
                continue
            copies = None
            if refused := move._membook_copy_check():
                _logger.info("Billing run: Odoo makes each invoice like %s: %s", move.name, refused)
            else:
                # Not a flushing savepoint: that would run the precommit hooks, which forget the
                # numbers this transaction holds (the copies go on from them).
                self.env.flush_all()
                try:
                    with self.env.cr.savepoint(flush=False):
                        copies = move._membook_copy_invoices(
                            self.env["res.partner"].browse(
                                [vals["partner_id"] for _line, vals in rest]
                            ),
                            [vals["access_token"] for _line, vals in rest],
                        )
                except (psycopg2.Error, LookupError, TypeError, ValueError, AttributeError) as exc:
                    # Not expected: the copy is undone to its savepoint and Odoo makes these
                    # invoices, so that the batch completes instead of failing on every run.
                    _logger.warning(
                        "Billing run: copying %s failed, Odoo makes these invoices: %r",
                        move.name,
                        exc,
                    )
                    # Forget what the undone copy left in memory, its numbers included: Odoo
                    # numbers the next invoice from the database.
                    self.env.transaction.clear()
                    move._get_sequence_cache().clear()
                    notes.append(
                        self.env._("Copying an invoice failed (%s): Odoo made them.", repr(exc))
                    )
                    copies = None
            if copies is None:
                copies = self._create_with_odoo(rest)
            done += [(line, copy) for (line, _vals), copy in zip(rest, copies, strict=True)]
        lines = self.browse([line.id for line, _move in done])
        lines.write(
            {"state": "invoiced", "message": False, "fast_path_note": notes[-1] if notes else False}
        )
        # Each line its own invoice: one statement for the batch, not one write per line.
        lines.flush_recordset()
        self.env.cr.execute_values(
            "UPDATE membook_billing_run_line l SET move_id = v.move"
            " FROM (VALUES %s) AS v(id, move) WHERE l.id = v.id",
            [(line.id, move.id) for line, move in done],
            page_size=1000,
        )
        lines.invalidate_recordset(["move_id"])

    def _copy_groups(self, todo, notes):
        """[(first item, [items to copy its invoice to])] of ``todo``: members of one shape
        (see _copy_shape) after the first; every item alone when no copy can be made, and
        why added to ``notes``."""
        if len(todo) < 2:
            return [(item, []) for item in todo]
        blocker = fast_paths_off(self.env) or self.env["account.move"]._membook_copy_blocker()
        if blocker:
            _logger.info("Billing run: Odoo makes every invoice: %s", blocker)
            notes.append(self.env._("Odoo made every invoice: %s.", blocker))
            return [(item, []) for item in todo]
        groups = {}
        fiscal = {}
        for item in todo:
            line, vals = item
            shape = line._copy_shape(vals, fiscal)
            if shape is None:
                groups[("alone", line.id)] = [item]
            else:
                groups.setdefault(shape, []).append(item)
        return [(items[0], items[1:]) for items in groups.values()]

    def _copy_shape(self, vals, fiscal):
        """What this member's invoice (of ``vals``) depends on besides the member: members of
        one shape get the same invoice but for the member, its number, reference and portal
        token. None for a member whose invoice Odoo makes itself: a contact of a company, or a
        member with contacts (the invoice's commercial partner or delivery address differ), or
        one the run cannot give the fee amounts of (taxes, another currency). ``fiscal`` caches
        the automatic fiscal positions by company."""
        self.ensure_one()
        run = self.run_id
        company = run.company_id
        partner = self.partner_id.with_company(company)
        if partner.parent_id or partner.child_ids:
            return None
        products = tuple(command[2]["product_id"] for command in vals["invoice_line_ids"])
        if not all("balance" in command[2] for command in vals["invoice_line_ids"]):
            return None
        if company.id not in fiscal:
            Position = self.env["account.fiscal.position"].with_company(company)
            fiscal[company.id] = Position.search(
                [*Position._check_company_domain(company), ("auto_apply", "=", True)]
            )
        # Without automatic fiscal positions, Odoo gives the member's own (or none).
        position = (
            self.env["account.fiscal.position"]
            .with_company(company)
            ._get_fiscal_position(partner)
            .id
            if fiscal[company.id]
            else partner.property_account_position_id.id
        )
        return (
            run.id,
            products,
            position,
            partner.lang,
            partner.user_id.id,
            partner.company_id.id,
            partner.property_payment_term_id.id,
            partner.property_account_receivable_id.id,
            partner.property_inbound_payment_method_line_id.id,
            tuple(partner.category_id.ids),
        )

    def _create_with_odoo(self, todo):
        """Create and post the invoices of ``todo`` through Odoo; return them in that order."""
        if not todo:
            return self.env["account.move"]
        Move = self.env["account.move"].with_context(
            tracking_disable=True,
            mail_create_nolog=True,
            mail_notrack=True,
            membook_defer_membership_lines=True,
        )
        vals_list = [vals for _line, vals in todo]
        try:
            with self.env.cr.savepoint():
                moves = Move.create(vals_list)
                moves._membook_check_fee_line_amounts()
        except FeeLineAmountMismatch:
            # Never expected: book the lines the standard way rather than trust our amounts.
            moves = Move.create(_without_fee_line_amounts(vals_list))
        moves = moves.with_context(membook_defer_membership_lines=False)
        moves.invoice_line_ids._membook_create_membership_lines()
        moves._post(soft=False)
        return moves.with_env(self.env)

    def _send(self):
        template = self.env.ref("membook_membership.mail_template_membership_invoice")
        with_email = self.filtered(lambda line: line.partner_id.email)
        (self - with_email).write({"state": "no_email"})
        if with_email:
            template.send_mail_batch(with_email.move_id.ids)
            with_email.move_id._membook_mark_sent()
            with_email.write({"state": "sent"})
        return len(self)
