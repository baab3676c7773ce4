# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Tests talk to the Procountor sandbox over real HTTP on 127.0.0.1, one sandbox per class."""

from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from unittest.mock import patch
from urllib.parse import urlsplit

from odoo.tests.common import _super_send

from odoo.addons.base.tests.common import BaseCommon
from odoo.addons.membook_membership.tests.common import HierarchyMixin, MembookBillingCommon
from odoo.addons.procountor_connector.models.procountor_backend import (
    _TOKENS,
    SettlementRow,
    VoucherRow,
)

from nordic_billing.sandbox.procountor import (
    DEFAULT_API_KEY,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    start_in_thread,
)

D = Decimal
WEEK_DAY = date(2026, 11, 18)  # a Wednesday of ISO week 2026-W47 (16-22 November)
SUNDAY = date(2026, 11, 22)
# Sandbox seed: dimension 1 cost centres 11 LIITTO, 12 PIIRI, 13 SEURA, 19 VANHA (inactive);
# dimension 2 projects 21 JASENYYS, 22 NUORISO.


class SandboxMixin:
    """A Procountor sandbox for the class, back to its seed before every test."""

    # Odoo's test runner raises every HTTP timeout under 10 s to 10 s. The tests of an answer
    # that never comes need the connection's own short timeout, against the local sandbox only.
    _keep_short_timeouts = False

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        if cls._keep_short_timeouts and urlsplit(r.url).hostname == "127.0.0.1":
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    @contextmanager
    def short_timeouts(self, seconds=1.0):
        """The backend answers within ``seconds`` or gives up (a timeout)."""
        self.backend.timeout = seconds
        with patch.object(type(self), "_keep_short_timeouts", True):
            yield

    @classmethod
    def _start_sandbox(cls):
        cls.sandbox = start_in_thread()
        cls.addClassCleanup(cls.sandbox.stop)

    @classmethod
    def _create_backend(cls, api_key=DEFAULT_API_KEY, **vals):
        # Credentials are for system administrators: the accounting test user has none.
        backend = (
            cls.env["procountor.backend"]
            .sudo()
            .create(
                {
                    "name": "Federation books",
                    "environment": "custom",
                    "custom_url": cls.sandbox.url,
                    "client_id": DEFAULT_CLIENT_ID,
                    "client_secret": DEFAULT_CLIENT_SECRET,
                    "api_key": api_key,
                    "timeout": 2.0,
                    "retry_backoff": 0.01,  # retries wait 10 ms, not seconds
                    **vals,
                }
            )
        )
        return backend.with_env(cls.env)

    def setUp(self):
        super().setUp()
        self.sandbox.state.reset()
        self.sandbox.faults.clear()
        _TOKENS.clear()
        self.addCleanup(self._assert_contract_kept)

    def _assert_contract_kept(self):
        self.assertEqual(self.sandbox.state.violations, [], "the sandbox broke its contract")

    # Helpers on the sandbox's side
    def receipts(self):
        return list(self.sandbox.state.environment().ledger_receipts.values())

    def requests_to(self, method, path=None):
        return [
            r
            for r in self.sandbox.state.requests
            if r[0] == method and (path is None or r[1] == path)
        ]

    def run_cron(self, xmlid):
        with self.enter_registry_test_mode():
            self.env.ref(f"procountor_connector.{xmlid}").method_direct_trigger()
        self.env.invalidate_all()


class VoucherMixin(HierarchyMixin, SandboxMixin):
    """The three-level hierarchy with codes, a synced chart and a mapping per level."""

    @classmethod
    def _setup_vouchers(cls):
        cls._start_sandbox()
        cls._setup_hierarchy()
        cls.federation.ref = "LIITTO"
        cls.district.ref = "PIIRI"
        cls.club.ref = "SEURA"
        cls.backend = cls._create_backend()
        cls.backend._procountor_sync_chart()
        cls.fee = cls._fee_product("Membership fee 2026", 60.0)
        cls.youth_fee = cls._fee_product("Youth fee 2026", 20.0)
        cls.account = {a.code: a for a in cls.backend.account_ids}
        cls.item = {i.code: i for i in cls.backend.dimension_ids.item_ids}
        Mapping = cls.env["procountor.product.mapping"]
        cls.mapping_default = Mapping.create(cls._mapping(cls.fee, None, "3000", "JASENYYS"))
        cls.mapping_federation = Mapping.create(
            cls._mapping(cls.fee, cls.federation, "3060", "LIITTO", "JASENYYS")
        )
        cls.mapping_district = Mapping.create(cls._mapping(cls.fee, cls.district, "3050", "PIIRI"))
        cls.mapping_club = Mapping.create(
            cls._mapping(cls.fee, cls.club, "3000", "SEURA", "JASENYYS")
        )

    @classmethod
    def _fee_product(cls, name, price):
        return cls.env["product.product"].create(
            {
                "name": name,
                "type": "service",
                "membership": True,
                "membership_date_from": date(2026, 1, 1),
                "membership_date_to": date(2026, 12, 31),
                "list_price": price,
                "taxes_id": [],
            }
        )

    @classmethod
    def _mapping(cls, product, organisation, account, *items):
        return {
            "backend_id": cls.backend.id,
            "product_id": product.id,
            "organisation_id": organisation.id if organisation else False,
            "account_id": cls.account[account].id,
            "dimension_item_ids": [(6, 0, [cls.item[code].id for code in items])],
        }

    def fee_rows(self, day=WEEK_DAY):
        """The 60 EUR fee of two club members, split 25 / 10 / 25 over the hierarchy."""
        return [
            VoucherRow(organisation, self.fee, D(amount), day)
            for organisation, amount in (
                (self.federation, "25.00"),
                (self.district, "10.00"),
                (self.club, "25.00"),
            )
        ] * 2

    def settlement(self, organisation, amount, day=WEEK_DAY):
        return SettlementRow(organisation, D(amount), day, "Settlement")

    def queue(self, rows, settlements=(), day=WEEK_DAY, backend=None):
        backend = backend or self.backend
        drafts = backend._procountor_build_vouchers(rows, settlements, day)
        return backend._procountor_queue_vouchers(drafts, day)


class ProcountorCase(VoucherMixin, BaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_vouchers()


class ProcountorBillingCase(SandboxMixin, MembookBillingCommon):
    """Accounting, the hierarchy with its 25 / 10 / 25 split fee, members and a backend."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids |= cls.env.ref("procountor_connector.group_procountor_manager")
        cls._start_sandbox()
        cls.backend = cls._create_backend(
            payment_journal_id=cls.company_data["default_journal_bank"].id
        )
