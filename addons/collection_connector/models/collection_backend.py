# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CollectionBackend(models.Model):
    """A collection agency the company hands overdue invoices to.

    Several backends may be active; exactly one per company creates new cases. Cases stay with the
    backend that created them when another one takes over.
    """

    _name = "collection.backend"
    _description = "Collection agency connection"
    _check_company_auto = True
    _order = "company_id, sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    protocol = fields.Selection(
        [("rest", "Generic REST"), ("soap", "Generic SOAP")],
        required=True,
        default="rest",
        help="How cases travel; a specific agency may add its own protocol.",
    )
    url = fields.Char(string="Service URL", required=True)
    api_key = fields.Char(string="API key", groups="base.group_system")
    timeout = fields.Integer(default=30, help="Seconds to wait for one answer.")
    creates_cases = fields.Boolean(
        string="Creates new cases",
        help="New cases go to this agency. Only one backend per company can have it.",
    )
    start_date = fields.Date(
        help="Only invoices that fall overdue on or after this date are followed."
    )
    delay_days = fields.Integer(
        string="Days after due date",
        default=14,
        help="Without enabled reminder steps, an invoice enters the draft collection list this "
        "many days after its due date.",
    )

    _creates_cases_uniq = models.UniqueIndex(
        "(company_id) WHERE creates_cases AND active",
        "Only one active agency per company can create new cases.",
    )

    @api.constrains("delay_days", "timeout")
    def _check_positive(self):
        for backend in self:
            if backend.delay_days < 0 or backend.timeout <= 0:
                raise ValidationError(
                    self.env._("Delay days cannot be negative and the timeout must be positive.")
                )
