# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import MembookCommon


@tagged("post_install", "-at_install")
class TestSecurity(MembookCommon):
    def test_plain_user_cannot_read(self):
        for model in ("membook.organisation", "membook.organisation.level"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.user_plain).search([]).read(["name"])

    def test_user_reads_manager_writes(self):
        organisations = self.env["membook.organisation"].with_user(self.user_member)
        self.assertIn(self.club, organisations.search([]))
        with self.assertRaises(AccessError):
            organisations.create({"name": "Rogue Club"})
        created = (
            self.env["membook.organisation"]
            .with_user(self.user_manager)
            .create({"name": "New Club", "parent_organisation_id": self.district.id})
        )
        self.assertEqual(created.company_id, self.company)

    def test_second_company_does_not_see_first(self):
        other = self.env["membook.organisation"].create(
            {"name": "Other Club", "company_id": self.company_b.id}
        )
        self.user_manager.write(
            {"company_ids": [(4, self.company_b.id)], "company_id": self.company_b.id}
        )
        env_b = self.env(
            user=self.user_manager, context={"allowed_company_ids": [self.company_b.id]}
        )
        visible = env_b["membook.organisation"].search([])
        self.assertEqual(visible, other.with_env(env_b))
        env_a = self.env(user=self.user_manager, context={"allowed_company_ids": [self.company.id]})
        self.assertNotIn(other.id, env_a["membook.organisation"].search([]).ids)
