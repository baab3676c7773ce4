# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from odoo import fields
from odoo.fields import Domain
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import MembookCommon, filter_domain


@tagged("post_install", "-at_install")
class TestMember(MembookCommon):
    def test_member_number_per_company(self):
        Partner = self.env["res.partner"]
        first = Partner.create({"name": "First", "is_member": True})
        second = Partner.create({"name": "Second", "is_member": True})
        self.assertEqual(first.company_id, self.company)
        self.assertEqual(first.member_join_date, fields.Date.context_today(first))
        self.assertEqual(int(second.member_number), int(first.member_number) + 1)
        other = Partner.with_company(self.company_b).create({"name": "Other", "is_member": True})
        self.assertEqual(other.company_id, self.company_b)
        self.assertEqual(int(other.member_number), 1, "each company numbers its own members")
        contact = Partner.create({"name": "Not a member"})
        self.assertFalse(contact.member_number)
        contact.is_member = True
        self.assertEqual(int(contact.member_number), int(second.member_number) + 1)

    def test_register_filters(self):
        Partner = self.env["res.partner"]
        new = Partner.create({"name": "New", "is_member": True, "member_join_date": "2026-03-01"})
        old = Partner.create({"name": "Old", "is_member": True, "member_join_date": "2019-05-01"})
        gone = Partner.create(
            {
                "name": "Gone",
                "is_member": True,
                "member_join_date": "2018-01-01",
                "member_leave_date": "2026-01-31",
                "member_leave_reason": "resigned",
            }
        )
        everyone = new | old | gone

        def found(filter_name):
            return Partner.search(
                Domain(filter_domain(self.env, filter_name, today=date(2026, 6, 1)))
                & Domain("id", "in", everyone.ids)
            )

        self.assertEqual(found("current"), new | old)
        self.assertEqual(found("new_this_year"), new)
        self.assertEqual(found("left"), gone)
        action_domain = safe_eval(
            self.env.ref("membook_membership.res_partner_action_member").domain
        )
        self.assertEqual(
            Partner.search(Domain(action_domain) & Domain("id", "in", everyone.ids)), everyone
        )

    def test_member_data_isolated_between_companies(self):
        member = self.env["res.partner"].create({"name": "Company A member", "is_member": True})
        self.user_manager.write({"company_ids": [(4, self.company_b.id)]})
        env_b = self.env(
            user=self.user_manager, context={"allowed_company_ids": [self.company_b.id]}
        )
        self.assertFalse(env_b["res.partner"].search([("id", "=", member.id)]))
        env_a = self.env(user=self.user_manager, context={"allowed_company_ids": [self.company.id]})
        self.assertEqual(env_a["res.partner"].search([("id", "=", member.id)]).id, member.id)
