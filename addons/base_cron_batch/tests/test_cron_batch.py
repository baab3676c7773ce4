# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import sql_db
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL


@tagged("post_install", "-at_install")
class TestCronBatch(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Cron = cls.env["ir.cron"]
        # Countries are committed with the database: another connection sees and locks them.
        cls.Country = cls.env["res.country"]
        cls.countries = cls.Country.search([], order="id", limit=9)

    def _held_by_another_transaction(self, records):
        """A cursor of its own connection holding row locks on ``records``, as another cron
        worker's transaction does while it works on them."""
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        self.addCleanup(other.close)
        self.addCleanup(other.rollback)
        other.execute(SQL("SELECT id FROM res_country WHERE id = ANY(%s) FOR UPDATE", records.ids))
        # Were the lock waited for, the test would fail instead of hanging.
        self.env.cr.execute(SQL("SET LOCAL lock_timeout = '5s'"))
        return other

    def test_a_copy_goes_on_past_the_page_another_copy_holds(self):
        first_page, second_page = self.countries[:3], self.countries[3:6]
        self._held_by_another_transaction(first_page)
        batch = self.Cron._lock_next_batch(self.Country, [], 3)
        self.assertEqual(batch, second_page)
        # Locked by this transaction now: a third copy skips both pages.
        self.assertEqual(
            self.Cron._lock_next_batch(self.Country, [("id", "not in", batch.ids)], 3),
            self.countries[6:9],
        )

    def test_the_domain_and_order_are_kept(self):
        held = self.countries[:2]
        self._held_by_another_transaction(held)
        domain = [("id", "in", self.countries.ids)]
        batch = self.Cron._lock_next_batch(self.Country, domain, 4, order="id desc")
        self.assertEqual(batch.ids, self.countries[2:].sorted("id", reverse=True)[:4].ids)
        everything = self.Cron._lock_next_batch(self.Country, domain, 100, allow_referencing=True)
        self.assertEqual(everything, self.countries - held)

    def test_every_copy_is_woken(self):
        model = self.env["ir.model"]._get("res.partner")

        def cron(name, code):
            return self.Cron.create(
                {
                    "name": name,
                    "model_id": model.id,
                    "state": "code",
                    "code": code,
                    "interval_number": 1,
                    "interval_type": "days",
                }
            )

        original = cron("Work", "model.browse()")
        copy = original.copy({"name": "Work (second worker)"})
        switched_off = original.copy({"name": "Work (off)", "active": False})
        other = cron("Other work", "model.browse(1)")
        Trigger = self.env["ir.cron.trigger"]
        self.assertEqual(original._every_copy(), original | copy)
        self.env["ir.model.data"].create(
            {
                "module": "base_cron_batch",
                "name": "test_cron_work",
                "model": "ir.cron",
                "res_id": original.id,
                "noupdate": True,
            }
        )
        before = Trigger.search([])
        self.Cron._wake_every_copy_of("base_cron_batch.test_cron_work")
        woken = (Trigger.search([]) - before).cron_id
        self.assertEqual(woken, original | copy)
        self.assertFalse(woken & (switched_off | other))
        # Woken from a copy, the original wakes too.
        before = Trigger.search([])
        copy._wake_every_copy()
        self.assertEqual((Trigger.search([]) - before).cron_id, original | copy)
