# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
import io
from decimal import Decimal

from psycopg2.extensions import TransactionRollbackError

from odoo.tools import SQL

# How many times lock_next_batch tries to lock a batch before giving up.
LOCK_ATTEMPTS = 5
# What copy_rows writes as text, and how PostgreSQL reads it back.
COPY_TYPES = (str, int, float, Decimal, datetime.date, bool)
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def lock_next_batch(model, domain, limit):
    """Lock and return up to ``limit`` records of ``domain``, in id order, that no other
    transaction holds. Called at the start of a transaction: see below.

    Several copies of a scheduled action can run at once (Odoo runs each in one cron worker at
    a time): each takes the next rows nobody holds (``FOR UPDATE SKIP LOCKED``) instead of the
    same first page, which another may have locked, so none stops early while work is left and
    none waits on another.

    A copy that commits a batch between the start of this transaction and the lock changes
    rows this transaction's snapshot still sees as free: PostgreSQL refuses to lock them (a
    serialization failure). This transaction has done nothing yet, so it is rolled back and the
    lock taken again in a new one, which sees the other's work.
    """
    query = model._search(domain, order="id")
    query.limit = limit
    sql = SQL("%s FOR UPDATE OF %s SKIP LOCKED", query.select(), SQL.identifier(model._table))
    cr = model.env.cr
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
    names = ", ".join(SQL.identifier(name).code for name in columns)
    cr.copy_expert(
        f"COPY {SQL.identifier(table).code} ({names}) FROM STDIN",
        io.StringIO("\n".join(lines) + "\n"),
    )


def wake_every_copy(env, xmlid):
    """Run the scheduled action ``xmlid`` soon, and every active copy of it (the same code on
    the same model, see CONFIGURE): a copy that is not due would otherwise sleep while the
    original works alone."""
    cron = env.ref(xmlid).sudo()
    copies = cron.search(
        [("model_id", "=", cron.model_id.id), ("code", "=", cron.code), ("id", "!=", cron.id)]
    )
    for job in cron | copies:
        job._trigger()
