# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from lxml import etree

from odoo.tests import new_test_user
from odoo.tools.safe_eval import safe_eval

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.base.tests.common import BaseCommon


def filter_domain(env, name, today):
    """The domain of a filter of the member register's search view, evaluated on ``today``."""
    arch = etree.fromstring(env.ref("membook_membership.res_partner_view_search_member").arch)
    node = arch.xpath(f"//filter[@name='{name}']")[0]
    return safe_eval(node.get("domain"), {"context_today": lambda: today})


class HierarchyMixin:
    """A federation -> district -> club hierarchy with its levels, in the current company."""

    @classmethod
    def _setup_hierarchy(cls):
        Level = cls.env["membook.organisation.level"]
        cls.level_federation = Level.create({"name": "Federation", "code": "FED", "sequence": 10})
        cls.level_district = Level.create({"name": "District", "code": "DIS", "sequence": 20})
        cls.level_club = Level.create({"name": "Club", "code": "CLUB", "sequence": 30})
        Organisation = cls.env["membook.organisation"]
        cls.federation = Organisation.create(
            {"name": "Finnish Ski Federation", "level_id": cls.level_federation.id}
        )
        cls.district = Organisation.create(
            {
                "name": "Pirkanmaa District",
                "level_id": cls.level_district.id,
                "parent_organisation_id": cls.federation.id,
            }
        )
        cls.club = Organisation.create(
            {
                "name": "Tampere Ski Club",
                "level_id": cls.level_club.id,
                "parent_organisation_id": cls.district.id,
            }
        )


class MembookCommon(HierarchyMixin, BaseCommon):
    """Two operator companies, a three-level hierarchy in the first, and users per role."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Second Operator"})
        cls._setup_hierarchy()
        cls.user_plain = new_test_user(cls.env, login="membook-plain", groups="base.group_user")
        cls.user_member = new_test_user(
            cls.env,
            login="membook-user",
            groups="base.group_user,membook_membership.group_membook_user",
        )
        cls.user_manager = new_test_user(
            cls.env,
            login="membook-manager",
            groups="base.group_user,membership.group_membership_manager",
        )


class MembookBillingCommon(HierarchyMixin, AccountTestInvoicingCommon):
    """Accounting, the hierarchy, a 60 EUR fee split 25/10/25 by level, and members."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The accounting test user also runs the membership office.
        cls.env.user.group_ids |= cls.env.ref("membership.group_membership_manager")
        cls._setup_hierarchy()
        cls.sale_journal = cls.company_data["default_journal_sale"]
        cls.fee = cls._create_fee_product(
            "Membership fee 2026",
            60.0,
            [
                (cls.level_federation, 25.0),
                (cls.level_district, 10.0),
                (cls.level_club, 25.0),
            ],
        )
        Partner = cls.env["res.partner"]
        cls.member_a = Partner.create(
            {
                "name": "Aino Member",
                "email": "aino@example.com",
                "is_member": True,
                "member_organisation_id": cls.club.id,
            }
        )
        cls.member_b = Partner.create(
            {"name": "Bertil Member", "is_member": True, "member_organisation_id": cls.club.id}
        )
        cls.member_other = Partner.create(
            {
                "name": "Other District Member",
                "email": "other@example.com",
                "is_member": True,
                "member_organisation_id": cls.district.id,
            }
        )

    @classmethod
    def _share(cls, target, value):
        if target._name == "membook.organisation":
            return {"target_type": "organisation", "organisation_id": target.id, "value": value}
        return {"target_type": "level", "level_id": target.id, "value": value}

    @classmethod
    def _create_fee_product(cls, name, price, shares, basis="fixed"):
        return cls.env["product.product"].create(
            {
                "name": name,
                "type": "service",
                "membership": True,
                "membership_date_from": date(2026, 1, 1),
                "membership_date_to": date(2026, 12, 31),
                "list_price": price,
                "taxes_id": [],
                "property_account_income_id": cls.company_data["default_account_revenue"].id,
                "membook_split_basis": basis,
                "membook_split_rule_ids": [
                    (0, 0, cls._share(target, value)) for target, value in shares
                ],
            }
        )

    def _run(self, **values):
        return self.env["membook.billing.run"].create(
            {
                "name": "Fees 2026",
                "period_key": "2026",
                "journal_id": self.sale_journal.id,
                "product_ids": [(6, 0, self.fee.ids)],
                **values,
            }
        )

    def _process_runs(self, max_runs=5):
        """Trigger the billing cron until no run is left running, as the scheduler would.

        One trigger may stop early when a job outlives its time budget (a slow machine, the
        first invoice of a test database): the scheduler then calls it again.
        """
        cron = self.env.ref("membook_membership.ir_cron_membook_billing_run")
        for _attempt in range(max_runs):
            with self.enter_registry_test_mode():
                cron.method_direct_trigger()
            pending = self.env["membook.billing.run.line"].search_count(
                [("run_id.state", "=", "running"), ("state", "in", ("pending", "invoiced"))]
            )
            # A trigger that ran out of time after its last batch leaves the run to close.
            if not pending and not self.env["membook.billing.run"].search_count(
                [("state", "=", "running")]
            ):
                return


class BooksMixin:
    """The books of MembookBillingCommon's company set up as CONFIGURE describes: the transit
    and due-to-organisations accounts, a 0.50 service fee per payment, the client-funds bank
    journal with its account, and the organisations' settlement accounts."""

    @classmethod
    def _setup_books(cls, fee_fixed=0.5, fee_percent=0.0):
        Account = cls.env["account.account"]
        cls.transit_account = Account.create(
            {
                "name": "Shares billed for organisations",
                "code": "2891",
                "account_type": "liability_current",
            }
        )
        cls.due_account = Account.create(
            {
                "name": "Due to organisations",
                "code": "2892",
                "account_type": "liability_current",
                "reconcile": True,
            }
        )
        cls.service_fee_account = Account.create(
            {"name": "Service fees", "code": "3091", "account_type": "income"}
        )
        cls.bank_journal = cls.company_data["default_journal_bank"]
        nordea = cls.env["res.bank"].create({"name": "Nordea", "bic": "NDEAFIHH"})
        cls.bank_journal.bank_account_id = cls.env["res.partner.bank"].create(
            {
                "acc_number": "FI1410093000123458",
                "partner_id": cls.env.company.partner_id.id,
                "bank_id": nordea.id,
            }
        )
        cls.env.company.write(
            {
                "membook_payout_journal_id": cls.bank_journal.id,
                "membook_ledger_journal_id": cls.company_data["default_journal_misc"].id,
                "membook_transit_account_id": cls.transit_account.id,
                "membook_due_account_id": cls.due_account.id,
                "membook_service_fee_fixed": fee_fixed,
                "membook_service_fee_percent": fee_percent,
                "membook_service_fee_account_id": cls.service_fee_account.id,
            }
        )
        for organisation, iban in (
            (cls.federation, "FI2112345600000785"),
            (cls.district, "FI5810171000000122"),
            (cls.club, "FI4950009420028730"),
        ):
            organisation.settlement_bank_id = cls.env["res.partner.bank"].create(
                {"acc_number": iban, "partner_id": organisation.partner_id.id}
            )

    def _balance(self, account, partner=None):
        """Credit balance of ``account`` (for ``partner``), posted items only."""
        domain = [("account_id", "=", account.id), ("parent_state", "=", "posted")]
        if partner is not None:
            domain.append(("partner_id", "=", partner.id))
        lines = self.env["account.move.line"].search(domain)
        return round(-sum(lines.mapped("balance")), 2)
