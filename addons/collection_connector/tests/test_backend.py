# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import importlib.util

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import file_open, file_path, mute_logger

from odoo.addons.base.tests.common import BaseCommon

from nordic_billing.collection import adapter_choices


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

    def test_protocols_come_from_the_adapter_registry(self):
        selection = dict(
            self.env["collection.backend"]._fields["protocol"]._description_selection(self.env)
        )
        self.assertEqual(set(selection), set(dict(adapter_choices())))
        self.assertIn("generic_soap", selection)
        self.assertEqual(self.backend.protocol, "generic_rest")

    def test_skeleton_protocols_are_migrated(self):
        spec = importlib.util.spec_from_file_location(
            "collection_pre_migration",
            file_path("collection_connector/migrations/19.0.1.1.0/pre-migration.py"),
        )
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        soap = self.env["collection.backend"].create(
            {"name": "Old SOAP", "url": "http://127.0.0.1:9", "company_id": self.company_b.id}
        )
        self.env.flush_all()
        self.cr.execute(
            "UPDATE collection_backend SET protocol = 'rest' WHERE id = %s", [self.backend.id]
        )
        self.cr.execute("UPDATE collection_backend SET protocol = 'soap' WHERE id = %s", [soap.id])
        migration.migrate(self.cr, "19.0.1.0.0")
        self.env.invalidate_all()
        self.assertEqual(self.backend.protocol, "generic_rest")
        self.assertEqual(soap.protocol, "generic_soap")

    def test_factoring_blocks_collection(self):
        company = self.env.company
        with self.assertRaisesRegex(ValidationError, "archive the agency"), self.cr.savepoint():
            company.collection_factoring_in_use = True
        self.backend.active = False
        company.collection_factoring_in_use = True
        with (
            self.assertRaisesRegex(ValidationError, "cannot be combined with a factoring"),
            self.cr.savepoint(),
        ):
            self.backend.active = True
        with (
            self.assertRaisesRegex(ValidationError, "cannot be combined with a factoring"),
            self.cr.savepoint(),
        ):
            self.env["collection.backend"].create({"name": "New", "url": "http://127.0.0.1:9"})
        # Through the settings, as staff would do it.
        company.collection_factoring_in_use = False
        self.backend.active = True
        with self.assertRaisesRegex(ValidationError, "archive the agency"), self.cr.savepoint():
            self.env["res.config.settings"].create({"collection_factoring_in_use": True}).execute()

    def test_switching_the_creating_backend(self):
        other = self.env["collection.backend"].create(
            {"name": "Agency B", "url": "http://127.0.0.1:9"}
        )
        other.action_make_creating()
        self.assertTrue(other.creates_cases)
        self.assertFalse(self.backend.creates_cases)
        self.assertEqual(self.env["collection.backend"]._creating_backend(self.env.company), other)

    def test_multi_company_rules_on_every_model(self):
        models = self.env["ir.model"].search([("model", "=like", "collection.%")])
        for model in models:
            if "company_id" not in self.env[model.model]._fields:
                continue
            rules = self.env["ir.rule"].search([("model_id", "=", model.id), ("global", "=", True)])
            self.assertTrue(rules, f"{model.model} has no multi-company rule")
        self.assertIn("company_id", self.env["collection.case"]._fields)

    def test_neutralized_copy_sends_nothing(self):
        self.backend.api_key = "production-key"
        with file_open("collection_connector/data/neutralize.sql") as sql:
            self.env.flush_all()
            self.cr.execute(sql.read())
        self.env.invalidate_all()
        backends = self.env["collection.backend"].with_context(active_test=False).search([])
        self.assertEqual(set(backends.mapped("active")), {False})
        self.assertEqual(set(backends.sudo().mapped("api_key")), {False})
