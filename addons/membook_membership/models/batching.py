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


def insert_rows(model, vals_list):
    """Insert plain rows of one of our own models with one SQL statement; return the records.

    For the bulk bookkeeping rows of the bank day (staged payments, allocations), where the ORM's
    per-record create costs more than the work itself. ``vals_list`` holds column values only
    (no relational commands, no computed fields, the same keys in every dict); stored related
    fields must be given. Nothing the ORM would do on create is needed for these models: no
    stored field elsewhere depends on them at creation, no chatter is wanted. Pending ORM writes
    are flushed first and the model's cache is invalidated after.
    """
    if not vals_list:
        return model.browse()
    model.flush_model()
    columns = list(vals_list[0])
    fields_ = [model._fields[name] for name in columns]
    now, uid = model.env.cr.now(), model.env.uid
    rows = [
        (
            *(
                None if (value is False and field.type != "boolean") else value
                for field, value in zip(fields_, (vals[name] for name in columns), strict=True)
            ),
            uid,
            now,
            uid,
            now,
        )
        for vals in vals_list
    ]
    names = [*columns, "create_uid", "create_date", "write_uid", "write_date"]
    query = "INSERT INTO {} ({}) VALUES %s RETURNING id".format(
        SQL.identifier(model._table).code, ", ".join(SQL.identifier(n).code for n in names)
    )
    ids = [row[0] for row in model.env.cr.execute_values(query, rows, page_size=1000, fetch=True)]
    model.invalidate_model()
    return model.browse(ids)
