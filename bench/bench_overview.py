# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The treasurer's overview on a large database: how long its figures take to compute.

    python bench/bench_overview.py [--members 200000] [--payments 200000] [--runs 7]

Builds a register of ``--members`` members in 50 clubs and a year of bank days: one bank file
per banking day and ``--payments`` bank payments spread over them (about 92 % matched, 5 %
assigned by hand, 3 % waiting in the unmatched queue), with settlements for every club and
week. The rows are written with SQL (``generate_series``): the overview reads only these tables,
and making 200,000 invoices and reconciling them would take hours without changing what the
overview's queries read. Then times ``membook.overview.get_overview()`` as a membership manager
would call it: the first call (cold caches) and the median of ``--runs`` calls. Prints figures;
asserts nothing.
"""

import datetime as dt
import statistics
import time

from odoo_bench import ensure_odoo_python, odoo_env, parser

ensure_odoo_python()

from nordic_billing.banking_days import banking_days  # noqa: E402


def set_up(env, members, payments):
    cr = env.cr
    Level = env["membook.organisation.level"]
    club_level = Level.create({"name": "Club", "code": "CLUB", "sequence": 30})
    federation = env["membook.organisation"].create({"name": "Federation"})
    clubs = env["membook.organisation"].create(
        [
            {
                "name": f"Club {n}",
                "level_id": club_level.id,
                "parent_organisation_id": federation.id,
            }
            for n in range(50)
        ]
    )
    company = env.company
    journal = env["account.journal"].search(
        [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
    )
    club_ids = clubs.ids
    t0 = time.monotonic()
    cr.execute(
        """
        INSERT INTO res_partner (name, complete_name, active, is_member, member_organisation_id,
                                 company_id, autopost_bills, type, create_date, write_date)
        SELECT 'Member ' || n, 'Member ' || n, true, true, (%s::int[])[1 + n %% 50], %s,
               'ask', 'contact', now(), now()
          FROM generate_series(1, %s) AS n
        """,
        (club_ids, company.id, members),
    )
    today = dt.date.today()
    days = list(banking_days(today - dt.timedelta(days=365), today - dt.timedelta(days=1)))
    cr.execute(
        """
        INSERT INTO membook_bank_file (name, journal_id, company_id, file_hash, file_format,
                                       payment_count, new_count, duplicate_count,
                                       create_date, write_date, create_uid, write_uid)
        SELECT 'day-' || d::date || '.xml', %s, %s, md5(d::text), 'camt054', 0, 0, 0,
               d + interval '8 hours', d + interval '8 hours', 1, 1
          FROM unnest(%s::date[]) AS d
        """,
        (journal.id, company.id, days),
    )
    cr.execute(
        """
        WITH files AS (
            SELECT array_agg(id ORDER BY id) AS ids,
                   array_agg(create_date ORDER BY id) AS stamps
              FROM membook_bank_file WHERE journal_id = %(journal)s
        )
        INSERT INTO membook_bank_payment (file_id, journal_id, company_id, account, archive_id,
                                          reference, reference_key, amount, payment_date,
                                          booking_date, payer_name, state, match_kind,
                                          is_correction, unapplied_amount,
                                          create_date, write_date, create_uid, write_uid)
        SELECT files.ids[1 + n %% %(days)s], %(journal)s, %(company)s, 'FI4947300010416310',
               'BENCH' || n, (1000 + n)::text, (1000 + n)::text,
               CASE WHEN n %% 25 = 0 THEN 75.0 ELSE 60.0 END,
               files.stamps[1 + n %% %(days)s]::date, files.stamps[1 + n %% %(days)s]::date,
               'PAYER ' || n,
               CASE WHEN n %% 100 < 3 THEN 'to_check' WHEN n %% 100 < 8 THEN 'assigned'
                    ELSE 'matched' END,
               CASE WHEN n %% 100 < 8 THEN 'unreferenced'
                    WHEN n %% 25 = 0 THEN 'overpayment' ELSE 'exact' END,
               false, CASE WHEN n %% 100 < 3 THEN 60.0 ELSE 0 END,
               files.stamps[1 + n %% %(days)s], files.stamps[1 + n %% %(days)s], 1, 1
          FROM generate_series(1, %(payments)s) AS n, files
        """,
        {"journal": journal.id, "company": company.id, "days": len(days), "payments": payments},
    )
    weeks = sorted({day - dt.timedelta(days=day.weekday()) for day in days})
    cr.execute(
        """
        INSERT INTO membook_settlement (name, company_id, organisation_id, date, state,
                                        amount_total, amount_payable, service_fee, payment_count,
                                        create_date, write_date, create_uid, write_uid)
        SELECT 'SET/' || w || '/' || o, %s, o, w,
               CASE WHEN w >= %s THEN 'draft' WHEN w >= %s THEN 'confirmed' ELSE 'paid' END,
               1500, 1490, 10, 60, now(), now(), 1, 1
          FROM unnest(%s::date[]) AS w, unnest(%s::int[]) AS o
        """,
        (company.id, weeks[-1], weeks[-3], weeks, club_ids),
    )
    cr.execute("ANALYZE res_partner, membook_bank_payment, membook_bank_file, membook_settlement")
    cr.commit()
    env.invalidate_all()
    print(
        f"set-up: {members} members, {payments} payments over {len(days)} banking days, "
        f"{len(weeks) * len(club_ids)} settlements in {time.monotonic() - t0:.0f} s"
    )


def main() -> None:
    args_parser = parser(__doc__)
    args_parser.add_argument("--members", type=int, default=200000)
    args_parser.add_argument("--payments", type=int, default=200000)
    args_parser.add_argument("--runs", type=int, default=7)
    args = args_parser.parse_args()
    with odoo_env(args.database, args.keep) as env:
        set_up(env, args.members, args.payments)
        manager = env["res.users"].create(
            {
                "name": "Overview manager",
                "login": "bench-overview-manager",
                "group_ids": [(6, 0, env.ref("membership.group_membership_manager").ids)],
            }
        )
        env.cr.commit()
        Overview = env["membook.overview"].with_user(manager)
        timings = []
        for _run in range(args.runs):
            env.invalidate_all()
            t0 = time.monotonic()
            overview = Overview.get_overview()
            timings.append(time.monotonic() - t0)
        print(
            f"overview: first {timings[0] * 1000:.0f} ms, median of {args.runs} "
            f"{statistics.median(timings) * 1000:.0f} ms"
        )
        print(
            f"  week: {overview['money_in']['week']['count']} payments, "
            f"{overview['money_in']['week']['text']}; automatic "
            f"{overview['automatic']['percent']} %; unmatched {overview['unmatched']['count']} "
            f"({overview['unmatched']['amount_text']}); settlements to confirm "
            f"{overview['settlements']['draft']['count']}, to pay "
            f"{overview['settlements']['confirmed']['count']}; missed days "
            f"{[bank['missed'] for bank in overview['bank_files']]}"
        )


if __name__ == "__main__":
    main()
