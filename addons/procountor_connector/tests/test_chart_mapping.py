# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from psycopg2 import IntegrityError

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from nordic_billing.sandbox.procountor import LEAST_PRIVILEGE_API_KEY

from .common import ProcountorCase


@tagged("post_install", "-at_install")
class TestChart(ProcountorCase):
    def test_chart_and_dimensions_synced_with_inactive_kept(self):
        Account = self.env["procountor.account"].with_context(active_test=False)
        accounts = Account.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(len(accounts), 14)
        old = accounts.filtered(lambda a: a.code == "3999")
        self.assertFalse(old.active)
        self.assertEqual(old.name, "Vanhat jäsenmaksutuotot")
        Item = self.env["procountor.dimension.item"].with_context(active_test=False)
        items = Item.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(
            sorted(items.mapped("code")),
            ["JASENYYS", "LIITTO", "NUORISO", "PIIRI", "SEURA", "VANHA"],
        )
        self.assertFalse(items.filtered(lambda i: i.code == "VANHA").active)
        self.assertEqual(self.item["SEURA"].remote_id, 13)
        self.assertEqual(self.item["SEURA"].dimension_id.remote_id, 1)
        # The usual Finnish accounts are proposed, not forced.
        self.assertEqual(self.backend.clearing_account_id.code, "1710")
        self.assertEqual(self.backend.bank_account_id.code, "1910")
        self.assertFalse(self.backend.sync_message)

    def test_resync_follows_procountor(self):
        env = self.sandbox.state.environment()
        env.accounts = [a for a in env.accounts if a["ledgerAccountCode"] != "3100"]
        for account in env.accounts:
            if account["ledgerAccountCode"] == "3999":
                account["active"] = True
        env.dimensions[1]["items"][1]["status"] = "P"  # project NUORISO closed
        self.backend._procountor_sync_chart()
        Account = self.env["procountor.account"].with_context(active_test=False)
        by_code = {a.code: a for a in Account.search([("backend_id", "=", self.backend.id)])}
        self.assertFalse(by_code["3100"].active, "an account gone from Procountor is kept inactive")
        self.assertTrue(by_code["3999"].active)
        self.assertFalse(self.item["NUORISO"].active)
        self.assertEqual(len(by_code), 14)

    def test_dimensions_denied_keeps_the_chart_syncing(self):
        self.backend.sudo().api_key = LEAST_PRIVILEGE_API_KEY
        self.backend._procountor_sync_chart()
        self.assertEqual(self.backend.access_dimensions, "denied")
        self.assertIn("may not use dimensions", self.backend.sync_message)
        # The items synced earlier stay usable.
        self.assertTrue(self.item["SEURA"].active)

    def test_sync_button_reports_counts(self):
        action = self.backend.action_sync_chart()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("14 accounts", action["params"]["message"])

    def test_scheduled_sync_survives_a_broken_connection(self):
        broken = self._create_backend(name="Broken", organisation_id=self.club.id)
        broken.sudo().client_secret = "wrong"
        with mute_logger("odoo.addons.procountor_connector.models.procountor_backend"):
            self.run_cron("ir_cron_procountor_sync_chart")
        self.assertIn("INVALID_CLIENT", broken.sync_message)
        self.assertTrue(self.backend.chart_synced)
        self.assertFalse(self.backend.sync_message)


@tagged("post_install", "-at_install")
class TestMapping(ProcountorCase):
    def test_inactive_account_refused_with_a_clear_message(self):
        old = (
            self.env["procountor.account"]
            .with_context(active_test=False)
            .search([("backend_id", "=", self.backend.id), ("code", "=", "3999")])
        )
        with self.assertRaisesRegex(ValidationError, "3999 .* is inactive in Procountor"):
            self.env["procountor.product.mapping"].create(
                {
                    "backend_id": self.backend.id,
                    "product_id": self.youth_fee.id,
                    "account_id": old.id,
                }
            )

    def test_inactive_dimension_item_refused(self):
        closed = (
            self.env["procountor.dimension.item"]
            .with_context(active_test=False)
            .search([("backend_id", "=", self.backend.id), ("code", "=", "VANHA")])
        )
        with self.assertRaisesRegex(ValidationError, "VANHA is inactive in Procountor"):
            self.mapping_club.dimension_item_ids = [(6, 0, closed.ids)]

    def test_one_item_per_dimension(self):
        with self.assertRaisesRegex(ValidationError, "two items of one dimension"):
            self.mapping_club.dimension_item_ids = [
                (6, 0, (self.item["SEURA"] | self.item["PIIRI"]).ids)
            ]

    def test_account_of_another_connection_refused(self):
        other = self._create_backend(name="Club books", organisation_id=self.club.id)
        other._procountor_sync_chart()
        with self.assertRaisesRegex(ValidationError, "another Procountor connection"):
            self.mapping_club.account_id = other.account_ids[:1]

    def test_one_default_and_one_per_organisation(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.env["procountor.product.mapping"].create(self._mapping(self.fee, None, "3010"))
        # An archived mapping does not count.
        self.mapping_default.active = False
        self.env.flush_all()
        self.env["procountor.product.mapping"].create(self._mapping(self.fee, None, "3010"))

    def test_unmapped_products_listed(self):
        self.assertEqual(self.backend.unmapped_product_ids, self.youth_fee)
        action = self.backend.action_view_unmapped_products()
        self.assertEqual(action["domain"], [("id", "in", self.youth_fee.ids)])
        # A mapping for one organisation leaves the others unmapped.
        Mapping = self.env["procountor.product.mapping"]
        Mapping.create(self._mapping(self.youth_fee, self.club, "3100"))
        self.assertEqual(self.backend.unmapped_product_ids, self.youth_fee)
        Mapping.create(self._mapping(self.youth_fee, None, "3100"))
        self.assertFalse(self.backend.unmapped_product_ids)
        self.assertEqual(self.backend.unmapped_product_count, 0)

    def test_organisation_with_own_connection_is_booked_there(self):
        own = self._create_backend(name="Club books", organisation_id=self.club.id)
        self.assertNotIn(self.club, self.backend._procountor_booked_organisations())
        self.assertEqual(own._procountor_booked_organisations(), self.club)
        Backend = self.env["procountor.backend"]
        self.assertEqual(Backend._procountor_for(self.env.company, self.club), own)
        self.assertEqual(Backend._procountor_for(self.env.company, self.district), self.backend)

    def test_user_may_read_but_not_map(self):
        from odoo.tests import new_test_user

        user = new_test_user(
            self.env,
            login="pc-user",
            groups="base.group_user,procountor_connector.group_procountor_user",
        )
        Mapping = self.env["procountor.product.mapping"].with_user(user)
        self.assertEqual(len(Mapping.search([])), 4)
        with self.assertRaises(UserError):
            Mapping.create(self._mapping(self.youth_fee, None, "3100"))
