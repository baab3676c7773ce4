# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
import io
from decimal import Decimal

from odoo.tools import SQL

# What copy_rows writes as text, and how PostgreSQL reads it back.
COPY_TYPES = (str, int, float, Decimal, datetime.date, bool)
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


# Where execute_values puts the rows in its query.
VALUES_ROWS = SQL("%%s")


def execute_values(cr, query, rows, page_size=1000):
    """Run ``query``, an ``odoo.tools.SQL`` holding ``VALUES_ROWS`` where rows go, for
    ``rows`` with psycopg2's ``execute_values``: one statement per ``page_size`` rows."""
    if not rows:
        return
    cr.execute_values(cr.mogrify(query.code, query.params).decode(), rows, page_size=page_size)


def lock_next_batch(model, domain, limit):
    """The next ``limit`` records of ``domain`` no other transaction holds, locked: the one
    locking helper of the cron batches, ``ir.cron._lock_next_batch`` (base_cron_batch)."""
    return model.env["ir.cron"]._lock_next_batch(model, domain, limit)


def insert_rows(model, vals_list):
    """Insert plain rows of one of our own models with one COPY; return the records.

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
    ids = next_ids(model.env.cr, model._table, len(rows))
    names = ["id", *columns, "create_uid", "create_date", "write_uid", "write_date"]
    rows = [(id_, *row) for id_, row in zip(ids, rows, strict=True)]
    copy_rows(model.env.cr, model._table, names, rows)
    model.invalidate_model()
    return model.browse(ids)


def next_ids(cr, table, count):
    """Reserve ``count`` ids of ``table`` from its sequence, in ascending order: for rows
    written in SQL that other rows must point to before they are inserted."""
    if count <= 0:
        return []
    cr.execute(
        SQL(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            table,
            count,
        )
    )
    return [row[0] for row in cr.fetchall()]


def analyze_when_stale(env, table, changed_rows=2000, changed_share=0.02):
    """ANALYZE ``table`` when more rows changed since its last analysis than ``changed_rows``
    plus ``changed_share`` of its rows; returns whether it did.

    A billing run adds invoices much faster than autovacuum analyses a table (after a tenth of
    it changed, when it runs at all). Until then the planner, going by the old statistics,
    expects next to no invoices at the run's date and numbers each new invoice with a query
    that reads every invoice of the year so far: the run slows down as it goes. One worker at a
    time analyses; the others go on.
    """
    env.cr.execute(
        SQL(
            "SELECT n_mod_since_analyze, n_live_tup FROM pg_stat_user_tables"
            " WHERE relid = %s::regclass",
            table,
        )
    )
    row = env.cr.fetchone()
    if not row or row[0] is None or row[0] <= changed_rows + changed_share * (row[1] or 0):
        return False
    env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(hashtext(%s))", f"ANALYZE {table}"))
    if not env.cr.fetchone()[0]:
        return False
    env.cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
    return True


def copy_rows(cr, table, columns, rows):
    """Insert ``rows`` (tuples of ``columns`` values) into ``table`` with one COPY.

    COPY spares PostgreSQL parsing a statement per thousand rows and psycopg2 quoting each
    value: a third less time than ``INSERT ... VALUES`` for the bank day's bulk rows. Values are
    None or of COPY_TYPES; anything else (a dict for a JSON column...) is refused, not guessed.
    """
    if not rows:
        return
    lines = []
    for row in rows:
        values = []
        for value in row:
            if value is None:
                values.append("\\N")
            elif isinstance(value, COPY_TYPES):
                values.append(str(value).translate(COPY_ESCAPES))
            else:
                raise TypeError(f"{table}: {type(value).__name__} value {value!r} for COPY")
        lines.append("\t".join(values))
    query = SQL(
        "COPY %s (%s) FROM STDIN",
        SQL.identifier(table),
        SQL(", ").join(SQL.identifier(name) for name in columns),
    )
    cr.copy_expert(query.code, io.StringIO("\n".join(lines) + "\n"))


def wake_every_copy(env, xmlid):
    """Run the scheduled action ``xmlid`` soon, and every active copy of it (see
    ``ir.cron._wake_every_copy_of`` of base_cron_batch)."""
    env["ir.cron"]._wake_every_copy_of(xmlid)
