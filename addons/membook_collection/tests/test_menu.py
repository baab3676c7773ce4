# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.membook_membership.tests.common import MembookBillingCommon


@tagged("post_install", "-at_install")
class TestMembershipCollectionMenu(MembookBillingCommon):
    """A membership manager, without any debt-collection group of their own, reaches the draft
    collection list from the Membership app and works it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="mbc-manager",
            groups="base.group_user,membership.group_membership_manager",
        )
        cls.office_user = new_test_user(
            cls.env,
            login="mbc-user",
            groups="base.group_user,membook_membership.group_membook_user",
        )
        due = fields.Date.context_today(cls.env.user) - timedelta(days=30)
        cls.invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.member_a.id,
                "invoice_date": due - timedelta(days=14),
                "invoice_date_due": due,
                "invoice_line_ids": [
                    (0, 0, {"product_id": cls.fee.id, "price_unit": 60.0, "tax_ids": []})
                ],
            }
        )
        cls.invoice.action_post()
        # The scheduled action fills the list (as the superuser).
        cls.case = cls.env["collection.case"].sudo()._create_draft(cls.invoice, entry="hand")

    def _menus(self, user):
        """The menus the web client shows ``user``: {id: menu data}."""
        return self.env["ir.ui.menu"].with_user(user).load_menus(debug=False)

    def test_manager_reaches_the_draft_list_from_membership(self):
        collection_user = self.env.ref("collection_connector.group_collection_user")
        self.assertNotIn(collection_user, self.manager.group_ids, "no explicit group")
        self.assertTrue(self.manager.has_group("collection_connector.group_collection_user"))

        menus = self._menus(self.manager)
        root = self.env.ref("membership.menu_association")
        folder = self.env.ref("membook_collection.menu_membook_collection")
        draft_menu = self.env.ref("membook_collection.menu_membook_collection_draft_list")
        case_menu = self.env.ref("membook_collection.menu_membook_collection_case")
        self.assertIn(folder.id, menus[root.id]["children"])
        self.assertEqual(set(menus[folder.id]["children"]), {draft_menu.id, case_menu.id})
        draft_action = self.env.ref("collection_connector.collection_case_action_draft")
        self.assertEqual(
            (menus[draft_menu.id]["action_model"], menus[draft_menu.id]["action_id"]),
            ("ir.actions.act_window", draft_action.id),
        )

        # Opening the menu: the action, its list view, and the records its default filter
        # selects, all read as the manager.
        action = (
            self.env["ir.actions.actions"]
            .with_user(self.manager)
            ._for_xml_id("collection_connector.collection_case_action_draft")
        )
        Case = self.env[action["res_model"]].with_user(self.manager)
        views = Case.get_views([(False, "list"), (False, "search")])
        arch = etree.fromstring(views["views"]["search"]["arch"])
        context = safe_eval(action["context"])
        domains = [
            safe_eval(node.get("domain"))
            for name in context
            if name.startswith("search_default_")
            for node in arch.xpath(f"//filter[@name='{name[len('search_default_') :]}']")
        ]
        self.assertEqual(domains, [[("state", "=", "draft")]])
        spec = {name: {} for name in views["models"]["collection.case"]["fields"]}
        for name in ("move_id", "partner_id", "backend_id", "approved_uid", "company_id"):
            spec[name] = {"fields": {"display_name": {}}}
        rows = Case.web_search_read(domains[0], spec)["records"]
        self.assertEqual([row["id"] for row in rows], self.case.ids)
        self.assertEqual(rows[0]["move_id"]["display_name"], self.invoice.display_name)
        self.assertEqual(rows[0]["amount_residual"], 60.0)
        # ... and approves it for the agency.
        Case.browse(self.case.id).action_approve()
        self.assertEqual(self.case.state, "approved")
        self.assertEqual(self.case.approved_uid, self.manager)

    def test_membership_user_does_not_get_debt_collection(self):
        """Only managers: a membership user keeps the rights they had."""
        menus = self._menus(self.office_user)
        self.assertNotIn(self.env.ref("membook_collection.menu_membook_collection").id, menus)
        with self.assertRaises(AccessError):
            self.env["collection.case"].with_user(self.office_user).search([])

    def _queues(self, user):
        overview = self.env["membook.overview"].with_user(user).get_overview()
        return {card["key"]: card for card in overview["queues"]}

    def test_overview_shows_the_draft_list_and_failed_cases(self):
        queues = self._queues(self.manager)
        self.assertEqual(
            (queues["collection_draft"]["count"], queues["collection_failed"]["count"]), (1, 0)
        )
        self.case.sudo().state = "error"
        queues = self._queues(self.manager)
        self.assertEqual(
            (queues["collection_draft"]["count"], queues["collection_failed"]["count"]), (0, 1)
        )
        self.assertEqual(queues["collection_failed"]["severity"], "danger")
        # Its button opens the failed case, as the manager reads it.
        action = queues["collection_failed"]["action"]
        cases = self.env[action["res_model"]].with_user(self.manager).search(action["domain"])
        self.assertEqual(cases, self.case)

    def test_overview_without_debt_collection_rights_has_no_collection_card(self):
        self.assertFalse(
            {"collection_draft", "collection_failed"} & set(self._queues(self.office_user))
        )
