# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tools import SQL


def lock_next_batch(model, domain, limit):
    """Lock and return up to ``limit`` records of ``domain``, in id order, that no other
    transaction holds.

    Several cron workers can run the same job: each takes the next rows nobody holds
    (``FOR UPDATE SKIP LOCKED``) instead of the same first page, which another worker may have
    locked, so no worker stops early while work is left and none waits on another.
    """
    query = model._search(domain, order="id")
    query.limit = limit
    sql = SQL("%s FOR UPDATE OF %s SKIP LOCKED", query.select(), SQL.identifier(model._table))
    return model.browse([row[0] for row in model.env.execute_query(sql)])
