# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import new_test_user, tagged

from .common import ProcountorCase


@tagged("post_install", "-at_install")
class TestOverviewQueues(ProcountorCase):
    """The treasurer's overview shows the Procountor outbox: waiting and failed pushes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.treasurer = new_test_user(
            cls.env,
            login="pc-overview",
            groups="base.group_user,membership.group_membership_manager,"
            "procountor_connector.group_procountor_user",
        )
        cls.membership_only = new_test_user(
            cls.env,
            login="pc-overview-membership",
            groups="base.group_user,membership.group_membership_manager",
        )
        Exchange = cls.env["procountor.exchange"].sudo()
        cls.waiting = Exchange.create(
            {"backend_id": cls.backend.id, "kind": "voucher", "external_key": "OVERVIEW-1"}
        )
        cls.failed = Exchange.create(
            {"backend_id": cls.backend.id, "kind": "voucher", "external_key": "OVERVIEW-2"}
        )
        cls.failed.state = "error"

    def _queues(self, user):
        overview = self.env["membook.overview"].with_user(user).get_overview()
        return {card["key"]: card for card in overview["queues"]}

    def test_waiting_and_failed_pushes_with_a_button_to_each(self):
        queues = self._queues(self.treasurer)
        Exchange = self.env["procountor.exchange"].with_user(self.treasurer)
        for key, expected, severity in (
            ("procountor_pending", self.waiting, "warning"),
            ("procountor_failed", self.failed, "danger"),
        ):
            card = queues[key]
            self.assertEqual((card["count"], card["severity"]), (1, severity), key)
            self.assertEqual(Exchange.search(card["action"]["domain"]), expected, key)

    def test_no_card_for_who_cannot_read_the_outbox(self):
        self.assertFalse(
            {"procountor_pending", "procountor_failed"} & set(self._queues(self.membership_only))
        )
