# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Approving the draft collection list in the browser."""

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import CollectionCommon


@tagged("post_install", "-at_install")
class TestApproveTour(CollectionCommon, HttpCase):
    def test_approve_the_draft_list(self):
        partner = self.debtor.copy({"name": "Tour Debtor Oy"})
        invoice = self._invoice(fields.Date.today() - timedelta(days=30), partner=partner)
        invoice.action_collection_move_to_list()
        self.start_tour(
            "/odoo/draft-collection-list",
            "collection_connector_approve_draft_list",
            login=self.env.user.login,
        )
        case = self._case(invoice)
        self.assertEqual(case.state, "approved")
        self.assertEqual(case.approved_uid, self.env.user)
