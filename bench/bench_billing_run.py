# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Billing run on a real Odoo 19: invoices per second, and the extrapolation to 200k members.

    python bench/bench_billing_run.py [--members 20000] [--batch 200] [--no-email]

Builds a federation -> 10 districts -> 200 clubs hierarchy, registers the members, and bills them
a 60 EUR fee split 25/10/25 over the three levels, Finnish references, through the same cron
method production uses (batches committed one by one). Prints figures; asserts nothing.
"""

import argparse
import time
from datetime import date

from odoo_bench import call, ensure_odoo_python, odoo_env, parser, rate, run_workers, worker_env

ensure_odoo_python()


def main() -> None:
    args_parser = parser(__doc__)
    args_parser.add_argument("--members", type=int, default=20000)
    args_parser.add_argument("--batch", type=int, default=200)
    args_parser.add_argument("--no-email", action="store_true")
    args_parser.add_argument(
        "--profile",
        nargs="?",
        const="-",
        metavar="FILE",
        help="cProfile the cron; print the top functions, or save the stats to FILE",
    )
    args_parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes running the cron, as copies of the scheduled action do",
    )
    args_parser.add_argument(
        "--sql-fast-paths",
        choices=("on", "off"),
        default="on",
        help="off: Odoo's own paths only (the system parameter membook_membership.sql_fast_paths)",
    )
    args_parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = args_parser.parse_args()
    if args.worker:
        with worker_env(args.database) as env:
            env["membook.billing.run"]._cron_process()
        return
    with odoo_env(args.database, args.keep) as env:
        cr = env.cr
        Level = env["membook.organisation.level"]
        fed_level = Level.create({"name": "Federation", "code": "FED", "sequence": 10})
        dis_level = Level.create({"name": "District", "code": "DIS", "sequence": 20})
        club_level = Level.create({"name": "Club", "code": "CLUB", "sequence": 30})
        Org = env["membook.organisation"]
        federation = Org.create({"name": "Federation", "level_id": fed_level.id})
        districts = Org.create(
            [
                {
                    "name": f"District {i}",
                    "level_id": dis_level.id,
                    "parent_organisation_id": federation.id,
                }
                for i in range(10)
            ]
        )
        clubs = Org.create(
            [
                {
                    "name": f"Club {i}",
                    "level_id": club_level.id,
                    "parent_organisation_id": districts[i % 10].id,
                }
                for i in range(200)
            ]
        )
        journal = env["account.journal"].search([("type", "=", "sale")], limit=1)
        models = dict(journal._fields["invoice_reference_model"]._description_selection(env))
        if "fi" in models:
            journal.invoice_reference_model = "fi"
        income = env["account.account"].search([("account_type", "=", "income")], limit=1)
        fee = env["product.product"].create(
            {
                "name": "Membership fee",
                "type": "service",
                "membership": True,
                "membership_date_from": date(2026, 1, 1),
                "membership_date_to": date(2026, 12, 31),
                "list_price": 60.0,
                "taxes_id": [],
                "property_account_income_id": income.id,
                "membook_split_rule_ids": [
                    (0, 0, {"target_type": "level", "level_id": fed_level.id, "value": 25.0}),
                    (0, 0, {"target_type": "level", "level_id": dis_level.id, "value": 10.0}),
                    (0, 0, {"target_type": "level", "level_id": club_level.id, "value": 25.0}),
                ],
            }
        )
        cr.commit()

        t0 = time.monotonic()
        Partner = env["res.partner"].with_context(tracking_disable=True, mail_create_nolog=True)
        for start in range(0, args.members, 1000):
            Partner.create(
                [
                    {
                        "name": f"Member {n}",
                        "email": f"member{n}@example.com" if n % 10 else False,
                        "is_member": True,
                        "member_organisation_id": clubs[n % len(clubs)].id,
                    }
                    for n in range(start, min(start + 1000, args.members))
                ]
            )
            cr.commit()
        members_s = time.monotonic() - t0
        print(f"members registered: {args.members}, {rate(args.members, members_s)}")
        # As autovacuum would soon after such an import (it is off on some benchmark hosts):
        # the planner otherwise takes the member table for as small as it was before.
        cr.execute("ANALYZE res_partner")
        cr.commit()

        env["ir.config_parameter"].set_param("membook.billing_batch_size", args.batch)
        env["ir.config_parameter"].set_param(
            "membook_membership.sql_fast_paths", args.sql_fast_paths
        )
        print(f"SQL fast paths: {args.sql_fast_paths}")
        # Warm up the registry (trigger trees, caches) as a running server is, on 20 members
        # that the measured run then skips as already billed.
        first = env["res.partner"].search([("is_member", "=", True)], limit=20, order="id")
        warm = env["membook.billing.run"].create(
            {
                "name": "Warm-up",
                "period_key": "2026",
                "journal_id": journal.id,
                "product_ids": [(6, 0, fee.ids)],
                "member_domain": f"[('id', 'in', {first.ids})]",
            }
        )
        warm.action_start()
        env["membook.billing.run"]._cron_process()
        cr.commit()
        run = env["membook.billing.run"].create(
            {
                "name": "Bench 2026",
                "period_key": "2026",
                "journal_id": journal.id,
                "product_ids": [(6, 0, fee.ids)],
                "send_email": not args.no_email,
            }
        )
        t0 = time.monotonic()
        run.action_preview()
        run.action_start()
        cr.commit()
        start_s = time.monotonic() - t0
        print(f"preview + start (select members, record lines): {start_s:.1f} s")

        t0 = time.monotonic()
        ready_s = 0.0
        if args.profile:
            call(env["membook.billing.run"]._cron_process, profile=args.profile, lines=40)
        elif args.workers > 1:
            ready_s = run_workers(env, __file__, args.database, args.workers)
        else:
            env["membook.billing.run"]._cron_process()
        process_s = time.monotonic() - t0 - ready_s
        invoices = env["account.move"].search_count(
            [("membook_billing_run_id", "=", run.id), ("state", "=", "posted")]
        )
        splits = env["membook.fee.split"].search_count(
            [("move_id.membook_billing_run_id", "=", run.id)]
        )
        mails = env["mail.mail"].search_count(
            [("model", "=", "account.move"), ("res_id", "in", run.line_ids.move_id.ids)]
        )
        print(f"invoices posted: {invoices}, fee splits: {splits}, e-mails queued: {mails}")
        print(f"cron (invoice, post, split, mail): {process_s:.1f} s, {rate(invoices, process_s)}")
        total_s = start_s + process_s
        per_invoice = total_s / invoices
        print(
            f"whole run: {total_s:.1f} s; 200,000 members at this rate: "
            f"{200000 * per_invoice / 60:.1f} min with {args.workers} worker(s)"
        )
        print(f"run state: {run.state}, members without e-mail: {run.no_email_count}")


if __name__ == "__main__":
    main()
