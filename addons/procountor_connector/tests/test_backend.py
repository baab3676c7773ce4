# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged

from odoo.addons.base.tests.common import BaseCommon
from odoo.addons.procountor_connector.models.procountor_backend import ACCESS_FIELDS

from nordic_billing.sandbox.procountor import DEFAULT_CLIENT_SECRET, LEAST_PRIVILEGE_API_KEY

from .common import _TOKENS, SandboxMixin


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

    def test_every_model_with_a_company_has_a_company_rule(self):
        models = self.env["ir.model"].search([("model", "=like", "procountor.%")])
        checked = []
        for model in models:
            field = self.env[model.model]._fields.get("company_id")
            if not field or not field.store:
                continue
            rules = self.env["ir.rule"].search([("model_id", "=", model.id), ("global", "=", True)])
            self.assertTrue(
                any("company_ids" in rule.domain_force for rule in rules),
                f"{model.model} has no multi-company rule",
            )
            checked.append(model.model)
        self.assertEqual(len(checked), 7)

    def test_plain_user_sees_no_outbox_and_user_cannot_configure(self):
        with self.assertRaises(AccessError):
            self.env["procountor.exchange"].with_user(self.user_plain).search([])
        user = new_test_user(
            self.env,
            login="pc-user",
            groups="base.group_user,procountor_connector.group_procountor_user",
        )
        self.assertTrue(self.env["procountor.exchange"].with_user(user).search_count([]) >= 0)
        with self.assertRaises(AccessError):
            self.backend.with_user(user).write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            self.env["procountor.account"].with_user(user).create(
                {"backend_id": self.backend.id, "code": "9999", "name": "x"}
            )

    def test_neutralize_wipes_credentials(self):
        self.env.flush_all()
        for query in get_neutralization_queries(["procountor_connector"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertFalse(self.backend.active)
        self.assertFalse(self.backend.sudo().client_secret)
        self.assertFalse(self.backend.sudo().api_key)

    def test_client_takes_url_timeout_and_retries_from_the_backend(self):
        self.backend.write({"timeout": 7.5, "retry_attempts": 2, "retry_backoff": 0.5})
        with self.backend._procountor_client() as client:
            self.assertEqual(client.base_url, "http://127.0.0.1:9/api")
            self.assertEqual(client.timeout, 7.5)
            self.assertEqual((client.retry.attempts, client.retry.backoff), (2, 0.5))
            self.assertEqual(client.settle_seconds, 2.5)

    def test_client_needs_credentials(self):
        self.backend.api_key = False
        with self.assertRaisesRegex(UserError, "API key"):
            self.backend._procountor_client()

    def test_retry_settings_are_checked(self):
        with self.assertRaises(ValidationError):
            self.backend.timeout = 0
        with self.assertRaises(ValidationError):
            self.backend.retry_attempts = 0


@tagged("post_install", "-at_install")
class TestConnection(SandboxMixin, BaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_sandbox()
        cls.backend = cls._create_backend()

    def test_every_right(self):
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("login: ok", action["params"]["message"])
        self.assertRecordValues(
            self.backend,
            [
                {
                    "access_coa": "allowed",
                    "access_dimensions": "allowed",
                    "access_vouchers": "allowed",
                    "access_invoices": "allowed",
                    "access_partners": "allowed",
                }
            ],
        )
        self.assertTrue(self.backend.access_checked)
        # Probing reads only: nothing was created.
        self.assertFalse(self.requests_to("POST", "/ledgerreceipts"))
        self.assertFalse(self.requests_to("POST", "/invoices"))

    def test_least_privilege_user(self):
        self.backend.sudo().api_key = LEAST_PRIVILEGE_API_KEY
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("invoices: denied", self.backend.access_summary)
        self.assertRecordValues(
            self.backend,
            [
                {
                    "access_coa": "allowed",
                    "access_vouchers": "allowed",
                    "access_dimensions": "denied",
                    "access_invoices": "denied",
                    "access_partners": "denied",
                }
            ],
        )
        message = self.backend._procountor_feature_off("access_invoices")
        self.assertIn("may not use sales invoices", message)
        self.assertIn("Test connection", message)
        self.assertFalse(self.backend._procountor_feature_off("access_vouchers"))

    def test_wrong_secret(self):
        self.backend.sudo().client_secret = "wrong"
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("login: failed", action["params"]["message"])
        self.assertEqual(self.backend.access_invoices, "unknown")

    def test_failed_test_keeps_the_last_good_rights(self):
        self.backend.sudo().api_key = LEAST_PRIVILEGE_API_KEY
        self.backend.action_test_connection()
        good = self.backend.read(["access_checked", "access_summary", *ACCESS_FIELDS.values()])[0]
        self.assertEqual(good["access_invoices"], "denied")
        self.backend.sudo().client_secret = "wrong"
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("login: failed", action["params"]["message"])
        self.assertIn("those of the last good test", action["params"]["message"])
        self.assertEqual(
            self.backend.read(["access_checked", "access_summary", *ACCESS_FIELDS.values()])[0],
            good,
        )
        # Procountor unavailable: nothing is known, so nothing is forgotten either.
        self.backend.sudo().client_secret = DEFAULT_CLIENT_SECRET
        _TOKENS.clear()
        self.backend.retry_attempts = 1
        self.sandbox.faults.server_error(5, status=503)
        self.backend.action_test_connection()
        self.assertEqual(self.backend.access_vouchers, "allowed")
        self.assertEqual(self.backend.access_invoices, "denied")

    def test_procountor_down(self):
        self.backend.retry_attempts = 1
        self.sandbox.faults.server_error(5, status=503)
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("unavailable", action["params"]["message"])


@tagged("post_install", "-at_install")
class TestBackendUrl(SandboxMixin, BaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_sandbox()
        cls.backend = cls._create_backend()

    def test_url_without_api_suffix_says_so(self):
        self.assertTrue(self.sandbox.url.endswith("/api"))
        root = self.sandbox.url.removesuffix("/api")
        self.backend.sudo().custom_url = root + "/"
        with self.assertRaisesRegex(UserError, r"does not end with /api.*Try .*/api"):
            self.backend.action_test_connection()
        self.backend.sudo().custom_url = self.sandbox.url
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
