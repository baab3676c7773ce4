# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from psycopg2.extensions import TransactionRollbackError

from odoo import api, models
from odoo.tools import SQL

# How many times _lock_next_batch tries to lock a batch before giving up.
LOCK_ATTEMPTS = 5


class IrCron(models.Model):
    _inherit = "ir.cron"

    @api.model
    def _lock_next_batch(self, records, domain, limit, order="id", allow_referencing=False):
        """Lock and return up to ``limit`` records of the model of ``records`` matching
        ``domain``, in ``order``, that no other transaction holds. Called at the start of a
        transaction: see below.

        Several copies of a scheduled action can run at once (Odoo runs each in one cron
        worker at a time): each takes the next rows nobody holds (``SKIP LOCKED``) instead of
        the same first page, which another may have locked, so none stops early while work is
        left and none waits on another. ``allow_referencing`` takes a lock that lets other
        transactions create rows pointing to the locked ones (``FOR NO KEY UPDATE``).

        A copy that commits a batch between the start of this transaction and the lock changes
        rows this transaction's snapshot still sees as free: PostgreSQL refuses to lock them (a
        serialization failure). This transaction has done nothing yet, so it is rolled back and
        the lock taken again in a new one, which sees the other's work.
        """
        model = records.browse()
        query = model._search(domain, order=order)
        query.limit = limit
        sql = SQL(
            "%s FOR %s OF %s SKIP LOCKED",
            query.select(),
            SQL("NO KEY UPDATE") if allow_referencing else SQL("UPDATE"),
            SQL.identifier(model._table),
        )
        cr = self.env.cr
        attempt = 1
        while True:
            try:
                # Not logged as a failed query: the conflict is expected, and handled.
                cr.execute(sql, log_exceptions=False)
                return model.browse([row[0] for row in cr.fetchall()])
            except TransactionRollbackError:
                if attempt == LOCK_ATTEMPTS:
                    raise
                attempt += 1
                cr.rollback()

    def _every_copy(self):
        """These scheduled actions and every active copy of them: the scheduled actions that
        run the same code on the same model (an administrator adds copies to have more cron
        workers share the work)."""
        crons = self.sudo()
        copies = crons.browse()
        for cron in crons:
            if cron.state != "code":
                copies |= cron
                continue
            copies |= cron | crons.search(
                [("model_id", "=", cron.model_id.id), ("code", "=", cron.code)]
            )
        return copies

    def _wake_every_copy(self):
        """Run these scheduled actions soon, and every active copy of them: a copy that is not
        due would otherwise sleep while the original works alone."""
        for cron in self._every_copy():
            cron._trigger()
        return True

    @api.model
    def _wake_every_copy_of(self, xmlid):
        """Run the scheduled action ``xmlid`` soon, and every active copy of it."""
        return self.env.ref(xmlid).sudo()._wake_every_copy()
