# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models
from odoo.fields import Domain

from nordic_billing.collection import AgencyError
from nordic_billing.collection.sync import ERROR, failure_outcome
from nordic_billing.money import to_decimal


class CollectionOperation(models.Model):
    """A message for the agency about a case it has: a payment we received, or the withdrawal
    of the case after a full credit note. An exchange record of its own: both calls are
    idempotent by ``key`` (the payment id, ``cancel``), so a failed one is simply sent again.
    """

    _name = "collection.operation"
    _description = "Debt collection case message"
    _check_company_auto = True
    _order = "id"

    case_id = fields.Many2one(
        "collection.case", required=True, ondelete="cascade", index=True, check_company=True
    )
    backend_id = fields.Many2one(related="case_id.backend_id", store=True, index=True)
    company_id = fields.Many2one(related="case_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="case_id.currency_id")
    kind = fields.Selection(
        [("payment", "Payment"), ("cancel", "Withdrawal")], required=True, readonly=True
    )
    key = fields.Char(
        required=True, readonly=True, help="The payment id, or 'cancel': makes resending safe."
    )
    amount = fields.Monetary(readonly=True)
    date = fields.Date(readonly=True)
    reason = fields.Char(readonly=True)
    state = fields.Selection(
        [("pending", "To send"), ("done", "Sent"), ("error", "Error")],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    attempts = fields.Integer(readonly=True)
    next_try = fields.Datetime(readonly=True)
    error = fields.Text(readonly=True)
    done_date = fields.Datetime(string="Sent on", readonly=True)

    _case_key_uniq = models.Constraint(
        "UNIQUE(case_id, key)", "A payment or withdrawal is sent once per case."
    )

    @api.depends("kind", "key", "case_id")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for operation in self:
            operation.display_name = f"{kinds.get(operation.kind, '')} {operation.key}"

    def action_retry(self):
        self.filtered(lambda op: op.state == "error").write(
            {"state": "pending", "attempts": 0, "next_try": False, "error": False}
        )
        self.env["collection.case"]._trigger_send()
        return True

    def _send(self, adapter):
        """One attempt each, in order; a failure leaves the operation to be sent again later
        or, when the agency refused it, to a person."""
        now = fields.Datetime.now()
        for operation in self:
            case = operation.case_id
            operation.attempts += 1
            try:
                if operation.kind == "payment":
                    ref = adapter.add_payment(
                        case.case_number,
                        to_decimal(operation.amount),
                        operation.date,
                        operation.key,
                    )
                else:
                    ref = adapter.cancel_case(case.case_number, operation.reason or "credited")
            except AgencyError as exc:
                outcome = failure_outcome(exc, operation.attempts)
                operation.write(
                    {
                        "state": "error" if outcome.state == ERROR else "pending",
                        "error": outcome.message,
                        "next_try": False if outcome.state == ERROR else now + outcome.retry_in,
                    }
                )
                continue
            operation.write({"state": "done", "error": False, "next_try": False, "done_date": now})
            if ref.status in ("open", "paid", "closed", "returned"):
                case.state = ref.status

    @api.model
    def _send_pending(self):
        """Send every due operation of cases that reached their agency, committing per batch."""
        Cron = self.env["ir.cron"]
        now = fields.Datetime.now()
        domain = (
            Domain("state", "=", "pending")
            & Domain("case_id.case_number", "!=", False)
            & (Domain("next_try", "=", False) | Domain("next_try", "<=", now))
        )
        batch_size = self.env["collection.reminder"]._batch_size()
        Cron._commit_progress(remaining=self.search_count(domain))
        last_id = 0
        while True:
            # Past the last batch: an operation that failed may be due again at once (no
            # back-off), and is left to the next run.
            batch = Cron._lock_next_batch(self, domain & Domain("id", ">", last_id), batch_size)
            if not batch:
                return
            last_id = max(batch.ids)
            for backend, group in batch.grouped("backend_id").items():
                with backend._get_adapter() as adapter:
                    group._send(adapter)
            if not Cron._commit_progress(len(batch)):
                return
