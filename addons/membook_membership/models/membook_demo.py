# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Demo data: a Finnish federation that has billed its members and imported a bank day.

Made by code rather than XML records because most of it is the result of the addon's own flows
(a billing run, a bank file imported and matched, settlements): the demo shows what those flows
make. ``demo/membook_demo.xml`` calls :meth:`MembookDemo._generate` when Odoo loads demo data;
``tools/demo`` calls it again once every addon is installed, which adds the Procountor and
collection agency connections to the local sandboxes. It is deterministic: the same names,
amounts and references on every run (dates follow the day it runs).
"""

import logging
import os
from datetime import datetime, timedelta

from odoo import api, fields, models
from odoo.tools import config

from nordic_billing.bankfiles import KtlBatch, write_ktl
from nordic_billing.money import to_decimal
from nordic_billing.payment import Payment

from .account_journal import FOLDER_ROOT_OPTION

_logger = logging.getLogger(__name__)

XMLID_PREFIX = "membook_membership.demo_"
# The client-funds account of the demo company, as the bank writes it in its files (BBAN).
BANK_BBAN = "47300010416310"
BANK_IBAN = "FI4947300010416310"

DISTRICTS = {
    "Uusimaa District": ["Helsinki Ski Club", "Espoo Skiers", "Vantaa Nordic"],
    "Pirkanmaa District": ["Tampere Ski Club", "Nokia Skiers", "Ylöjärvi Nordic"],
    "Lapland District": ["Rovaniemi Ski Club", "Levi Skiers", "Ylläs Nordic"],
}
ORGANISATION_IBANS = [
    "FI2112345600000785",
    "FI5810171000000122",
    "FI4950009420028730",
    "FI7640055020007716",
    "FI3715963000001115",
    "FI1350001520000081",
    "FI0280001700000017",
    "FI6610093000123457",
    "FI3550001520000087",
    "FI8080001400000096",
    "FI9080002627761348",
    "FI5612345600000785",
    "FI8810093000123454",
]
FIRST_NAMES = [
    "Aino",
    "Eero",
    "Helmi",
    "Juho",
    "Kaisa",
    "Lauri",
    "Maija",
    "Niko",
    "Oona",
    "Pekka",
    "Riikka",
    "Sami",
    "Tuula",
    "Ville",
    "Elina",
    "Antti",
    "Sanna",
]
LAST_NAMES = [
    "Virtanen",
    "Korhonen",
    "Mäkinen",
    "Nieminen",
    "Hämäläinen",
    "Laine",
    "Heikkinen",
    "Koskinen",
    "Järvinen",
    "Lehtonen",
    "Lehtinen",
    "Saarinen",
    "Salminen",
    "Heinonen",
    "Niemi",
    "Kinnunen",
    "Rantanen",
    "Turunen",
    "Salonen",
]


class MembookDemo(models.AbstractModel):
    _name = "membook.demo"
    _description = "Membership billing demo data"

    # ------------------------------------------------------------------
    # Entry point
    # ------------------------------------------------------------------
    @api.model
    def _generate(self, members=300):
        """Make the demo company and its day, once; add the connections whose addons are
        installed since (each part is made when missing). Returns the demo company."""
        company = self.env.ref(XMLID_PREFIX + "company", raise_if_not_found=False)
        if not company:
            company = self._make_company()
            demo = self.with_company(company).with_context(
                allowed_company_ids=[company.id], tracking_disable=True, mail_notrack=True
            )
            demo._make_federation(company, members)
        demo = self.with_company(company).with_context(allowed_company_ids=[company.id])
        demo._make_connections(company)
        return company

    def _xmlid(self, name, record):
        self.env["ir.model.data"]._update_xmlids(
            [{"xml_id": XMLID_PREFIX + name, "record": record, "noupdate": True}]
        )

    # ------------------------------------------------------------------
    # The company and its books
    # ------------------------------------------------------------------
    @api.model
    def _make_company(self):
        finland = self.env.ref("base.fi")
        # No look-up of the company on the internet (partner_autocomplete) for a demo.
        enrich = (
            {"iap_enrich_auto_done": True}
            if "iap_enrich_auto_done" in self.env["res.company"]._fields
            else {}
        )
        company = self.env["res.company"].create(
            {
                **enrich,
                "name": "Finnish Ski Federation Services",
                "country_id": finland.id,
                "currency_id": self.env.ref("base.EUR").id,
                "city": "Helsinki",
                "street": "Radiokatu 20",
                "zip": "00240",
                "email": "office@ski-federation.example.com",
            }
        )
        self._xmlid("company", company)
        Chart = self.env["account.chart.template"]
        chart = "fi" if "fi" in Chart._get_chart_template_mapping() else "generic_coa"
        # try_loading's own checks, less its warning about a registry still loading: the
        # chart's module is installed already, which is what that warning is about.
        Chart.sudo()._load(chart, company, install_demo=False)
        admin = self.env.ref("base.user_admin")
        admin.write({"company_ids": [(4, company.id)], "company_id": company.id})
        return company

    def _account(self, company, code, name, account_type, reconcile=False):
        Account = self.env["account.account"]
        account = Account.search(
            [*Account._check_company_domain(company), ("code", "=", code)], limit=1
        )
        return account or Account.create(
            {"name": name, "code": code, "account_type": account_type, "reconcile": reconcile}
        )

    def _make_books(self, company):
        Journal = self.env["account.journal"]
        domain = Journal._check_company_domain(company)
        sale = Journal.search([*domain, ("type", "=", "sale")], limit=1)
        models_ = dict(sale._fields["invoice_reference_model"]._description_selection(self.env))
        if "fi" in models_:
            sale.invoice_reference_model = "fi"
        bank = Journal.search([*domain, ("type", "=", "bank")], limit=1)
        nordea = self.env["res.bank"].search([("bic", "=", "NDEAFIHH")], limit=1)
        nordea = nordea or self.env["res.bank"].create({"name": "Nordea", "bic": "NDEAFIHH"})
        bank.write(
            {
                "name": "Client funds (Nordea)",
                "bank_account_id": self.env["res.partner.bank"]
                .create(
                    {
                        "acc_number": BANK_IBAN,
                        "partner_id": company.partner_id.id,
                        "bank_id": nordea.id,
                    }
                )
                .id,
                "membook_unidentified_account_id": self._account(
                    company, "2899", "Unidentified payments", "liability_current", True
                ).id,
            }
        )
        misc = Journal.search([*domain, ("type", "=", "general")], limit=1)
        company.write(
            {
                "membook_payout_journal_id": bank.id,
                "membook_ledger_journal_id": misc.id,
                "membook_transit_account_id": self._account(
                    company, "2891", "Shares billed for organisations", "liability_current"
                ).id,
                "membook_due_account_id": self._account(
                    company, "2892", "Due to organisations", "liability_current", True
                ).id,
                "membook_service_fee_fixed": 0.5,
                "membook_service_fee_account_id": self._account(
                    company, "3091", "Service fees", "income"
                ).id,
            }
        )
        return sale, bank

    # ------------------------------------------------------------------
    # The federation, its members, and what happened to them
    # ------------------------------------------------------------------
    def _make_federation(self, company, members):
        sale, bank = self._make_books(company)
        ibans = iter(ORGANISATION_IBANS)

        def organisation(name, level, parent=None):
            record = self.env["membook.organisation"].create(
                {
                    "name": name,
                    "company_id": company.id,
                    "level_id": level.id,
                    "parent_organisation_id": parent.id if parent else False,
                }
            )
            record.settlement_bank_id = self.env["res.partner.bank"].create(
                {"acc_number": next(ibans), "partner_id": record.partner_id.id}
            )
            return record

        Level = self.env["membook.organisation.level"]
        levels = [
            Level.create({"name": name, "code": code, "sequence": seq, "company_id": company.id})
            for name, code, seq in (
                ("Federation", "FED", 10),
                ("District", "DIS", 20),
                ("Club", "CLUB", 30),
            )
        ]
        federation = organisation("Finnish Ski Federation", levels[0])
        self._xmlid("federation", federation)
        clubs = self.env["membook.organisation"]
        for district_name, club_names in DISTRICTS.items():
            district = organisation(district_name, levels[1], federation)
            for club_name in club_names:
                clubs |= organisation(club_name, levels[2], district)
        self._xmlid("club", clubs[3])  # Tampere Ski Club, the treasurer's

        adult = self._fee_product("Membership fee (adult)", 60.0, levels, (25.0, 10.0, 25.0))
        junior = self._fee_product("Membership fee (junior)", 30.0, levels, (10.0, 5.0, 15.0))
        junior_tag = self.env["res.partner.category"].create({"name": "Junior"})
        partners = self.env["res.partner"].create(
            [
                {
                    "name": f"{FIRST_NAMES[n % len(FIRST_NAMES)]} "
                    f"{LAST_NAMES[(n * 7) % len(LAST_NAMES)]}",
                    "email": f"member{n + 1:03d}@example.com",
                    "company_id": company.id,
                    "is_member": True,
                    "member_organisation_id": clubs[n % len(clubs)].id,
                    "city": "Helsinki",
                    "country_id": company.country_id.id,
                    "category_id": [(6, 0, junior_tag.ids)] if n % 5 == 4 else [],
                }
                for n in range(members)
            ]
        )
        today = fields.Date.context_today(self)
        invoice_date = today - timedelta(days=10)
        for name, product, category in (
            ("Adult fees", adult, ("category_id", "not in", junior_tag.ids)),
            ("Junior fees", junior, ("category_id", "in", junior_tag.ids)),
        ):
            members_of = [("is_member", "=", True), ("member_leave_date", "=", False), category]
            run = self.env["membook.billing.run"].create(
                {
                    "name": f"{name} {today.year}",
                    "company_id": company.id,
                    "journal_id": sale.id,
                    "product_ids": [(6, 0, product.ids)],
                    "invoice_date": invoice_date,
                    "due_days": 21,
                    "member_domain": repr(members_of),
                    "organisation_ids": [(6, 0, federation.ids)],
                    "send_email": False,
                }
            )
            run.action_start()
            # What the scheduled action does, here in one batch and without committing.
            run.line_ids.filtered(lambda line: line.state == "pending")._invoice()
            run.state = "done"

        invoices = self.env["account.move"].search(
            [("partner_id", "in", partners.ids), ("move_type", "=", "out_invoice")],
            order="id",
        )
        self._xmlid("invoice_unmatched", invoices[4])
        # The bank day already imported: most pay exactly; a few mistype their reference or
        # pay without one, which leaves them for the unmatched queue.
        paid_today = invoices[: int(len(invoices) * 0.7)]
        self.env["membook.bank.file"]._import_file(
            bank, "nordea-day-1.svm", self._ktl(paid_today, today - timedelta(days=1), "D1")
        )
        payments = self.env["membook.bank.payment"].search(
            [("company_id", "=", company.id), ("state", "=", "new")]
        )
        payments._process_batch()
        self.env["membook.settlement"].action_settle_now()
        # The next day's file waits in the journal's folder, for the scheduled action.
        waiting = invoices[len(paid_today) : len(paid_today) + 40]
        self._drop_waiting_file(bank, self._ktl(waiting, today, "D2"))
        self._make_users(company, federation, clubs[3])

    def _fee_product(self, name, price, levels, shares):
        return self.env["product.product"].create(
            {
                "name": name,
                "type": "service",
                "membership": True,
                "membership_date_from": fields.Date.context_today(self).replace(month=1, day=1),
                "membership_date_to": fields.Date.context_today(self).replace(month=12, day=31),
                "list_price": price,
                "taxes_id": [(5, 0, 0)],
                "membook_split_basis": "fixed",
                "membook_split_rule_ids": [
                    (0, 0, {"target_type": "level", "level_id": level.id, "value": value})
                    for level, value in zip(levels, shares, strict=True)
                ],
            }
        )

    def _ktl(self, invoices, day, prefix):
        payments = []
        for n, invoice in enumerate(invoices):
            reference = invoice.payment_reference or ""
            if n % 25 == 4:  # two digits swapped: the queue suggests the invoice
                reference = reference[:-3] + reference[-2] + reference[-3] + reference[-1]
            elif n % 50 == 9:  # a reference of nothing we billed
                reference = "99999999"
            payments.append(
                Payment(
                    account=BANK_BBAN,
                    archive_id=f"{prefix}{day:%y%m%d}{n:05d}",
                    reference=reference,
                    amount=to_decimal(invoice.amount_total),
                    currency="EUR",
                    payment_date=day,
                    booking_date=day,
                    payer_name=invoice.partner_id.name.upper()[:30],
                    is_correction=False,
                    source_format="ktl",
                    source_line="",
                )
            )
        created = datetime.combine(day, datetime.min.time()).replace(hour=8)
        return write_ktl([KtlBatch(payments=payments, created=created)])

    def _drop_waiting_file(self, bank, data):
        """Write tomorrow's file into the journal's folder under the server's bank folder root;
        without that option (see CONFIGURE) the file is left out and the log says so."""
        root = config.get(FOLDER_ROOT_OPTION)
        if not root:
            _logger.info(
                "Demo: no %s in the server configuration, so no bank file waits in a folder",
                FOLDER_ROOT_OPTION,
            )
            return
        folder = os.path.join(root, self.env.cr.dbname)
        os.makedirs(folder, exist_ok=True)
        bank.sudo().membook_import_folder = folder
        with open(os.path.join(folder, "nordea-day-2.svm"), "wb") as handle:
            handle.write(data)

    def _make_users(self, company, federation, club):
        Users = self.env["res.users"].with_context(no_reset_password=True)
        user_group = self.env.ref("base.group_user").id
        treasurer_group = self.env.ref("membook_membership.group_membook_treasurer").id
        common = {"company_id": company.id, "company_ids": [(6, 0, company.ids)]}
        manager = Users.create(
            {
                **common,
                "name": "Marja Manager",
                "login": "manager",
                "password": "manager",
                "email": "manager@ski-federation.example.com",
                "group_ids": [
                    (6, 0, [user_group, self.env.ref("membership.group_membership_manager").id]),
                ],
            }
        )
        treasurer = Users.create(
            {
                **common,
                "name": "Tapio Treasurer",
                "login": "treasurer",
                "password": "treasurer",
                "email": "treasurer@tampere-ski-club.example.com",
                "group_ids": [
                    (6, 0, [user_group, treasurer_group]),
                ],
                "membook_organisation_ids": [(6, 0, club.ids)],
            }
        )
        self._xmlid("user_manager", manager)
        self._xmlid("user_treasurer", treasurer)

    # ------------------------------------------------------------------
    # Connections to the local sandboxes
    # ------------------------------------------------------------------
    def _make_connections(self, company):
        """Hook: the addons that connect the demo company to a local sandbox extend it with
        super(), each making its connection once (see their models/membook_demo.py)."""
        return True
