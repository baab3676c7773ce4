# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Weekly memo vouchers on a real Odoo 19: a week of allocations into one voucher each.

    python bench/bench_vouchers.py [--organisations 500] [--allocations 200000]

Starts the Procountor sandbox on 127.0.0.1 for the chart of accounts, creates ``--organisations``
organisations (one connection books them all, one product mapping) and ``--allocations``
allocation rows of one week spread over them, then times what the weekly scheduled action does
before pushing: read the week's allocations and paid settlements, build one balanced memo voucher
per organisation and queue it as an exchange record. The push itself (HTTP, one request per
voucher) is left out. Prints figures; asserts nothing.
"""

import datetime as dt
import random
import time

from odoo_bench import ensure_odoo_python, odoo_env, parser, rate, warm_registry

ensure_odoo_python()

from nordic_billing.sandbox.procountor import (  # noqa: E402
    DEFAULT_API_KEY,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    start_in_thread,
)


def set_up(env, sandbox, organisations, allocations, rng):
    from odoo.addons.membook_membership.models.batching import insert_rows

    company = env.company
    backend = env["procountor.backend"].create(
        {
            "name": "Bench books",
            "environment": "custom",
            "custom_url": sandbox.url,
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "api_key": DEFAULT_API_KEY,
        }
    )
    backend._procountor_sync_chart()
    level = env["membook.organisation.level"].create({"name": "Club", "code": "CLUB"})
    orgs = env["membook.organisation"].create(
        [
            {"name": f"Club {n:04d}", "ref": f"C{n:04d}", "level_id": level.id}
            for n in range(organisations)
        ]
    )
    product = env["product.product"].create(
        {
            "name": "Membership fee",
            "type": "service",
            "membership": True,
            "membership_date_from": dt.date(2026, 1, 1),
            "membership_date_to": dt.date(2026, 12, 31),
            "list_price": 60,
        }
    )
    account = backend.account_ids.filtered(lambda a: a.code == "3000")
    env["procountor.product.mapping"].create(
        {"backend_id": backend.id, "product_id": product.id, "account_id": account.id}
    )
    day = dt.date.today()
    vals_list = [
        {
            "company_id": company.id,
            "date": day,
            "organisation_id": orgs[n % organisations].id,
            "product_id": product.id,
            "amount": -25.0 if n % 50 == 49 else rng.choice((10.0, 25.0, 12.5)),
            "invoice_id": None,
            "move_line_id": None,
            "partial_id": None,
            "counterpart_move_id": None,
            "bank_payment_id": None,
            "reversed_id": None,
        }
        for n in range(allocations)
    ]
    insert_rows(env["membook.allocation"], vals_list)
    env.cr.commit()
    return backend, day


def main() -> None:
    args_parser = parser(__doc__)
    args_parser.add_argument("--organisations", type=int, default=500)
    args_parser.add_argument("--allocations", type=int, default=200000)
    args = args_parser.parse_args()
    rng = random.Random(2026)
    sandbox = start_in_thread()
    try:
        with odoo_env(args.database, args.keep) as env:
            t0 = time.monotonic()
            backend, day = set_up(env, sandbox, args.organisations, args.allocations, rng)
            print(
                f"set-up: {args.organisations} organisations, {args.allocations} allocations "
                f"in {time.monotonic() - t0:.1f} s"
            )
            warm_registry(env.registry)
            t0 = time.monotonic()
            exchanges = backend._procountor_week_vouchers(day)
            env.cr.commit()
            seconds = time.monotonic() - t0
            problems = exchanges.filtered(lambda e: e.state == "error")
            print(
                f"weekly memo vouchers: {len(exchanges)} vouchers of {args.allocations} "
                f"allocations in {seconds:.1f} s, {rate(args.allocations, seconds)} per "
                f"allocation ({len(problems)} with problems)"
            )
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
