# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import new_test_user

from odoo.addons.base.tests.common import BaseCommon


class MembookCommon(BaseCommon):
    """Two operator companies, a three-level hierarchy in the first, and users per role."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Second Operator"})
        Level = cls.env["membook.organisation.level"]
        cls.level_federation = Level.create({"name": "Federation", "code": "FED", "sequence": 10})
        cls.level_district = Level.create({"name": "District", "code": "DIS", "sequence": 20})
        cls.level_club = Level.create({"name": "Club", "code": "CLUB", "sequence": 30})
        Organisation = cls.env["membook.organisation"]
        cls.federation = Organisation.create(
            {"name": "Finnish Ski Federation", "level_id": cls.level_federation.id}
        )
        cls.district = Organisation.create(
            {
                "name": "Pirkanmaa District",
                "level_id": cls.level_district.id,
                "parent_organisation_id": cls.federation.id,
            }
        )
        cls.club = Organisation.create(
            {
                "name": "Tampere Ski Club",
                "level_id": cls.level_club.id,
                "parent_organisation_id": cls.district.id,
            }
        )
        cls.user_plain = new_test_user(cls.env, login="membook-plain", groups="base.group_user")
        cls.user_member = new_test_user(
            cls.env,
            login="membook-user",
            groups="base.group_user,membook_membership.group_membook_user",
        )
        cls.user_manager = new_test_user(
            cls.env,
            login="membook-manager",
            groups="base.group_user,membership.group_membership_manager",
        )
