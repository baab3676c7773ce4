# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timezone

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from nordic_billing.collection import AgencyError, adapter_choices, get_adapter_class

_logger = logging.getLogger(__name__)

# Fields that say where and how the API key is sent: only whoever may read the key (a system
# administrator) may change them, or a manager could send it to a server of their own.
ENDPOINT_FIELDS = ("protocol", "url", "auth_type")


def _naive_utc(value):
    """An aware datetime from the core as the naive UTC datetime Odoo stores."""
    return value.astimezone(timezone.utc).replace(tzinfo=None)


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
        selection="_selection_protocol",
        required=True,
        default="generic_rest",
        help="How cases travel: the generic REST or SOAP protocol, or an agency's own adapter.",
    )
    url = fields.Char(string="Service URL", required=True)
    auth_type = fields.Selection(
        [("api_key", "API key header"), ("bearer", "Bearer token")],
        string="Authentication",
        required=True,
        default="api_key",
    )
    api_key = fields.Char(string="API key", groups="base.group_system")
    can_edit_endpoint = fields.Boolean(
        compute="_compute_can_edit_endpoint",
        help="Whether the current user may change where the API key is sent.",
    )
    timeout = fields.Integer(default=30, help="Seconds to wait for one answer.")
    max_retries = fields.Integer(
        string="Retries per call",
        default=2,
        help="How often one call is repeated at once when the agency is unavailable; the "
        "scheduled action tries again later after that.",
    )
    key_prefix = fields.Char(
        help="Put in front of every case key, when several databases share one agency account."
    )
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
    settlement_journal_id = fields.Many2one(
        "account.journal",
        string="Settlement journal",
        check_company=True,
        domain="[('type', '=', 'general')]",
        help="Journal of the entries that book the agency's remittances.",
    )
    clearing_account_id = fields.Many2one(
        "account.account",
        string="Remittance account",
        check_company=True,
        help="Debited with what the agency pays out (e.g. an agency clearing account that the "
        "bank payment is reconciled with).",
    )
    interest_account_id = fields.Many2one(
        "account.account",
        string="Interest account",
        check_company=True,
        help="Late-payment interest the agency collected for us.",
    )
    fee_account_id = fields.Many2one(
        "account.account",
        string="Fee account",
        check_company=True,
        help="Reminder fees the agency collected beyond the open reminder-fee invoices.",
    )
    cost_account_id = fields.Many2one(
        "account.account",
        string="Collection cost account",
        check_company=True,
        help="Collection costs the agency charges or passes on.",
    )
    other_account_id = fields.Many2one(
        "account.account",
        string="Other postings account",
        check_company=True,
        help="Any other posting of the agency, such as its commission.",
    )
    updates_since = fields.Datetime(
        string="Updates read up to",
        readonly=True,
        copy=False,
        help="The latest case change read from the agency.",
    )
    settlements_since = fields.Datetime(
        string="Settlements read up to",
        readonly=True,
        copy=False,
        help="The latest settlement line read from the agency.",
    )
    sync_error = fields.Text(string="Last sync error", readonly=True, copy=False)
    case_ids = fields.One2many("collection.case", "backend_id", string="Cases")
    case_count = fields.Integer(compute="_compute_case_count")

    _creates_cases_uniq = models.UniqueIndex(
        "(company_id) WHERE creates_cases AND active",
        "Only one active agency per company can create new cases.",
    )

    @api.depends_context("uid")
    def _compute_can_edit_endpoint(self):
        self.can_edit_endpoint = self.env.is_system()

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("creates_cases") and vals.get("active", True):
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                self._check_single_creating(company)
        return super().create(vals_list)

    def write(self, vals):
        _check_endpoint_change(self, vals, ENDPOINT_FIELDS)
        if vals.get("creates_cases") or vals.get("active") or "company_id" in vals:
            for backend in self:
                creates = vals.get("creates_cases", backend.creates_cases)
                active = vals.get("active", backend.active)
                if creates and active:
                    company = (
                        self.env["res.company"].browse(vals["company_id"])
                        if "company_id" in vals
                        else backend.company_id
                    )
                    backend._check_single_creating(company, exclude=self)
        return super().write(vals)

    @api.model
    def _check_single_creating(self, company, exclude=None):
        """Say clearly, before the database refuses it, that ``company`` has a creating agency.

        The unique index stays the guard against two transactions at once; this check keeps the
        expected case from ending as a failed statement in the server log.
        """
        domain = [("company_id", "=", company.id), ("creates_cases", "=", True)]
        if exclude:
            domain.append(("id", "not in", exclude.ids))
        other = self.search(domain, limit=1)
        if other:
            raise ValidationError(
                self.env._(
                    "%(agency)s already creates the new cases of %(company)s: use its 'Send new "
                    "cases here' button on the agency that should take over.",
                    agency=other.display_name,
                    company=company.display_name,
                )
            )

    @api.model
    def _selection_protocol(self):
        return adapter_choices()

    def _url_suffix(self):
        """The path the protocol's adapter adds to the service URL (REST ``/rest/v1``, SOAP
        ``/soap``), or "" when the protocol is unknown."""
        self.ensure_one()
        try:
            adapter = get_adapter_class(self.protocol)
        except KeyError:
            return ""
        return getattr(adapter, "base_path", "") or getattr(adapter, "soap_path", "")

    @api.constrains("url", "protocol")
    def _check_url_suffix(self):
        # The agency's path is the adapter's to add: a URL that holds it already would be asked
        # for ".../rest/v1/rest/v1/..." and answer a bare 404.
        for backend in self:
            suffix = backend._url_suffix()
            url = (backend.url or "").rstrip("/")
            if suffix and url.endswith(suffix):
                raise ValidationError(
                    self.env._(
                        "The service URL ends with %(suffix)s, which the connection adds itself: "
                        "enter the agency's address without it, %(url)s.",
                        suffix=suffix,
                        url=url[: -len(suffix)],
                    )
                )

    @api.constrains("delay_days", "timeout", "max_retries")
    def _check_positive(self):
        for backend in self:
            if backend.delay_days < 1 or backend.timeout <= 0 or backend.max_retries < 0:
                raise ValidationError(
                    self.env._(
                        "The days after the due date must be at least 1, the timeout positive "
                        "and the retries not negative."
                    )
                )

    @api.constrains("active", "company_id")
    def _check_no_factoring(self):
        for backend in self.filtered("active"):
            if backend.company_id.collection_factoring_in_use:
                raise ValidationError(
                    self.env._(
                        "%(company)s finances its invoices by factoring: debt collection cannot "
                        "be combined with a factoring integration. Turn off 'Factoring in use' in "
                        "the Invoicing settings before you activate a collection agency.",
                        company=backend.company_id.display_name,
                    )
                )

    @api.depends("case_ids")
    def _compute_case_count(self):
        counts = dict(
            self.env["collection.case"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        for backend in self:
            backend.case_count = counts.get(backend, 0)

    @api.model
    def _creating_backend(self, company):
        """The active backend of ``company`` that receives new cases (empty when none)."""
        return self.search([("company_id", "=", company.id), ("creates_cases", "=", True)], limit=1)

    # ------------------------------------------------------------------
    # Connection
    # ------------------------------------------------------------------
    def _get_adapter(self):
        """The core adapter of this agency; use it as a context manager."""
        self.ensure_one()
        backend = self.sudo()
        return get_adapter_class(backend.protocol)(
            backend.url,
            api_key=backend.api_key or "",
            auth_type=backend.auth_type,
            timeout=backend.timeout,
            connect_timeout=min(10, backend.timeout),
            max_retries=backend.max_retries,
            backoff=self._retry_backoff(),
        )

    @api.model
    def _retry_backoff(self):
        """Seconds before the first repeat of a call (doubling for the next ones)."""
        return float(
            self.env["ir.config_parameter"].sudo().get_param("collection_connector.backoff", 0.5)
        )

    def action_test_connection(self):
        self.ensure_one()
        try:
            with self._get_adapter() as adapter:
                adapter.ping()
        except AgencyError as exc:
            if exc.status_code == 404:
                raise UserError(
                    self.env._(
                        "Nothing answers at %(url)s%(suffix)s: the service URL must be the "
                        "agency's address, to which the connection adds %(suffix)s. Check it "
                        "against the agency's documentation (the local sandbox prints the one to "
                        "enter). The agency said: %(error)s",
                        url=(self.url or "").rstrip("/"),
                        suffix=self._url_suffix(),
                        error=exc.message,
                    )
                ) from exc
            raise UserError(
                self.env._("The agency could not be reached: %(error)s", error=exc.message)
            ) from exc
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("%(agency)s answered.", agency=self.name),
                "sticky": False,
            },
        }

    def action_make_creating(self):
        """Let this agency receive the new cases of its company; cases already sent stay."""
        self.ensure_one()
        others = self.search(
            [
                ("company_id", "=", self.company_id.id),
                ("creates_cases", "=", True),
                ("id", "!=", self.id),
            ]
        )
        others.creates_cases = False
        self.flush_model(["creates_cases"])
        self.creates_cases = True
        return True

    def action_view_cases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "collection_connector.collection_case_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_sync_now(self):
        """Pull the agency's updates and settlements now and book them."""
        for backend in self:
            backend._pull()
        return True

    # ------------------------------------------------------------------
    # Pulling updates and settlements
    # ------------------------------------------------------------------
    def _pull(self):
        """Read the agency's case updates and settlement lines and book what is new.

        Safe to repeat: updates are snapshots, settlement lines are kept once by their id and
        booked once. Agency errors are kept on the backend and raised for a caller at the
        screen; the scheduled action logs them and goes on with the next agency.
        """
        self.ensure_one()
        try:
            with self._get_adapter() as adapter:
                updates = adapter.list_updates(since=self.updates_since or None)
                settlements = adapter.list_settlements(since=self.settlements_since or None)
        except AgencyError as exc:
            self.sync_error = exc.message
            raise
        self.env["collection.case"]._apply_updates(self, updates)
        if updates:
            self.updates_since = _naive_utc(max(update.updated_at for update in updates))
        # Settlement lines and their journal entries are the connector's own records: nobody
        # creates them by hand, and a collection administrator need not be an accountant to
        # read the agency's news now rather than at the next scheduled run.
        Line = self.env["collection.settlement.line"].sudo()
        Line._store_lines(self.sudo(), settlements)
        if settlements:
            self.settlements_since = _naive_utc(max(line.created_at for line in settlements))
        self.sync_error = False
        Line.search([("backend_id", "=", self.id), ("state", "!=", "booked")])._book()
        return True

    @api.model
    def _cron_pull(self):
        """Scheduled action: pull every active agency, one committed transaction each."""
        Cron = self.env["ir.cron"]
        backends = self.search([("active", "=", True)])
        Cron._commit_progress(remaining=len(backends))
        for backend in backends:
            try:
                backend._pull()
            except AgencyError as exc:
                self.env.cr.rollback()
                backend.sync_error = exc.message
                _logger.warning("Collection agency %s: %s", backend.name, exc.message)
            if not Cron._commit_progress(1):
                break


def _check_endpoint_change(records, vals, endpoint_fields):
    """Refuse a change of where the API key goes by a user who may not read it."""
    changed = [name for name in endpoint_fields if name in vals]
    if not changed or records.env.is_system():
        return
    for record in records:
        if any((record[name] or False) != (vals[name] or False) for name in changed):
            raise AccessError(
                records.env._(
                    "Only a system administrator may change where %(record)s sends its API key "
                    "(%(fields)s).",
                    record=record.display_name,
                    fields=", ".join(records._fields[name].string for name in changed),
                )
            )
