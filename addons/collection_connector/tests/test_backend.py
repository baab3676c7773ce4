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
        # The expected conflict is a clear message, not a failed statement in the server log.
        with (
            self.assertNoLogs("odoo.sql_db", "ERROR"),
            self.assertRaisesRegex(ValidationError, "Agency A already creates"),
        ):
            self.env["collection.backend"].create(
                {"name": "Agency B", "url": "http://127.0.0.1:9", "creates_cases": True}
            )
        second = self.env["collection.backend"].create(
            {"name": "Agency C", "url": "http://127.0.0.1:9"}
        )
        with (
            self.assertNoLogs("odoo.sql_db", "ERROR"),
            self.assertRaisesRegex(ValidationError, "Send new cases here"),
        ):
            second.creates_cases = True
        # Another company may have its own creating backend.
        self.env["collection.backend"].create(
            {
                "name": "Agency B",
                "url": "http://127.0.0.1:9",
                "creates_cases": True,
                "company_id": self.company_b.id,
            }
        )

    def test_unique_index_still_guards_concurrent_writers(self):
        # Two transactions at once pass the check: the index is what refuses the second.
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.cr.execute(
                "INSERT INTO collection_backend (name, url, company_id, protocol, auth_type, "
                "active, creates_cases) VALUES ('B', 'http://x', %s, 'generic_rest', 'api_key', "
                "true, true)",
                [self.env.company.id],
            )

    def test_secrets_do_not_follow_a_new_url(self):
        self.backend.api_key = "production-key"
        backend = self.backend.with_user(self.user_manager)
        backend.name = "Agency A (renamed)"  # what a manager may change still works
        for vals in (
            {"url": "https://attacker.example"},
            {"protocol": "generic_soap"},
            {"auth_type": "bearer"},
        ):
            with self.subTest(vals=vals), self.assertRaisesRegex(AccessError, "system admin"):
                backend.write(vals)
        backend.write({"url": "http://127.0.0.1:9"})  # the same value is no change
        self.assertFalse(backend.can_edit_endpoint)
        self.assertEqual(self.backend.url, "http://127.0.0.1:9")
        admin = new_test_user(
            self.env,
            login="cc-system",
            groups="base.group_user,base.group_system,collection_connector.group_collection_manager",
        )
        self.backend.with_user(admin).url = "http://127.0.0.1:10"
        self.assertTrue(self.backend.with_user(admin).can_edit_endpoint)
        self.assertEqual(self.backend.url, "http://127.0.0.1:10")

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
