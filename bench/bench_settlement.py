# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Weekly settlement on a real Odoo 19: every organisation's unsettled allocations.

    python bench/bench_settlement.py [--organisations 500] [--allocations 300000]
                                     [--booked-days 6] [--sql-fast-paths on|off] [--profile]

Creates ``--organisations`` organisations and ``--allocations`` allocation rows spread over
them and over the seven days of a week (as a week of paid fees leaves the ledger: positive rows,
one reversal in forty-nine, spread over every organisation), with the books set up (transit and
due-to-organisations accounts).

The daily booking action books each day's allocations (one entry) on the evening of that day:
the bench books the first ``--booked-days`` days so, each in its own transaction, and times
them. Then it times what the weekly scheduled action does on the settlement day, in one
transaction as the action does: book what is left (the last day's rows, or the whole week with
``--booked-days 0``), then one draft settlement per organisation with its lines (in SQL, see
membook_settlement_fast.py, unless ``--sql-fast-paths off``). Then times confirming them all
(the service fees booked in one entry). Prints figures; asserts nothing.
"""

import datetime as dt
import random
import time

from odoo_bench import call, ensure_odoo_python, odoo_env, parser, rate, warm_registry

ensure_odoo_python()


def set_up(env, organisations, allocations, rng):
    """The books, the organisations and the week's allocations, by day: ``(company, [the
    allocation values of each day])``."""
    company = env.company
    Account = env["account.account"]
    company.write(
        {
            "membook_ledger_journal_id": env["account.journal"]
            .search([("type", "=", "general"), ("company_id", "=", company.id)], limit=1)
            .id,
            "membook_transit_account_id": Account.create(
                {"name": "Shares billed", "code": "289100", "account_type": "liability_current"}
            ).id,
            "membook_due_account_id": Account.create(
                {
                    "name": "Due to organisations",
                    "code": "289200",
                    "account_type": "liability_current",
                    "reconcile": True,
                }
            ).id,
            "membook_service_fee_fixed": 0.5,
            "membook_service_fee_account_id": Account.create(
                {"name": "Service fees", "code": "309100", "account_type": "income"}
            ).id,
        }
    )
    level = env["membook.organisation.level"].create({"name": "Club", "code": "CLUB"})
    orgs = env["membook.organisation"].create(
        [{"name": f"Club {n:04d}", "level_id": level.id} for n in range(organisations)]
    )
    for org in orgs:
        org.settlement_bank_id = env["res.partner.bank"].create(
            {"acc_number": f"FI21123456{org.id:08d}", "partner_id": org.partner_id.id}
        )
    product = env["product.product"].create({"name": "Membership fee", "type": "service"})
    day = dt.date(2026, 11, 16)
    days = [[] for _day in range(7)]
    for n in range(allocations):
        amount = rng.choice((10.0, 25.0, 12.5))
        days[n % 7].append(
            {
                "company_id": company.id,
                "date": day + dt.timedelta(days=n % 7),
                "organisation_id": orgs[n % organisations].id,
                "product_id": product.id,
                "amount": -amount if n % 49 == 48 else amount,
                "invoice_id": None,
                "move_line_id": None,
                "partial_id": None,
                "counterpart_move_id": None,
                "bank_payment_id": None,
                "reversed_id": None,
            }
        )
    env.cr.commit()
    return company, days


def main() -> None:
    args_parser = parser(__doc__)
    args_parser.add_argument("--organisations", type=int, default=500)
    args_parser.add_argument("--allocations", type=int, default=300000)
    args_parser.add_argument(
        "--sql-fast-paths",
        choices=("on", "off"),
        default="on",
        help="off: Odoo's own paths only (the system parameter membook_membership.sql_fast_paths)",
    )
    args_parser.add_argument(
        "--booked-days",
        type=int,
        choices=range(8),
        default=6,
        help="days of the week the daily booking action has booked before the settlement day",
    )
    args_parser.add_argument(
        "--profile", action="store_true", help="cProfile the settlement day's action"
    )
    args = args_parser.parse_args()
    rng = random.Random(2026)
    with odoo_env(args.database, args.keep) as env:
        from odoo.addons.membook_membership.models.batching import insert_rows

        t0 = time.monotonic()
        company, days = set_up(env, args.organisations, args.allocations, rng)
        env["ir.config_parameter"].set_param(
            "membook_membership.sql_fast_paths", args.sql_fast_paths
        )
        env.cr.commit()
        print(f"SQL fast paths: {args.sql_fast_paths}")
        warm_registry(env.registry)
        Allocation, Booking = env["membook.allocation"], env["membook.ledger.booking"]
        booking_s = []
        for number, vals_list in enumerate(days):
            insert_rows(Allocation, vals_list)
            env.cr.commit()
            if number < args.booked_days:
                t0_day = time.monotonic()
                Booking._book_all(company)
                env.cr.commit()
                booking_s.append(time.monotonic() - t0_day)
        print(
            f"set-up: {args.organisations} organisations, {args.allocations} allocations "
            f"in {time.monotonic() - t0:.1f} s (with the daily bookings)"
        )
        if booking_s:
            print(
                f"daily booking action, {len(booking_s)} days of "
                f"{args.allocations // 7} allocations each: "
                f"{sum(booking_s) / len(booking_s):.1f} s a day on average"
            )
        Settlement = env["membook.settlement"]
        day = dt.date(2026, 11, 23)
        t0 = time.monotonic()
        settlements = call(Settlement._settle_company, company, day, profile=args.profile)
        env.cr.commit()
        settle_s = time.monotonic() - t0
        unbooked = 7 - args.booked_days
        print(
            f"weekly settlement action (books the last {unbooked} day(s), then settles, one "
            f"transaction): {len(settlements)} settlements of {args.allocations} allocations "
            f"in {settle_s:.1f} s, {rate(len(settlements), settle_s)}"
        )
        t0 = time.monotonic()
        settlements.action_confirm()
        env.cr.commit()
        confirm_s = time.monotonic() - t0
        print(f"confirm with the service fee booked: {confirm_s:.1f} s")
        total = sum(settlements.mapped("amount_total"))
        print(f"settled {total:,.2f} in {len(settlements)} settlements")


if __name__ == "__main__":
    main()
