# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import MembookCommon


@tagged("post_install", "-at_install")
class TestOrganisation(MembookCommon):
    def test_hierarchy_paths(self):
        self.assertEqual(
            self.club.complete_name,
            "Finnish Ski Federation / Pirkanmaa District / Tampere Ski Club",
        )
        self.assertEqual(self.club._get_ancestors(), self.federation | self.district | self.club)
        descendants = self.env["membook.organisation"].search(
            [("id", "child_of", self.federation.id)]
        )
        self.assertEqual(descendants, self.federation | self.district | self.club)

    def test_cycle_refused(self):
        # The parent store refuses the cycle as soon as the write is flushed.
        with self.assertRaises(UserError):
            self.federation.parent_organisation_id = self.club

    def test_organisation_is_a_partner(self):
        self.assertTrue(self.club.partner_id.is_company)
        self.assertEqual(self.club.partner_id.company_id, self.company)
        member = self.env["res.partner"].create(
            {"name": "Aino Member", "member_organisation_id": self.club.id}
        )
        self.assertEqual(self.club.member_count, 1)
        self.assertEqual(self.district.member_count, 0)
        members = self.env["res.partner"].search(self.federation.action_view_members()["domain"])
        self.assertEqual(members, member)

    def test_business_id_checked_for_finland(self):
        finland = self.env.ref("base.fi")
        self.club.write({"country_id": finland.id, "business_id": "0737546-2"})
        with self.assertRaises(ValidationError):
            self.club.business_id = "0737546-3"
