# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Bank day on a real Odoo 19: import, match and reconcile a KTL file against open invoices.

    python bench/bench_bank_day.py [--invoices 20000] [--baseline 1000] [--workers 2]

Creates ``--invoices`` open fee invoices with Finnish references (60 EUR split 25/10/25), writes a
KTL file paying them (about 90 % exact, 4 % partial, 3 % overpaid, 3 % unknown reference), imports
it and runs the processing cron as production does (statement lines, matching, reconciliation,
allocations, committed batches). As the baseline in the same run, Odoo's own register-payment
wizard pays ``--baseline`` other invoices one per call, each in its own transaction, as a person
would. Prints figures; asserts nothing.

``--workers N`` runs the cron in N processes, as N copies of the scheduled action on a server
with N cron workers do; the processes load and warm their registry before the clock starts, as
a running server's have.

Creating the invoices takes longer than paying them: ``--setup-only --keep --database NAME``
stops once they exist, and ``--from-setup NAME`` runs the day on a copy of that database.
"""

import argparse
import dataclasses
import datetime as dt
import random
import time
from decimal import Decimal

from odoo_bench import (
    call,
    ensure_odoo_python,
    odoo_env,
    parser,
    rate,
    run_workers,
    worker_env,
)

ensure_odoo_python()

from nordic_billing.bankfiles import KtlBatch, write_ktl  # noqa: E402
from nordic_billing.payment import Payment  # noqa: E402


def make_invoices(env, partners, product, journal, count):
    from odoo.addons.membook_membership.models.batching import analyze_when_stale

    Move = env["account.move"].with_context(
        tracking_disable=True, mail_create_nolog=True, mail_notrack=True
    )
    moves = Move.browse()
    for start in range(0, count, 500):
        batch = Move.create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partners[n % len(partners)].id,
                    "journal_id": journal.id,
                    "invoice_date": dt.date(2026, 1, 15),
                    "invoice_date_due": dt.date(2026, 2, 15),
                    "invoice_line_ids": [
                        (0, 0, {"product_id": product.id, "price_unit": 60.0, "tax_ids": []})
                    ],
                }
                for n in range(start, min(start + 500, count))
            ]
        )
        batch._post(soft=False)
        env.cr.commit()
        moves |= batch
        if start % 5000 == 0:
            # As the billing run does: with statistics from an emptier table, the planner
            # numbers each invoice with a query reading all the year's invoices.
            for table in ("account_move", "account_move_line"):
                analyze_when_stale(env, table)
            env.cr.commit()
    return moves


def set_up(env, sale, count):
    """Organisations, members, a split fee product and ``count`` open invoices."""
    cr = env.cr
    Level = env["membook.organisation.level"]
    levels = [
        Level.create({"name": name, "code": name[:3].upper(), "sequence": seq})
        for name, seq in (("Federation", 10), ("District", 20), ("Club", 30))
    ]
    Org = env["membook.organisation"]
    federation = Org.create({"name": "Federation", "level_id": levels[0].id})
    district = Org.create(
        {"name": "District", "level_id": levels[1].id, "parent_organisation_id": federation.id}
    )
    clubs = Org.create(
        [
            {
                "name": f"Club {i}",
                "level_id": levels[2].id,
                "parent_organisation_id": district.id,
            }
            for i in range(50)
        ]
    )
    partners = env["res.partner"].create(
        [
            {
                "name": f"Member {n}",
                "is_member": True,
                "member_organisation_id": clubs[n % 50].id,
            }
            for n in range(2000)
        ]
    )
    sale.invoice_reference_model = "fi"
    income = env["account.account"].search([("account_type", "=", "income")], limit=1)
    # A fee product outside OCA membership keeps the set-up fast; the split is what matters.
    fee = env["product.product"].create(
        {
            "name": "Fee",
            "type": "service",
            "list_price": 60.0,
            "taxes_id": [],
            "property_account_income_id": income.id,
            "membook_split_rule_ids": [
                (0, 0, {"target_type": "level", "level_id": level.id, "value": value})
                for level, value in zip(levels, (25.0, 10.0, 25.0), strict=True)
            ],
        }
    )
    cr.commit()
    t0 = time.monotonic()
    invoices = make_invoices(env, partners, fee, sale, count)
    setup_s = time.monotonic() - t0
    print(
        f"set-up: {len(invoices)} open invoices in {setup_s:.0f} s ({rate(len(invoices), setup_s)})"
    )
    return invoices


def main() -> None:
    args_parser = parser(__doc__)
    args_parser.add_argument("--invoices", type=int, default=20000)
    args_parser.add_argument("--baseline", type=int, default=1000)
    args_parser.add_argument("--batch", type=int, default=2000)
    args_parser.add_argument(
        "--profile", action="store_true", help="cProfile the import and the cron"
    )
    args_parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes running the cron, as copies of the scheduled action do",
    )
    args_parser.add_argument(
        "--paid-twice",
        type=int,
        default=0,
        metavar="N",
        help="N invoices paid in the file (after the warm-up) are paid again at its end "
        "(members who paid twice), to check concurrent batches reconcile an invoice once",
    )
    args_parser.add_argument("--setup-only", action="store_true", help="stop after the set-up")
    args_parser.add_argument("--from-setup", metavar="DATABASE", help="reuse a kept set-up")
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
            env["membook.bank.payment"]._cron_process()
        return
    rng = random.Random(2026)
    with odoo_env(args.database, args.keep, source=args.from_setup) as env:
        cr = env.cr
        sale = env["account.journal"].search([("type", "=", "sale")], limit=1)
        bank = env["account.journal"].search([("type", "=", "bank")], limit=1)
        if args.from_setup:
            invoices = env["account.move"].search(
                [("move_type", "=", "out_invoice"), ("payment_state", "=", "not_paid")],
                order="id",
                limit=args.invoices + args.baseline,
            )
            print(f"set-up: {len(invoices)} open invoices from {args.from_setup}")
        else:
            invoices = set_up(env, sale, args.invoices + args.baseline)
        if args.setup_only:
            return
        # Payments for the unmatched queue wait on this account with the day's payments.
        bank.membook_unidentified_account_id = env["account.account"].create(
            {
                "name": "Unidentified payments",
                "code": "289900",
                "account_type": "liability_current",
                "reconcile": True,
            }
        )
        ours, baseline = invoices[: args.invoices], invoices[args.invoices :]

        payments = []
        kinds = {"exact": 0, "partial": 0, "over": 0, "unknown": 0}
        for number, invoice in enumerate(ours):
            draw = rng.random()
            reference, amount = invoice.payment_reference, Decimal("60.00")
            if draw < 0.04:
                amount, kind = Decimal("30.00"), "partial"
            elif draw < 0.07:
                amount, kind = Decimal("75.00"), "over"
            elif draw < 0.10:
                reference, kind = "9" + reference, "unknown"
            else:
                kind = "exact"
            kinds[kind] += 1
            payments.append(
                Payment(
                    account="47300010416310",
                    archive_id=f"BENCH{number:011d}",
                    reference=reference,
                    amount=amount,
                    currency="EUR",
                    payment_date=dt.date(2026, 2, 1),
                    booking_date=dt.date(2026, 2, 2),
                    payer_name=f"PAYER {number}",
                    is_correction=False,
                    source_format="ktl",
                    source_line="",
                )
            )
        payments += [
            dataclasses.replace(payment, archive_id=f"TWICE{number:011d}")
            for number, payment in enumerate(payments[20 : 20 + args.paid_twice])
        ]
        # Warm the registry (trigger trees, caches) on 20 payments, as a running server is.
        warm, payments = payments[:20], payments[20:]
        created = dt.datetime(2026, 2, 2, 8)
        env["membook.bank.file"]._import_file(
            bank, "warm.svm", write_ktl([KtlBatch(payments=warm, created=created)])
        )
        env["membook.bank.payment"]._cron_process()
        data = write_ktl([KtlBatch(payments=payments, created=created)])
        print(f"KTL file: {len(payments)} payments, {len(data) / 1e6:.1f} MB, mix {kinds}")

        env["ir.config_parameter"].set_param("membook.bank_batch_size", args.batch)
        env["ir.config_parameter"].set_param(
            "membook_membership.sql_fast_paths", args.sql_fast_paths
        )
        print(f"SQL fast paths: {args.sql_fast_paths}")
        cr.commit()
        t0 = time.monotonic()
        record = call(
            env["membook.bank.file"]._import_file, bank, "bench.svm", data, profile=args.profile
        )
        cr.commit()
        import_s = time.monotonic() - t0
        t1 = time.monotonic()
        ready_s = 0.0
        if args.profile:
            call(env["membook.bank.payment"]._cron_process, profile=True, lines=45)
        elif args.workers > 1:
            ready_s = run_workers(env, __file__, args.database, args.workers)
        else:
            env["membook.bank.payment"]._cron_process()
        process_s = time.monotonic() - t1 - ready_s
        total_s = import_s + process_s
        Payment_ = env["membook.bank.payment"]
        counts = {
            state: Payment_.search_count([("file_id", "=", record.id), ("state", "=", state)])
            for state in ("matched", "to_check", "new")
        }
        allocations = env["membook.allocation"].search_count([])
        print(f"import (parse + stage): {import_s:.1f} s, {rate(len(payments), import_s)}")
        print(
            f"book + match + reconcile + allocate: {process_s:.1f} s, {rate(len(payments), process_s)}"
        )
        print(
            f"total: {total_s:.1f} s, {rate(len(payments), total_s)}; states {counts}; allocations {allocations}"
        )
        paid = env["account.move"].search_count(
            [("id", "in", ours.ids), ("payment_state", "in", ("paid", "in_payment"))]
        )
        print(f"invoices paid: {paid} of {len(ours)}")
        cr.execute(
            """
            SELECT count(*) FROM account_move move
             WHERE move.id = ANY(%s)
               AND (SELECT COALESCE(SUM(part.amount), 0) FROM account_partial_reconcile part
                      JOIN account_move_line line ON line.id = part.debit_move_id
                     WHERE line.move_id = move.id) > move.amount_total
            """,
            [ours.ids],
        )
        print(f"invoices reconciled beyond their total: {cr.fetchone()[0]}")

        t0 = time.monotonic()
        for invoice in baseline[:5]:  # warm-up, not timed
            env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"journal_id": bank.id}).action_create_payments()
            cr.commit()
        baseline = baseline[5:]
        t0 = time.monotonic()
        for invoice in baseline:
            wizard = (
                env["account.payment.register"]
                .with_context(active_model="account.move", active_ids=invoice.ids)
                .create({"journal_id": bank.id})
            )
            wizard.action_create_payments()
            cr.commit()
        baseline_s = time.monotonic() - t0
        print(
            f"baseline, register-payment wizard: {len(baseline)} in {baseline_s:.1f} s, {rate(len(baseline), baseline_s)}"
        )
        ours_each = total_s / len(payments)
        if baseline:
            base_each = baseline_s / len(baseline)
            print(
                f"per payment: ours {1000 * ours_each:.2f} ms, baseline {1000 * base_each:.2f} ms: {base_each / ours_each:.1f}x"
            )
        print(f"100,000 payments at our rate: {100000 * ours_each:.0f} s")


if __name__ == "__main__":
    main()
