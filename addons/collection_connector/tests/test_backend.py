# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from psycopg2 import IntegrityError

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.base.tests.common import BaseCommon


@tagged("post_install", "-at_install")
class TestBackend(BaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Second Operator"})
        cls.backend = cls.env["collection.backend"].create(
            {"name": "Agency A", "url": "http://127.0.0.1:9", "creates_cases": True}
        )
        cls.user_plain = new_test_user(cls.env, login="cc-plain", groups="base.group_user")
        cls.user_manager = new_test_user(
            cls.env,
            login="cc-manager",
            groups="base.group_user,collection_connector.group_collection_manager",
        )

    def test_plain_user_cannot_read(self):
        with self.assertRaises(AccessError):
            self.env["collection.backend"].with_user(self.user_plain).search([]).read(["name"])

    def test_one_creating_backend_per_company(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["collection.backend"].create(
                {"name": "Agency B", "url": "http://127.0.0.1:9", "creates_cases": True}
            )
        # Another company may have its own creating backend.
        self.env["collection.backend"].create(
            {
                "name": "Agency B",
                "url": "http://127.0.0.1:9",
                "creates_cases": True,
                "company_id": self.company_b.id,
            }
        )

    def test_second_company_does_not_see_first(self):
        other = self.env["collection.backend"].create(
            {"name": "Other agency", "url": "http://127.0.0.1:9", "company_id": self.company_b.id}
        )
        self.user_manager.write({"company_ids": [(4, self.company_b.id)]})
        env_b = self.env(
            user=self.user_manager, context={"allowed_company_ids": [self.company_b.id]}
        )
        self.assertEqual(env_b["collection.backend"].search([]).ids, other.ids)
        with self.assertRaises(AccessError):
            self.backend.with_user(self.user_manager).read(["api_key"])
