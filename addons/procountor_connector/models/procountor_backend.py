# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from nordic_billing import procountor_invoices, vouchers
from nordic_billing.money import to_decimal
from nordic_billing.procountor import (
    Credentials,
    ProcountorClient,
    ProcountorError,
    ProcountorPermissionError,
    RetryPolicy,
    TokenCache,
)

_logger = logging.getLogger(__name__)

ENVIRONMENT_URLS = {
    "production": "https://api.procountor.com/api",
    "test": "https://pts-api.procountor.com/api",
}
ACCESS = [("unknown", "Not tested"), ("allowed", "Allowed"), ("denied", "Denied")]
# Feature names of the core's permission probe -> our access fields.
ACCESS_FIELDS = {
    "coa": "access_coa",
    "dimensions": "access_dimensions",
    "ledgerreceipts": "access_vouchers",
    "invoices": "access_invoices",
    "businesspartners": "access_partners",
}
# Fields that say where the credentials are sent: only whoever may read the credentials (a
# system administrator) may change them, or a manager could send them to a server of their own.
ENDPOINT_FIELDS = ("environment", "custom_url")

# Access tokens are good for an hour: every client of this process shares them.
_TOKENS = TokenCache()


class VoucherRow(NamedTuple):
    """A fee paid to one organisation, as the weekly memo voucher books it.

    ``organisation`` is a ``membook.organisation`` record (empty for the operator company's own
    share, which no memo voucher books), ``product`` a ``product.product`` record, ``amount`` the
    signed amount (negative for a credit note or a reversed payment) and ``date`` the day the fee
    was allocated. One row may stand for many allocations of one organisation and product (their
    sum): ``allocation_ids`` are their ids, by which each voucher row is traced back to them.
    """

    organisation: models.BaseModel
    product: models.BaseModel
    amount: Decimal
    date: object
    description: str = ""
    allocation_ids: tuple = ()


class SettlementRow(NamedTuple):
    """A settlement paid out to ``organisation``: debit bank and service fee, credit clearing.

    ``amount`` is what reached the organisation's bank, ``service_fee`` what the operator
    deducted before paying out; ``settlement_id`` the ``membook.settlement`` id, if any.
    """

    organisation: models.BaseModel
    amount: Decimal
    date: object
    description: str = ""
    service_fee: Decimal = Decimal(0)
    settlement_id: int = 0


class VoucherDraft(NamedTuple):
    """One organisation's memo voucher for one week, or the problems that keep it from being.

    ``traces`` has one :class:`nordic_billing.vouchers.RowTrace` per payload row: the ids of the
    allocations and settlements that the row sums.
    """

    organisation: models.BaseModel
    period_key: str
    name: str
    payload: dict | None
    problems: list
    traces: tuple = ()


class ProcountorBackend(models.Model):
    """Connection to one Procountor environment: per company, optionally per organisation.

    Credentials are readable by system administrators only and wiped when a database is
    neutralised (``data/neutralize.sql``), so a copied database never talks to production.
    "Test connection" asks Procountor what the API user may do and keeps the answer: features
    the user may not use (invoices and the customer register for a user limited to memo vouchers)
    stay off with a message, and the voucher schedule keeps working.
    """

    _name = "procountor.backend"
    _description = "Procountor connection"
    _check_company_auto = True
    _order = "company_id, organisation_id, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    organisation_id = fields.Many2one(
        "membook.organisation",
        check_company=True,
        index="btree_not_null",
        help="Set when this organisation keeps its own books in Procountor; empty for the "
        "company's own Procountor, which also books the organisations without one.",
    )
    environment = fields.Selection(
        [("production", "Production"), ("test", "Partner test"), ("custom", "Custom URL")],
        required=True,
        default="test",
    )
    custom_url = fields.Char(
        string="Custom URL",
        help="E.g. a local sandbox for trials, as it prints when it starts: "
        "http://127.0.0.1:<port>/api (Procountor's API URLs end with /api).",
    )
    base_url = fields.Char(string="API URL", compute="_compute_base_url")
    client_id = fields.Char(groups="base.group_system")
    client_secret = fields.Char(groups="base.group_system")
    api_key = fields.Char(string="API key", groups="base.group_system")
    can_edit_endpoint = fields.Boolean(
        compute="_compute_can_edit_endpoint",
        help="Whether the current user may change where the credentials are sent.",
    )
    timeout = fields.Float(default=30.0, help="Seconds to wait for one answer.")
    retry_attempts = fields.Integer(
        default=4, help="Tries per call when Procountor is busy or unavailable, the first included."
    )
    retry_backoff = fields.Float(
        string="First retry wait",
        default=1.0,
        help="Seconds before the second try; doubles with each further try. After a create whose "
        "answer never came, five times this is waited before looking the object up.",
    )

    # What the API user may do, as the last "Test connection" told.
    access_checked = fields.Datetime(string="Connection tested on", readonly=True)
    access_summary = fields.Text(string="Connection test", readonly=True)
    access_coa = fields.Selection(ACCESS, string="Reading the chart", default="unknown")
    access_dimensions = fields.Selection(ACCESS, string="Reading dimensions", default="unknown")
    access_vouchers = fields.Selection(ACCESS, string="Memo vouchers", default="unknown")
    access_invoices = fields.Selection(ACCESS, string="Sales invoices", default="unknown")
    access_partners = fields.Selection(ACCESS, string="Customer register", default="unknown")
    sync_message = fields.Text(
        string="Last sync problem", readonly=True, help="Empty when the last sync went well."
    )

    # Chart of accounts and dimensions
    account_ids = fields.One2many("procountor.account", "backend_id", string="Accounts")
    dimension_ids = fields.One2many("procountor.dimension", "backend_id", string="Dimensions")
    chart_synced = fields.Datetime(string="Chart synced on", readonly=True)
    mapping_ids = fields.One2many("procountor.product.mapping", "backend_id", string="Mappings")
    unmapped_product_ids = fields.Many2many(
        "product.product",
        compute="_compute_unmapped_products",
        string="Unmapped products",
        help="Fee products that some organisation booked here has no account mapping for.",
    )
    unmapped_product_count = fields.Integer(compute="_compute_unmapped_products")

    # Memo vouchers
    clearing_account_id = fields.Many2one(
        "procountor.account",
        string="Clearing account",
        domain="[('backend_id', '=', id)]",
        help="Debited with the fees collected, credited with the settlements paid out; usually "
        "1710 (membership fees receivable from the billing service).",
    )
    bank_account_id = fields.Many2one(
        "procountor.account",
        string="Settlement bank account",
        domain="[('backend_id', '=', id)]",
        help="Debited with the settlements paid out to the organisation; usually 1910.",
    )
    service_fee_account_id = fields.Many2one(
        "procountor.account",
        string="Service fee account",
        domain="[('backend_id', '=', id)]",
        help="Debited with the billing service's fee deducted from each settlement paid out "
        "(an expense of the organisation); usually 7850.",
    )
    voucher_name_prefix = fields.Char(
        string="Voucher name",
        default="Membership fees",
        required=True,
        help="Voucher names are this text, the ISO week and the organisation's code (its "
        "reference): the name is how a voucher whose upload went unanswered is found again.",
    )
    voucher_approve = fields.Boolean(
        string="Approve vouchers",
        help="Approve memo vouchers in Procountor once created; otherwise they wait there, "
        "unfinished, for the accountant.",
    )
    exchange_ids = fields.One2many("procountor.exchange", "backend_id", string="Exchanges")
    exchange_count = fields.Integer(string="Outbox", compute="_compute_exchange_counts")
    exchange_problem_count = fields.Integer(
        string="Needs attention", compute="_compute_exchange_counts"
    )

    # Invoices
    payment_journal_id = fields.Many2one(
        "account.journal",
        string="Payments journal",
        check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        compute="_compute_payment_journal_id",
        store=True,
        readonly=False,
        help="Payments that Procountor reports on transferred invoices are registered here.",
    )
    invoice_version = fields.Char(
        string="Invoices seen up to",
        readonly=True,
        help="Procountor version time of the latest invoice change read by the status sync.",
    )
    partner_version = fields.Char(
        string="Customers seen up to",
        readonly=True,
        help="Procountor version time of the latest customer change read by the channel sync.",
    )

    _organisation_uniq = models.UniqueIndex(
        "(company_id, COALESCE(organisation_id, 0)) WHERE active",
        "One active Procountor connection per company and organisation.",
    )

    @api.depends("environment", "custom_url")
    def _compute_base_url(self):
        for backend in self:
            if backend.environment == "custom":
                backend.base_url = (backend.custom_url or "").rstrip("/")
            else:
                backend.base_url = ENVIRONMENT_URLS[backend.environment]

    @api.depends_context("uid")
    def _compute_can_edit_endpoint(self):
        self.can_edit_endpoint = self.env.is_system()

    def write(self, vals):
        _check_endpoint_change(self, vals, ENDPOINT_FIELDS)
        return super().write(vals)

    @api.depends("company_id")
    def _compute_payment_journal_id(self):
        Journal = self.env["account.journal"]
        for backend in self:
            if backend.payment_journal_id.company_id == backend.company_id:
                continue
            backend.payment_journal_id = Journal.search(
                [("type", "=", "bank"), *Journal._check_company_domain(backend.company_id)],
                limit=1,
            )

    def _compute_exchange_counts(self):
        Exchange = self.env["procountor.exchange"]
        total = dict(
            Exchange._read_group([("backend_id", "in", self.ids)], ["backend_id"], ["__count"])
        )
        problems = dict(
            Exchange._read_group(
                [("backend_id", "in", self.ids), ("state", "in", ("error", "unknown"))],
                ["backend_id"],
                ["__count"],
            )
        )
        for backend in self:
            backend.exchange_count = total.get(backend, 0)
            backend.exchange_problem_count = problems.get(backend, 0)

    @api.depends("mapping_ids.product_id", "mapping_ids.organisation_id", "mapping_ids.active")
    def _compute_unmapped_products(self):
        for backend in self:
            products = backend._procountor_unmapped_products()
            backend.unmapped_product_ids = products
            backend.unmapped_product_count = len(products)

    @api.constrains("environment", "custom_url")
    def _check_custom_url(self):
        for backend in self:
            if backend.environment == "custom" and not (backend.custom_url or "").startswith(
                ("http://", "https://")
            ):
                raise ValidationError(
                    self.env._("A custom Procountor URL must start with http:// or https://.")
                )

    @api.constrains("timeout", "retry_attempts", "retry_backoff")
    def _check_retry(self):
        for backend in self:
            if backend.timeout <= 0 or backend.retry_attempts < 1 or backend.retry_backoff < 0:
                raise ValidationError(
                    self.env._(
                        "The timeout must be positive, at least one try is made and the retry "
                        "wait cannot be negative."
                    )
                )

    @api.constrains("clearing_account_id", "bank_account_id", "service_fee_account_id")
    def _check_voucher_accounts(self):
        for backend in self:
            accounts = (
                backend.clearing_account_id
                | backend.bank_account_id
                | backend.service_fee_account_id
            )
            for account in accounts:
                account._check_usable(backend)

    # ------------------------------------------------------------------
    # The client
    # ------------------------------------------------------------------
    def _procountor_client(self):
        """A client of the core for this connection: use it as a context manager."""
        self.ensure_one()
        backend = self.sudo()
        if not (backend.client_id and backend.client_secret and backend.api_key):
            raise UserError(
                self.env._(
                    "The Procountor connection %s has no client id, client secret or API key.",
                    self.display_name,
                )
            )
        if not backend.base_url:
            raise UserError(
                self.env._("The Procountor connection %s has no URL.", self.display_name)
            )
        return ProcountorClient(
            Credentials(backend.client_id, backend.client_secret, backend.api_key),
            backend.base_url,
            timeout=backend.timeout,
            retry=RetryPolicy(
                attempts=backend.retry_attempts,
                backoff=backend.retry_backoff,
                max_backoff=max(30.0, backend.retry_backoff),
            ),
            settle_seconds=5 * backend.retry_backoff,
            token_cache=_TOKENS,
        )

    @api.model
    def _procountor_for(self, company, organisation=None):
        """The active connection that books ``organisation`` (or the company's own)."""
        domain = [("company_id", "=", company.id), ("active", "=", True)]
        if organisation:
            own = self.search([*domain, ("organisation_id", "=", organisation.id)], limit=1)
            if own:
                return own
        return self.search([*domain, ("organisation_id", "=", False)], limit=1)

    # ------------------------------------------------------------------
    # Test connection and access
    # ------------------------------------------------------------------
    def action_test_connection(self):
        self.ensure_one()
        with self._procountor_client() as client:
            report = client.probe_permissions()
        suffix = self._procountor_missing_suffix()
        if not report.login.allowed and suffix:
            raise UserError(
                self.env._(
                    "The login to %(url)s failed (%(detail)s). The URL does not end with "
                    "%(suffix)s: Procountor's API and the sandbox are served under it. Try "
                    "%(url)s%(suffix)s.",
                    url=self.base_url,
                    detail=report.login.detail,
                    suffix=suffix,
                )
            )
        self._procountor_store_access(report)
        lines = report.lines()
        if not report.login.allowed and self.access_checked:
            lines.append(
                self.env._(
                    "The rights shown are those of the last good test, on %s.",
                    fields.Datetime.to_string(self.access_checked),
                )
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Procountor connection test"),
                "message": "\n".join(lines),
                "type": "success" if report.ok else "danger",
                "sticky": not report.ok,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _procountor_missing_suffix(self):
        """``"/api"`` when this connection's URL lacks the suffix every Procountor API URL has."""
        self.ensure_one()
        url = (self.base_url or "").rstrip("/")
        return "/api" if url and not url.endswith("/api") else ""

    def _procountor_store_access(self, report):
        """Keep what the test told; a feature it could not tell (no login, Procountor
        unavailable) keeps the answer of the last test that could."""
        if not report.login.allowed:
            return
        vals = {
            "access_checked": fields.Datetime.now(),
            "access_summary": "\n".join(report.lines()),
        }
        for feature, field_name in ACCESS_FIELDS.items():
            access = report.features.get(feature)
            allowed = access.allowed if access else None
            if allowed is not None:
                vals[field_name] = "allowed" if allowed else "denied"
        self.write(vals)

    def _procountor_feature_off(self, field_name):
        """The message that says why a feature is off for this connection, or ``False``."""
        self.ensure_one()
        if self[field_name] != "denied":
            return False
        feature = {
            "access_coa": self.env._("the chart of accounts"),
            "access_dimensions": self.env._("dimensions"),
            "access_vouchers": self.env._("memo vouchers"),
            "access_invoices": self.env._("sales invoices"),
            "access_partners": self.env._("the customer register"),
        }[field_name]
        return self.env._(
            "The Procountor API user of %(backend)s may not use %(feature)s: this part stays off. "
            "Grant the right in Procountor, then press Test connection.",
            backend=self.display_name,
            feature=feature,
        )

    def _procountor_require(self, field_name):
        for backend in self:
            message = backend._procountor_feature_off(field_name)
            if message:
                raise UserError(message)

    def _procountor_denied(self, field_name, error):
        """Remember that Procountor refused a feature (403) and say so."""
        self.write({field_name: "denied"})
        message = self._procountor_feature_off(field_name)
        _logger.info("%s (%s)", message, error)
        return message

    # ------------------------------------------------------------------
    # Chart of accounts and dimensions
    # ------------------------------------------------------------------
    def action_sync_chart(self):
        messages = []
        for backend in self:
            backend._procountor_sync_chart()
            if backend.sync_message:
                messages.append(backend.sync_message)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Chart of accounts and dimensions synced"),
                "message": "\n".join(messages)
                or self.env._(
                    "%(accounts)s accounts and %(items)s dimension items, inactive ones included.",
                    accounts=len(self.with_context(active_test=False).account_ids),
                    items=len(self.with_context(active_test=False).dimension_ids.item_ids),
                ),
                "type": "warning" if messages else "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _procountor_sync_chart(self):
        """Read accounts and dimensions; keep inactive and vanished ones, inactive."""
        self.ensure_one()
        problems = []
        with self._procountor_client() as client:
            try:
                accounts = client.get_coa()
            except ProcountorPermissionError as error:
                raise UserError(self._procountor_denied("access_coa", error)) from error
            dimensions = None
            if self.access_dimensions != "denied":
                try:
                    dimensions = client.get_dimensions()
                except ProcountorPermissionError as error:
                    problems.append(self._procountor_denied("access_dimensions", error))
            else:
                problems.append(self._procountor_feature_off("access_dimensions"))
        self.env["procountor.account"]._procountor_sync(self, accounts)
        if dimensions is not None:
            self.env["procountor.dimension"]._procountor_sync(self, dimensions)
        vals = {"chart_synced": fields.Datetime.now(), "sync_message": "\n".join(problems)}
        Account = self.env["procountor.account"]
        for field_name, code in (
            ("clearing_account_id", "1710"),
            ("bank_account_id", "1910"),
            ("service_fee_account_id", "7850"),
        ):
            if not self[field_name]:
                # The usual Finnish accounts, when the chart has them; never forced.
                vals[field_name] = Account.search(
                    [("backend_id", "=", self.id), ("code", "=", code)], limit=1
                ).id
        self.write(vals)

    @api.model
    def _cron_sync_chart(self):
        backends = self.search([])
        Cron = self.env["ir.cron"]
        Cron._commit_progress(remaining=len(backends))
        for backend in backends:
            try:
                with self.env.cr.savepoint():
                    backend._procountor_sync_chart()
            except (ProcountorError, UserError) as error:
                backend.sync_message = str(error)
                _logger.warning(
                    "Procountor chart sync of %s failed: %s", backend.display_name, error
                )
            if not Cron._commit_progress(1):
                break

    # ------------------------------------------------------------------
    # Product mapping
    # ------------------------------------------------------------------
    def _procountor_booked_organisations(self):
        """The organisations whose memo vouchers go to this connection."""
        self.ensure_one()
        if self.organisation_id:
            return self.organisation_id
        with_own = self.search(
            [("company_id", "=", self.company_id.id), ("organisation_id", "!=", False)]
        ).organisation_id
        return (
            self.env["membook.organisation"].search([("company_id", "=", self.company_id.id)])
            - with_own
        )

    def _procountor_fee_products(self):
        return self.env["product.product"].search(
            [
                ("membership", "=", True),
                *self.env["product.product"]._check_company_domain(self.company_id),
            ]
        )

    def _procountor_unmapped_products(self):
        """Fee products that at least one organisation booked here has no mapping for."""
        self.ensure_one()
        if not self.id:
            return self.env["product.product"]
        organisations = set(self._procountor_booked_organisations().ids)
        covered = defaultdict(set)
        for mapping in self.mapping_ids.filtered("active"):
            covered[mapping.product_id.id].add(mapping.organisation_id.id or 0)
        return self._procountor_fee_products().filtered(
            lambda product: 0 not in covered[product.id]
            and (organisations - covered[product.id] or not organisations)
        )

    def action_view_unmapped_products(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Products without an account mapping"),
            "res_model": "product.product",
            "view_mode": "list,form",
            "domain": [("id", "in", self.unmapped_product_ids.ids)],
            "context": {"create": False},
        }

    def _procountor_mapping_index(self):
        """``{(product id, organisation id or 0): mapping}`` of the active mappings."""
        self.ensure_one()
        return {
            (mapping.product_id.id, mapping.organisation_id.id or 0): mapping
            for mapping in self.mapping_ids.filtered("active")
        }

    # ------------------------------------------------------------------
    # Memo vouchers
    # ------------------------------------------------------------------
    def _procountor_voucher_rows(self, date_from, date_to):
        """The fees allocated to this company's organisations from ``date_from`` to ``date_to``.

        THE SOURCE OF THE WEEKLY MEMO VOUCHER: one :class:`VoucherRow` per organisation, product
        and sign, summing the allocations of reconciled payments (``membook.allocation``) and
        listing their ids; fees and credits (credit notes, reversed payments) stay apart.
        Allocations are taken by the day they were made, not by the payment date, so that a
        payment booked on Monday for Sunday lands in the next voucher instead of a week already
        sent. The operator's own share (no organisation) is left out. Read grouped in the
        database: a week of a large federation is hundreds of thousands of allocations.
        """
        self.ensure_one()
        Allocation = self.env["membook.allocation"]
        domain = [
            ("company_id", "=", self.company_id.id),
            ("organisation_id", "!=", False),
            ("create_date", ">=", datetime.combine(date_from, time.min)),
            ("create_date", "<", datetime.combine(date_to + timedelta(days=1), time.min)),
        ]
        rows = []
        for sign in ((">", 0), ("<", 0)):
            groups = Allocation._read_group(
                [*domain, ("amount", *sign)],
                ["organisation_id", "product_id"],
                ["amount:sum", "create_date:min", "id:array_agg"],
            )
            rows += [
                VoucherRow(
                    organisation,
                    product,
                    to_decimal(amount),
                    first.date(),
                    allocation_ids=tuple(sorted(ids)),
                )
                for organisation, product, amount, first, ids in groups
            ]
        rows.sort(key=lambda row: row.allocation_ids[0])
        return rows

    def _procountor_settlement_rows(self, date_from, date_to):
        """Settlements of the company's organisations paid out from ``date_from`` to ``date_to``."""
        self.ensure_one()
        settlements = self.env["membook.settlement"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("state", "=", "paid"),
                ("paid_date", ">=", date_from),
                ("paid_date", "<=", date_to),
            ],
            order="id",
        )
        return [
            SettlementRow(
                settlement.organisation_id,
                # What reached the organisation's bank: the service fee was deducted.
                to_decimal(settlement.amount_payable),
                settlement.paid_date,
                settlement.name,
                service_fee=to_decimal(settlement.service_fee),
                settlement_id=settlement.id,
            )
            for settlement in settlements
        ]

    def _procountor_voucher_code(self, organisation):
        """The organisation's code in voucher names: its reference, else its id."""
        return (organisation.ref or "").strip() or f"ORG{organisation.id}"

    def _procountor_build_vouchers(
        self, rows: Iterable[VoucherRow], settlements: Iterable[SettlementRow], day
    ):
        """One :class:`VoucherDraft` per organisation with something to book in ``day``'s week.

        Fees are credited to the income account and dimension items that the product's mapping
        for the organisation (else the product's default mapping) names, with the product's VAT
        status; credit notes are debited on rows of their own; the service fee deducted from a
        settlement is debited on the service fee account. A draft lists every unmapped product
        and unusable account instead of a payload.
        """
        self.ensure_one()
        year, week, monday, sunday = vouchers.week_of(day)
        period_key = f"{year:04d}-W{week:02d}"
        booked = set(self._procountor_booked_organisations().ids)
        mappings = self._procountor_mapping_index()
        # What each mapping gives a row, computed once per mapping, not once per row.
        mapped = {}
        fees = defaultdict(list)
        paid = defaultdict(list)
        problems = defaultdict(list)
        for row in rows:
            if not row.organisation or row.organisation.id not in booked:
                continue
            if not monday <= row.date <= sunday:
                continue
            organisation = row.organisation
            mapping = mappings.get((row.product.id, organisation.id)) or mappings.get(
                (row.product.id, 0)
            )
            if not mapping:
                problems[organisation].append(
                    self.env._(
                        "%(product)s has no account mapping for %(organisation)s.",
                        product=row.product.display_name,
                        organisation=organisation.display_name,
                    )
                )
                continue
            if mapping.id not in mapped:
                template = mapping.product_id.product_tmpl_id
                mapped[mapping.id] = (
                    mapping._procountor_problems(),
                    mapping.account_id.code,
                    tuple(
                        vouchers.DimensionRef(item.dimension_id.remote_id, item.remote_id)
                        for item in mapping.with_context(active_test=False).dimension_item_ids
                    ),
                    template.procountor_vat_status,
                    Decimal(str(template.procountor_vat_percent)),
                )
            unusable, account, dimensions, vat_status, vat_percent = mapped[mapping.id]
            if unusable:
                problems[organisation].extend(unusable)
                continue
            fees[organisation].append(
                vouchers.Allocation(
                    organisation=self._procountor_voucher_code(organisation),
                    account=account,
                    amount=to_decimal(row.amount),
                    dimensions=dimensions,
                    vat_status=vat_status,
                    vat_percent=vat_percent,
                    description=mapping.description or row.description or row.product.name,
                    refs=tuple(row.allocation_ids),
                )
            )
        for row in settlements:
            if row.organisation and row.organisation.id in booked and monday <= row.date <= sunday:
                paid[row.organisation].append(row)
        drafts = []
        for organisation in sorted(set(fees) | set(paid) | set(problems), key=lambda o: o.id):
            code = self._procountor_voucher_code(organisation)
            name = vouchers.voucher_name(code, year, week, self.voucher_name_prefix or "")
            issues = list(dict.fromkeys(problems.get(organisation, [])))
            if not self.clearing_account_id:
                issues.append(self.env._("Choose the clearing account of %s.", self.display_name))
            else:
                issues += self.clearing_account_id._procountor_problems()
            if paid.get(organisation):
                if not self.bank_account_id:
                    issues.append(
                        self.env._("Choose the settlement bank account of %s.", self.display_name)
                    )
                else:
                    issues += self.bank_account_id._procountor_problems()
            if any(row.service_fee for row in paid.get(organisation, [])):
                if not self.service_fee_account_id:
                    issues.append(
                        self.env._("Choose the service fee account of %s.", self.display_name)
                    )
                else:
                    issues += self.service_fee_account_id._procountor_problems()
            payload, traces = None, []
            if not issues:
                payload, traces = vouchers.build_memo_voucher_traced(
                    code,
                    fees.get(organisation, []),
                    [
                        vouchers.Settlement(
                            code,
                            to_decimal(row.amount),
                            self.bank_account_id.code,
                            row.description,
                            service_fee=to_decimal(row.service_fee),
                            service_fee_account=self.service_fee_account_id.code or "",
                            refs=(row.settlement_id,) if row.settlement_id else (),
                        )
                        for row in paid.get(organisation, [])
                    ],
                    receipt_date=sunday,
                    clearing_account=self.clearing_account_id.code,
                    name=name,
                    clearing_description=self.env._("Membership fees collected"),
                    credit_description=self.env._("Credit notes"),
                    settlement_description=self.env._("Settlement paid out"),
                    service_fee_description=self.env._("Service fee"),
                )
                if payload is None:  # nothing but zero amounts: nothing to book
                    continue
            drafts.append(
                VoucherDraft(organisation, period_key, name, payload, issues, tuple(traces))
            )
        return drafts

    def _procountor_existing_vouchers(self, period_keys):
        """``{(organisation id, period key): exchange}`` of the memo vouchers queued already."""
        self.ensure_one()
        existing = self.env["procountor.exchange"].search(
            [
                ("backend_id", "=", self.id),
                ("kind", "=", "voucher"),
                ("period_key", "in", list(period_keys)),
            ]
        )
        return {(e.organisation_id.id, e.period_key): e for e in existing}

    def _procountor_queue_vouchers(self, drafts, day):
        """Exchange records for the drafts, skipping organisations whose week has one already.

        A draft with problems becomes an exchange in error that says what to fix; its Rebuild
        button makes the voucher again once the mapping is right. Each exchange gets its rows
        (``procountor.voucher.line``), each linked to the allocations and settlements it sums.
        """
        self.ensure_one()
        _year, _week, monday, sunday = vouchers.week_of(day)
        Exchange = self.env["procountor.exchange"]
        taken = self._procountor_existing_vouchers({d.period_key for d in drafts})
        vals_list = []
        queued = []
        for draft in drafts:
            if (draft.organisation.id, draft.period_key) in taken:
                continue
            vals = {
                "backend_id": self.id,
                "kind": "voucher",
                "organisation_id": draft.organisation.id,
                "period_key": draft.period_key,
                "date_from": monday,
                "date_to": sunday,
                "external_key": draft.name,
                "res_model": "membook.organisation",
                "res_id": draft.organisation.id,
            }
            vals.update(Exchange._procountor_draft_vals(draft))
            vals_list.append(vals)
            queued.append(draft)
        exchanges = Exchange.create(vals_list)
        exchanges._procountor_write_trail(queued)
        return exchanges

    def _procountor_week_vouchers(self, day):
        """Build and queue this connection's memo vouchers of ``day``'s week."""
        self.ensure_one()
        _year, _week, monday, sunday = vouchers.week_of(day)
        drafts = self._procountor_build_vouchers(
            self._procountor_voucher_rows(monday, sunday),
            self._procountor_settlement_rows(monday, sunday),
            day,
        )
        return self._procountor_queue_vouchers(drafts, day)

    @api.model
    def _cron_weekly_vouchers(self):
        """Queue last week's memo vouchers of every connection, then let the push run.

        Safe to run twice: an organisation's week that has an exchange already is skipped.
        """
        backends = self.search([])
        Cron = self.env["ir.cron"]
        Cron._commit_progress(remaining=len(backends))
        today = fields.Date.context_today(self)
        _year, _week, _monday, last_sunday = vouchers.previous_week(today)
        for backend in backends:
            message = backend._procountor_feature_off("access_vouchers")
            if message:
                backend.sync_message = message
            else:
                backend._procountor_week_vouchers(last_sunday)
            if not Cron._commit_progress(1):
                break
        self.env["ir.cron"]._wake_every_copy_of("procountor_connector.ir_cron_procountor_push")

    # ------------------------------------------------------------------
    # Paid status and invoicing channels, by polling
    # ------------------------------------------------------------------
    @api.model
    def _cron_poll(self):
        """Read invoice statuses and customers' channels of every connection that may."""
        backends = self.search([])
        Cron = self.env["ir.cron"]
        Cron._commit_progress(remaining=len(backends))
        for backend in backends:
            messages = []
            for method in (backend._procountor_poll_invoices, backend._procountor_poll_partners):
                try:
                    with self.env.cr.savepoint():
                        message = method()
                except (ProcountorError, UserError) as error:
                    message = str(error)
                    _logger.warning("Procountor sync of %s failed: %s", backend.display_name, error)
                if message:
                    messages.append(message)
            backend.sync_message = "\n".join(messages)
            if not Cron._commit_progress(1):
                break

    def _procountor_poll_invoices(self):
        """Follow the transferred invoices still open; register what Procountor saw paid.

        Returns a message when this part is off or could not finish, else ``False``.
        """
        self.ensure_one()
        off = self._procountor_feature_off("access_invoices")
        if off:
            return off
        Move = self.env["account.move"]
        moves = Move.search(
            [
                ("procountor_backend_id", "=", self.id),
                ("procountor_invoice_id", "!=", False),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
            ]
        )
        if not moves:
            return False
        by_remote = {move.procountor_invoice_id: move for move in moves}
        since = self.invoice_version or None
        if not since:
            # The first time, invoices changed since the first transfer (a day earlier, for
            # Procountor's local time), not every invoice the company ever had.
            first = self.env["procountor.exchange"].search(
                [("backend_id", "=", self.id), ("kind", "=", "invoice")], order="id", limit=1
            )
            since = (first.create_date or fields.Datetime.now()) - timedelta(days=1)
        try:
            with self._procountor_client() as client:
                changed = client.search_invoices(version_start=since)
                latest = self.invoice_version or ""
                for invoice in changed:
                    latest = max(latest, str(invoice.get("version") or ""))
                    move = by_remote.get(invoice.get("id"))
                    if move:
                        move._procountor_follow_status(client, invoice.get("status"), self)
        except ProcountorPermissionError as error:
            return self._procountor_denied("access_invoices", error)
        self.invoice_version = latest or False
        if not self.payment_journal_id:
            return self.env._(
                "Choose the payments journal of %s: paid invoices are not registered without it.",
                self.display_name,
            )
        return False

    def _procountor_poll_partners(self):
        """Bring changed invoicing channels of Procountor's customer register to the partners."""
        self.ensure_one()
        off = self._procountor_feature_off("access_partners")
        if off:
            return off
        Partner = self.env["res.partner"]
        try:
            with self._procountor_client() as client:
                changed = client.search_business_partners(
                    version_start=self.partner_version or None
                )
                numbers = {
                    str((p.get("invoicingInfo") or {}).get("customerNumber") or ""): p
                    for p in changed
                }
                numbers.pop("", None)
                latest = max(
                    [self.partner_version or "", *(str(p.get("version") or "") for p in changed)]
                )
                partners = (
                    Partner.search(
                        [
                            ("procountor_customer_number", "in", list(numbers)),
                            *Partner._check_company_domain(self.company_id),
                        ]
                    )
                    if numbers
                    else Partner
                )
                for number, group in partners.grouped("procountor_customer_number").items():
                    remote = client.get_business_partner(numbers[number]["id"])
                    channel = procountor_invoices.channel_from_business_partner(remote)
                    if not channel.channel:
                        continue
                    vals = {
                        "procountor_invoice_channel": channel.channel,
                        "procountor_einvoice_address": channel.einvoice_address or False,
                        "procountor_einvoice_operator": channel.einvoice_operator or False,
                    }
                    group.filtered(
                        lambda p, vals=vals: any(p[k] != v for k, v in vals.items())
                    ).write(vals)
        except ProcountorPermissionError as error:
            return self._procountor_denied("access_partners", error)
        self.partner_version = latest or False
        return False

    def action_view_exchanges(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "procountor_connector.procountor_exchange_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"default_backend_id": self.id}
        return action

    def action_build_vouchers(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Build memo vouchers"),
            "res_model": "procountor.voucher.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_backend_id": self.id},
        }


def _check_endpoint_change(records, vals, endpoint_fields):
    """Refuse a change of where the credentials go by a user who may not read them."""
    changed = [name for name in endpoint_fields if name in vals]
    if not changed or records.env.is_system():
        return
    for record in records:
        if any((record[name] or False) != (vals[name] or False) for name in changed):
            raise AccessError(
                records.env._(
                    "Only a system administrator may change where %(record)s sends its "
                    "credentials (%(fields)s).",
                    record=record.display_name,
                    fields=", ".join(records._fields[name].string for name in changed),
                )
            )
