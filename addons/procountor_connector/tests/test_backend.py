# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError, ValidationError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged

from odoo.addons.base.tests.common import BaseCommon


@tagged("post_install", "-at_install")
class TestBackend(BaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Second Operator"})
        cls.backend = cls.env["procountor.backend"].create(
            {
                "name": "Federation books",
                "environment": "custom",
                "custom_url": "http://127.0.0.1:9/api/",
                "client_id": "client",
                "client_secret": "secret",
                "api_key": "key",
            }
        )
        cls.user_plain = new_test_user(cls.env, login="pc-plain", groups="base.group_user")
        cls.user_manager = new_test_user(
            cls.env,
            login="pc-manager",
            groups="base.group_user,procountor_connector.group_procountor_manager",
        )

    def test_base_url(self):
        self.assertEqual(self.backend.base_url, "http://127.0.0.1:9/api")
        self.backend.environment = "test"
        self.assertEqual(self.backend.base_url, "https://pts-api.procountor.com/api")
        with self.assertRaises(ValidationError):
            self.backend.write({"environment": "custom", "custom_url": "ftp://x"})

    def test_plain_user_cannot_read(self):
        with self.assertRaises(AccessError):
            self.env["procountor.backend"].with_user(self.user_plain).search([]).read(["name"])

    def test_credentials_for_system_only(self):
        backend = self.backend.with_user(self.user_manager)
        self.assertEqual(backend.read(["name"])[0]["name"], "Federation books")
        with self.assertRaises(AccessError):
            backend.read(["client_secret"])

    def test_second_company_does_not_see_first(self):
        other = self.env["procountor.backend"].create(
            {"name": "Other books", "company_id": self.company_b.id}
        )
        self.user_manager.write({"company_ids": [(4, self.company_b.id)]})
        env_b = self.env(
            user=self.user_manager, context={"allowed_company_ids": [self.company_b.id]}
        )
        self.assertEqual(env_b["procountor.backend"].search([]).ids, other.ids)

    def test_neutralize_wipes_credentials(self):
        self.env.flush_all()
        for query in get_neutralization_queries(["procountor_connector"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertFalse(self.backend.active)
        self.assertFalse(self.backend.sudo().client_secret)
        self.assertFalse(self.backend.sudo().api_key)
