# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import logging
from datetime import timedelta
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain

from nordic_billing import outbox
from nordic_billing.procountor import ProcountorError, ProcountorPermissionError

_logger = logging.getLogger(__name__)

# A worker that took an exchange owns it this long; after that it is due again (the worker
# died), and the next push looks the object up by our key before creating it.
SENDING_LEASE = timedelta(minutes=15)
# Which access field a refusal (403) to create each kind switches off. A 403 on an approve or a
# send may only mean the object's state forbids it, and switches nothing off.
KIND_ACCESS = {
    "voucher": ("access_vouchers", "/ledgerreceipts"),
    "invoice": ("access_invoices", "/invoices"),
}


class ProcountorExchange(models.Model):
    """One push to Procountor (an outbox entry): a memo voucher, an invoice, an invoice sending.

    States: ``new`` waits for the push; ``sending`` is taken by a worker; ``done`` is in
    Procountor (``remote_id``); ``error`` failed, with Procountor's field and code when it
    refused the data, and is tried again by itself only when trying again may help
    (``retryable``, at ``next_try``, with exponential backoff); ``unknown`` was sent but no
    answer came, and is resolved by looking the object up by ``external_key`` before any resend.
    The payload is kept as sent. Every push ends by writing the state, whatever happens.
    """

    _name = "procountor.exchange"
    _description = "Procountor exchange"
    _order = "id desc"
    _rec_name = "external_key"
    _check_company_auto = True

    backend_id = fields.Many2one(
        "procountor.backend",
        string="Connection",
        required=True,
        ondelete="restrict",
        index=True,
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    kind = fields.Selection(
        [("voucher", "Memo voucher"), ("invoice", "Invoice"), ("invoice_send", "Invoice sending")],
        required=True,
        readonly=True,
    )
    state = fields.Selection(
        [
            ("new", "To send"),
            ("sending", "Sending"),
            ("done", "Done"),
            ("error", "Error"),
            ("unknown", "Outcome unknown"),
        ],
        default="new",
        required=True,
        readonly=True,
        index=True,
    )
    external_key = fields.Char(
        string="Our key",
        required=True,
        readonly=True,
        help="Unique per connection and kind: the voucher name or our invoice number, by which "
        "Procountor is searched before anything is sent again.",
    )
    res_model = fields.Char(string="Source model", readonly=True, index=True)
    res_id = fields.Many2oneReference(
        string="Source", model_field="res_model", readonly=True, index=True
    )
    source_name = fields.Char(string="Source record", compute="_compute_source_name")
    parent_id = fields.Many2one(
        "procountor.exchange", string="Follows", readonly=True, index="btree_not_null"
    )
    organisation_id = fields.Many2one(
        "membook.organisation", readonly=True, index="btree_not_null", check_company=True
    )
    period_key = fields.Char(string="Week", readonly=True)
    date_from = fields.Date(readonly=True)
    date_to = fields.Date(readonly=True)
    # The payload holds customer data (names, addresses, amounts): kept for system
    # administrators, shown to whoever may read the source document (``payload_shown``).
    payload = fields.Text(
        string="Payload as stored",
        readonly=True,
        groups="base.group_system",
        help="The JSON body sent to Procountor.",
    )
    payload_shown = fields.Text(
        string="Payload",
        compute="_compute_payload_shown",
        help="The JSON body sent to Procountor, for whoever may read the source document.",
    )
    has_payload = fields.Boolean(compute="_compute_payload_shown")
    remote_id = fields.Integer(string="Procountor id", readonly=True)
    remote_status = fields.Char(string="Procountor status", readonly=True)
    error_message = fields.Text(string="Error", readonly=True)
    error_field = fields.Char(string="Field at fault", readonly=True)
    error_code = fields.Char(string="Procountor code", readonly=True)
    attempts = fields.Integer(readonly=True)
    last_try = fields.Datetime(readonly=True)
    next_try = fields.Datetime(readonly=True, index=True)
    retryable = fields.Boolean(
        readonly=True, help="Tried again by the scheduled action at the next try time."
    )
    line_ids = fields.One2many(
        "procountor.voucher.line", "exchange_id", string="Voucher rows", readonly=True
    )
    allocation_count = fields.Integer(string="Allocations", compute="_compute_trail_counts")
    settlement_count = fields.Integer(string="Settlements", compute="_compute_trail_counts")

    _external_key_uniq = models.UniqueIndex(
        "(backend_id, kind, external_key)",
        "This voucher or invoice is in the Procountor outbox already.",
    )
    _voucher_week_uniq = models.UniqueIndex(
        "(backend_id, kind, organisation_id, period_key) WHERE period_key IS NOT NULL",
        "An organisation has one memo voucher per week.",
    )

    @api.depends("res_model", "res_id")
    def _compute_source_name(self):
        for exchange in self:
            record = exchange._source()
            exchange.source_name = record.sudo().display_name if record else False

    def _allocation_domain(self):
        return [("procountor_voucher_line_ids.exchange_id", "in", self.ids)]

    def _settlement_domain(self):
        """Settlements this voucher books the payout of, or whose allocations it books."""
        return [
            "|",
            ("procountor_voucher_line_ids.exchange_id", "in", self.ids),
            ("allocation_ids.procountor_voucher_line_ids.exchange_id", "in", self.ids),
        ]

    def _compute_trail_counts(self):
        vouchers = self.filtered(lambda e: e.kind == "voucher" and e.id)
        (self - vouchers).update({"allocation_count": 0, "settlement_count": 0})
        Allocation = self.env["membook.allocation"]
        Settlement = self.env["membook.settlement"]
        for exchange in vouchers:
            exchange.allocation_count = Allocation.search_count(exchange._allocation_domain())
            exchange.settlement_count = Settlement.search_count(exchange._settlement_domain())

    @api.model
    def _procountor_list_action(self, model, domain, name):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "view_mode": "list,form",
            "domain": domain,
            "context": {"create": False},
        }

    def action_view_allocations(self):
        self.ensure_one()
        return self._procountor_list_action(
            "membook.allocation",
            self._allocation_domain(),
            self.env._("Allocations of %s", self.display_name),
        )

    def action_view_settlements(self):
        self.ensure_one()
        return self._procountor_list_action(
            "membook.settlement",
            self._settlement_domain(),
            self.env._("Settlements of %s", self.display_name),
        )

    def _procountor_write_trail(self, drafts):
        """The rows of each voucher (one per draft, in order) and what each row sums."""
        Line = self.env["procountor.voucher.line"].sudo()
        vals_list, traces = [], []
        for exchange, draft in zip(self, drafts, strict=True):
            if not draft.payload:
                continue
            rows = list(zip(draft.payload["transactions"], draft.traces, strict=True))
            # The clearing row of the fees comes first and sums every fee and credit row.
            summed = sum(len(trace.allocations) for _row, trace in rows[1:])
            for sequence, (row, trace) in enumerate(rows, start=1):
                sums_voucher = sequence == 1 and 0 < len(trace.allocations) == summed
                vals_list.append(
                    Line._procountor_vals(exchange, sequence, row, trace, sums_voucher)
                )
                traces.append(trace)
        Line.create(vals_list)._procountor_link(traces)

    @api.model_create_multi
    def create(self, vals_list):
        if self.env.su or not any("payload" in vals for vals in vals_list):
            return super().create(vals_list)
        # Whoever may queue an exchange writes its payload, which only system administrators
        # read as such: create as superuser, then check the user's rights on what was made.
        self.check_access("create")
        exchanges = super(ProcountorExchange, self.sudo()).create(vals_list).sudo(False)
        exchanges.check_access("create")
        return exchanges

    def write(self, vals):
        if self.env.su or "payload" not in vals:
            return super().write(vals)
        self.check_access("write")
        return super(ProcountorExchange, self.sudo()).write(vals)

    @api.depends("payload", "res_model", "res_id")
    @api.depends_context("uid")
    def _compute_payload_shown(self):
        system = self.env.is_system()
        for exchange in self:
            payload = exchange.sudo().payload
            exchange.has_payload = bool(payload)
            source = exchange._source()
            readable = system or bool(source and source.has_access("read"))
            exchange.payload_shown = payload if readable else False

    def _source(self):
        self.ensure_one()
        if not self.res_model or not self.res_id or self.res_model not in self.env:
            return None
        return self.env[self.res_model].browse(self.res_id).exists()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_sent(self):
        if any(exchange.state in ("sending", "done", "unknown") for exchange in self):
            raise UserError(
                self.env._(
                    "An exchange that is, or may be, in Procountor cannot be deleted: it is what "
                    "keeps the object from being sent twice."
                )
            )

    # ------------------------------------------------------------------
    # Payload
    # ------------------------------------------------------------------
    @api.model
    def _procountor_dump(self, payload):
        return json.dumps(payload, default=_json_default, ensure_ascii=False, indent=1)

    def _procountor_payload(self):
        self.ensure_one()
        payload = self.sudo().payload
        if not payload:
            raise UserError(self.env._("%s has nothing to send.", self.display_name))
        return json.loads(payload, parse_float=Decimal)

    @api.model
    def _procountor_draft_vals(self, draft):
        """State and payload of a voucher exchange from a backend's ``VoucherDraft``."""
        if draft.problems:
            return {
                "state": "error",
                "payload": False,
                "error_message": "\n".join(draft.problems),
                "error_field": False,
                "error_code": False,
                "retryable": False,
                "next_try": False,
            }
        return {
            "state": "new",
            "payload": self._procountor_dump(draft.payload),
            "error_message": False,
            "error_field": False,
            "error_code": False,
            "retryable": False,
            "next_try": False,
        }

    def action_rebuild(self):
        """Make a voucher again from this week's rows (after fixing a mapping, say)."""
        for exchange in self:
            if exchange.kind != "voucher" or exchange.state not in ("new", "error"):
                raise UserError(
                    self.env._("Only memo vouchers not yet in Procountor can be built again.")
                )
            backend = exchange.backend_id
            drafts = backend._procountor_build_vouchers(
                backend._procountor_voucher_rows(exchange.date_from, exchange.date_to),
                backend._procountor_settlement_rows(exchange.date_from, exchange.date_to),
                exchange.date_to,
            )
            draft = next((d for d in drafts if d.organisation == exchange.organisation_id), None)
            if draft is None:
                raise UserError(
                    self.env._("Nothing is left to book for %s this week.", exchange.display_name)
                )
            exchange.write(
                {**self._procountor_draft_vals(draft), "external_key": draft.name, "attempts": 0}
            )
            exchange.line_ids.sudo().unlink()
            exchange._procountor_write_trail([draft])
        return True

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------
    @api.model
    def _due_domain(self):
        now = fields.Datetime.now()
        return (
            Domain("backend_id.active", "=", True)
            & (
                Domain("state", "in", ("new", "sending"))
                | (Domain("state", "in", ("error", "unknown")) & Domain("retryable", "=", True))
            )
            & (Domain("next_try", "=", False) | Domain("next_try", "<=", now))
        )

    def _mark_sending(self):
        self.write({"state": "sending", "next_try": fields.Datetime.now() + SENDING_LEASE})

    def action_send(self):
        """Send now (a person's Retry): also what waits for a person or backs off."""
        exchanges = self.filtered(lambda e: e.state in ("new", "error", "unknown"))
        locked = exchanges.try_lock_for_update()
        if locked != exchanges:
            raise UserError(self.env._("Another worker is sending some of these right now."))
        if exchanges.filtered(
            lambda e: e.state == "error" and not e.has_payload and e.kind != "invoice_send"
        ):
            raise UserError(self.env._("Fix what the error says and rebuild before sending again."))
        exchanges._send()
        return True

    def _send(self):
        """Push each exchange; its state is written whatever the outcome."""
        for exchange in self:
            exchange._send_one()
        return len(self)

    def _send_one(self):
        self.ensure_one()
        now = fields.Datetime.now()
        attempts = self.attempts + 1
        vals = {"attempts": attempts, "last_try": now}
        progress = {}
        try:
            with self.env.cr.savepoint(), self.backend_id._procountor_client() as client:
                getattr(self, f"_send_{self.kind}")(client, progress)
        except Exception as error:
            decision = outbox.decide_failure(error, attempts, outbox.BackoffPolicy())
            if isinstance(error, UserError | ValidationError):
                message = error.args[0]
            else:
                message = f"{self._procountor_failure_text(decision, attempts)}\n{decision.detail}"
            if not isinstance(error, ProcountorError | UserError):
                _logger.exception("Procountor exchange %s failed", self.display_name)
            access = KIND_ACCESS.get(self.kind)
            if isinstance(error, ProcountorPermissionError) and access and error.path == access[1]:
                self.backend_id._procountor_denied(access[0], error)
            vals.update(
                progress,
                state=decision.state,
                error_message=message,
                error_field=decision.field or False,
                error_code=decision.code or False,
                retryable=decision.retryable,
                next_try=now + timedelta(seconds=decision.retry_in)
                if decision.retryable
                else False,
            )
        else:
            vals.update(
                progress,
                state="done",
                error_message=False,
                error_field=False,
                error_code=False,
                retryable=False,
                next_try=False,
            )
        self.write(vals)

    def _procountor_failure_text(self, decision, attempts):
        """What went wrong, in the user's language (the technical detail follows it)."""
        reason = decision.reason
        if reason == "unknown":
            return self.env._(
                "No answer came: the next try looks it up in Procountor before sending again."
            )
        if reason == "unknown_given_up":
            return self.env._(
                "No answer came in %s tries: Send now looks it up in Procountor before sending "
                "again.",
                attempts,
            )
        if reason == "unavailable":
            return self.env._("Procountor could not be reached; it is tried again by itself.")
        if reason == "unavailable_given_up":
            return self.env._(
                "Procountor could not be reached in %s tries: press Send now when it is back.",
                attempts,
            )
        if reason == "refused":
            return self.env._("Procountor refused the data.")
        if reason == "forbidden":
            return self.env._("The Procountor API user may not do this, or not in this state.")
        if reason == "login":
            return self.env._("Procountor refused the login: check the connection's credentials.")
        if reason == "not_found":
            return self.env._("Not found in Procountor.")
        if reason == "local":
            return self.env._("Could not be sent.")
        return self.env._("Procountor answered with an error.")

    def _send_voucher(self, client, progress):
        result = client.create_ledger_receipt_once(self._procountor_payload())
        status = result.record.get("status")
        progress.update(remote_id=result.id, remote_status=status)
        if self.backend_id.voucher_approve and status == "UNFINISHED":
            client.approve_ledger_receipt(result.id)
            progress["remote_status"] = "APPROVED"

    def _send_invoice(self, client, progress):
        result = client.create_invoice_once(self._procountor_payload())
        progress.update(remote_id=result.id, remote_status=result.record.get("status"))
        # The connector's own fields on the invoice: whoever presses Send now may not edit
        # posted invoices, and need not.
        move = self._source()
        move = move.sudo() if move else move
        if move:
            move.write(
                {"procountor_invoice_id": result.id, "procountor_backend_id": self.backend_id.id}
            )
        if result.record.get("status") == "UNFINISHED":
            client.approve_invoice(result.id)
        status = client.get_invoice(result.id).get("status")
        progress["remote_status"] = status
        if move:
            move.procountor_status = status
        self._queue_follow_up("invoice_send", result.id)

    def _send_invoice_send(self, client, progress):
        invoice_id = self.parent_id.remote_id or self.remote_id
        if not invoice_id:
            raise UserError(self.env._("The invoice is not in Procountor yet."))
        progress["remote_id"] = invoice_id
        status = client.get_invoice(invoice_id).get("status")
        if status == "UNFINISHED":
            client.approve_invoice(invoice_id)
            status = "NOT_SENT"
        # Sending twice sends twice: only an invoice not sent yet is sent (a send whose answer
        # never came shows as SENT on the next try).
        if status == "NOT_SENT":
            client.send_invoice(invoice_id)
            status = client.get_invoice(invoice_id).get("status")
        progress["remote_status"] = status
        move = self._source()
        if move:
            move.sudo().procountor_status = status

    def _queue_follow_up(self, kind, remote_id):
        self.ensure_one()
        if self.search_count([("parent_id", "=", self.id), ("kind", "=", kind)]):
            return
        self.create(
            {
                "backend_id": self.backend_id.id,
                "kind": kind,
                "external_key": self.external_key,
                "res_model": self.res_model,
                "res_id": self.res_id,
                "parent_id": self.id,
                "remote_id": remote_id,
            }
        )

    @api.model
    def _cron_push(self, batch_size=50):
        """Push every due exchange, a committed batch at a time; safe to kill and run again.

        Each batch is locked (rows another worker holds are skipped), marked ``sending`` with a
        lease and committed before anything goes out: a worker killed mid-batch leaves its rows
        ``sending`` until the lease ends, and the next run looks each up in Procountor before
        creating it.
        """
        Cron = self.env["ir.cron"]
        domain = self._due_domain()
        Cron._commit_progress(remaining=self.search_count(domain))
        while True:
            # The next rows no other worker holds: a copy of this action working on the first
            # page does not stop this one early.
            exchanges = Cron._lock_next_batch(self, domain, batch_size)
            if not exchanges:
                break
            exchanges._mark_sending()
            Cron._commit_progress()
            done = exchanges._send()
            if not Cron._commit_progress(done):
                break

    def action_view_source(self):
        self.ensure_one()
        record = self._source()
        if not record:
            raise UserError(self.env._("The source record no longer exists."))
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "view_mode": "form",
        }


def _json_default(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
