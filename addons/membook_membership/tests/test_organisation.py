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
        self.assertEqual(self.district.direct_member_count, 0)
        members = self.env["res.partner"].search(self.federation.action_view_members()["domain"])
        self.assertEqual(members, member)

    def test_members_counted_up_the_hierarchy(self):
        """An organisation counts its own members and those of every organisation below it:
        the federation and its districts show their totals."""
        Organisation = self.env["membook.organisation"]
        second_club = Organisation.create(
            {
                "name": "Nokia Ski Club",
                "level_id": self.level_club.id,
                "parent_organisation_id": self.district.id,
            }
        )
        other_district = Organisation.create(
            {
                "name": "Uusimaa District",
                "level_id": self.level_district.id,
                "parent_organisation_id": self.federation.id,
            }
        )
        Partner = self.env["res.partner"]
        Partner.create(
            [{"name": f"Club member {n}", "member_organisation_id": self.club.id} for n in range(3)]
            + [{"name": "Nokia member", "member_organisation_id": second_club.id}]
            + [{"name": "District member", "member_organisation_id": self.district.id}]
            + [
                {"name": f"Uusimaa member {n}", "member_organisation_id": other_district.id}
                for n in range(2)
            ]
        )
        organisations = (
            self.federation | self.district | self.club | second_club | other_district
        ).with_user(self.user_member)
        organisations.invalidate_recordset(["member_count", "direct_member_count"])
        self.assertEqual(
            {o.name: (o.member_count, o.direct_member_count) for o in organisations},
            {
                "Finnish Ski Federation": (7, 0),
                "Pirkanmaa District": (5, 1),
                "Tampere Ski Club": (3, 3),
                "Nokia Ski Club": (1, 1),
                "Uusimaa District": (2, 2),
            },
        )
        # Read alone, a club still counts only its own branch.
        self.club.invalidate_recordset(["member_count"])
        self.assertEqual(self.club.member_count, 3)

    def test_business_id_checked_for_finland(self):
        finland = self.env.ref("base.fi")
        self.club.write({"country_id": finland.id, "business_id": "0737546-2"})
        with self.assertRaises(ValidationError):
            self.club.business_id = "0737546-3"
