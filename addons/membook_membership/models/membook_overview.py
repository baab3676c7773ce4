# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools.misc import format_amount, format_date

from nordic_billing.banking_days import missed_banking_days

from .membook_bank_matching import MATCHED_KINDS

# Rows listed in full on the overview; the counts and sums cover everything.
OVERVIEW_LIST_LIMIT = 5


class MembookOverview(models.AbstractModel):
    """The treasurer's overview: how the money is doing today, on one screen.

    Every figure is an aggregate (``_read_group``) or a short ordered read, so the overview costs a
    handful of indexed queries whatever the size of the register: no record loops. Record rules
    apply as on the lists the overview opens, so a figure is what its list shows.

    Other addons add their queues (memo vouchers, collection cases...) by extending
    :meth:`_membook_overview_queues` with ``super()``.
    """

    _name = "membook.overview"
    _description = "Treasurer's overview"

    @api.model
    def get_overview(self):
        """The overview's figures as of today (the user's day), for the client action."""
        today = fields.Date.context_today(self)
        week_start = today - timedelta(days=today.weekday())
        currency = self.env.company.currency_id
        money = self._membook_overview_money_in(today, week_start)
        return {
            "today": fields.Date.to_string(today),
            "today_text": format_date(self.env, today),
            "week_start": fields.Date.to_string(week_start),
            "currency_id": currency.id,
            "money_in": {
                key: {**value, "text": format_amount(self.env, value["amount"], currency)}
                for key, value in money.items()
            },
            "automatic": self._membook_overview_automatic(week_start, today),
            "unmatched": self._membook_overview_unmatched(currency),
            "settlements": self._membook_overview_settlements(currency),
            "bank_files": self._membook_overview_bank_files(today),
            "queues": sorted(
                self._membook_overview_queues(), key=lambda card: card.get("sequence", 50)
            ),
        }

    # ------------------------------------------------------------------
    # Figures
    # ------------------------------------------------------------------
    @api.model
    def _membook_overview_money_in(self, today, week_start):
        """Incoming payments (corrections apart) credited today and since Monday: {"today":
        {"amount", "count"}, "week": {...}}. A payment's day is its booking date, its payment
        date when the bank file gives no booking date."""
        Payment = self.env["membook.bank.payment"]
        in_week = [("booking_date", ">=", week_start), ("booking_date", "<=", today)]
        in_week_unbooked = [
            ("booking_date", "=", False),
            ("payment_date", ">=", week_start),
            ("payment_date", "<=", today),
        ]
        groups = Payment._read_group(
            [("is_correction", "=", False), "|", "&", *in_week, "&", "&", *in_week_unbooked],
            ["booking_date:day", "payment_date:day"],
            ["amount:sum", "__count"],
        )
        figures = {"today": {"amount": 0.0, "count": 0}, "week": {"amount": 0.0, "count": 0}}
        for booked, paid, amount, count in groups:
            day = booked or paid
            keys = ("today", "week") if day == today else ("week",)
            for key in keys:
                figures[key]["amount"] += amount
                figures[key]["count"] += count
        for value in figures.values():
            value["amount"] = self.env.company.currency_id.round(value["amount"])
        return figures

    @api.model
    def _membook_overview_automatic(self, date_from, date_to):
        """Share of the payments received from ``date_from`` to ``date_to`` (by payment date,
        corrections apart, processed) that matching placed without a person: {"matched",
        "total", "percent"} (percent None without payments)."""
        groups = self.env["membook.bank.payment"]._read_group(
            [
                ("is_correction", "=", False),
                ("state", "!=", "new"),
                ("payment_date", ">=", date_from),
                ("payment_date", "<=", date_to),
            ],
            ["match_kind"],
            ["__count"],
        )
        total = sum(count for _kind, count in groups)
        matched = sum(count for kind, count in groups if kind in MATCHED_KINDS)
        return {
            "matched": matched,
            "total": total,
            "percent": round(100.0 * matched / total, 1) if total else None,
        }

    @api.model
    def _membook_overview_unmatched(self, currency):
        """The unmatched queue: count, sum, and its oldest payments first."""
        Payment = self.env["membook.bank.payment"]
        domain = [("state", "=", "to_check")]
        [(count, amount, oldest)] = Payment._read_group(
            domain, [], ["__count", "amount:sum", "payment_date:min"]
        )
        rows = Payment.search_read(
            domain,
            ["payment_date", "payer_name", "reference", "amount", "match_kind"],
            order="payment_date, id",
            limit=OVERVIEW_LIST_LIMIT,
        )
        kinds = dict(Payment._fields["match_kind"]._description_selection(self.env))
        for row in rows:
            row["amount_text"] = format_amount(self.env, row["amount"], currency)
            row["payment_date_text"] = format_date(self.env, row["payment_date"])
            row["payment_date"] = fields.Date.to_string(row["payment_date"])
            row["match_kind"] = kinds.get(row["match_kind"], "")
        return {
            "count": count,
            "amount": currency.round(amount or 0.0),
            "amount_text": format_amount(self.env, amount or 0.0, currency),
            "oldest": fields.Date.to_string(oldest) if oldest else False,
            "oldest_text": format_date(self.env, oldest) if oldest else "",
            "rows": rows,
        }

    @api.model
    def _membook_overview_settlements(self, currency):
        """Settlements not paid yet: per state ("draft" to confirm, "confirmed" to pay out)
        their count and amount to pay out, and the oldest ones."""
        Settlement = self.env["membook.settlement"]
        domain = [("state", "in", ("draft", "confirmed"))]
        groups = dict.fromkeys(("draft", "confirmed"), (0, 0.0))
        for state, count, amount in Settlement._read_group(
            domain, ["state"], ["__count", "amount_payable:sum"]
        ):
            groups[state] = (count, currency.round(amount))
        rows = Settlement.search_read(
            domain,
            ["name", "date", "organisation_id", "amount_payable", "state"],
            order="date, id",
            limit=OVERVIEW_LIST_LIMIT,
        )
        states = dict(Settlement._fields["state"]._description_selection(self.env))
        for row in rows:
            row["organisation"] = row.pop("organisation_id")[1]
            row["amount_text"] = format_amount(self.env, row["amount_payable"], currency)
            row["date_text"] = format_date(self.env, row["date"])
            row["date"] = fields.Date.to_string(row["date"])
            row["state"] = states[row["state"]]
        return {
            state: {
                "count": count,
                "amount": amount,
                "amount_text": format_amount(self.env, amount, currency),
            }
            for state, (count, amount) in groups.items()
        } | {"rows": rows}

    @api.model
    def _membook_overview_bank_files(self, today):
        """The last bank file imported into each bank journal that receives files (one with
        an import folder or a file already), and the Finnish banking days since then that
        passed without one."""
        File = self.env["membook.bank.file"]
        last = {
            journal: (stamp, file_id)
            for journal, stamp, file_id in File._read_group(
                [], ["journal_id"], ["create_date:max", "id:max"]
            )
        }
        Journal = self.env["account.journal"]
        # The folder itself is for administrators only: which journals have one is not.
        with_folder = Journal.sudo().search([("membook_import_folder", "!=", False)])
        journals = Journal.search(
            [
                ("type", "=", "bank"),
                ("company_id", "in", self.env.companies.ids),
                ("id", "in", with_folder.ids + [journal.id for journal in last]),
            ]
        )
        names = {
            record.id: record.name
            for record in File.browse([file_id for _stamp, file_id in last.values()])
        }
        result = []
        for journal in journals:
            stamp, file_id = last.get(journal, (None, None))
            day = fields.Datetime.context_timestamp(self, stamp).date() if stamp else None
            missed = missed_banking_days(day, today)
            result.append(
                {
                    "journal_id": journal.id,
                    "journal": journal.display_name,
                    "file_id": file_id or False,
                    "file_name": names.get(file_id, ""),
                    "imported": fields.Datetime.to_string(stamp) if stamp else False,
                    "imported_day": fields.Date.to_string(day) if day else False,
                    "imported_text": format_date(self.env, day) if day else "",
                    "missed": [fields.Date.to_string(missed_day) for missed_day in missed],
                    "missed_text": ", ".join(format_date(self.env, d) for d in missed),
                }
            )
        return result

    # ------------------------------------------------------------------
    # Queue cards: the hook other addons extend
    # ------------------------------------------------------------------
    @api.model
    def _membook_overview_card(
        self, key, name, model, domain, sequence, severity, amount_field=None
    ):
        """One queue card of :meth:`_membook_overview_queues`: the records of ``model`` in
        ``domain`` counted (and ``amount_field`` summed) with a button opening their list."""
        currency = self.env.company.currency_id
        aggregates = ["__count"] + ([f"{amount_field}:sum"] if amount_field else [])
        [figures] = model._read_group(domain, [], aggregates)
        count, amount = figures[0], (figures[1] if amount_field else None)
        return {
            "key": key,
            "name": name,
            "count": count,
            "amount": currency.round(amount or 0.0) if amount_field else None,
            "amount_text": (
                format_amount(self.env, amount or 0.0, currency) if amount_field else ""
            ),
            "severity": severity if count else "ok",
            "sequence": sequence,
            "action": {
                "type": "ir.actions.act_window",
                "name": name,
                "res_model": model._name,
                "views": [[False, "list"], [False, "form"]],
                "domain": domain,
                "context": {"create": False},
            },
        }

    @api.model
    def _membook_overview_queues(self):
        """Work waiting for someone, as cards: a list of dicts with ``key``, ``name``,
        ``count``, ``amount`` (or None), ``severity`` ("ok", "warning" or "danger"),
        ``sequence`` and ``action`` (an action dict or an action's XML id) opening the list.

        Extend with ``super()`` to add an addon's queues (memo vouchers pending or failed,
        collection cases...)."""
        Payment = self.env["membook.bank.payment"]
        Settlement = self.env["membook.settlement"]
        cards = []

        def card(*args, **kwargs):
            cards.append(self._membook_overview_card(*args, **kwargs))

        card(
            "unmatched",
            self.env._("Unmatched payments"),
            Payment,
            [("state", "=", "to_check")],
            10,
            "warning",
            "amount",
        )
        card(
            "to_process",
            self.env._("Payments waiting to be booked"),
            Payment,
            [("state", "=", "new")],
            15,
            "warning",
            "amount",
        )
        card(
            "settlements_draft",
            self.env._("Settlements to confirm"),
            Settlement,
            [("state", "=", "draft")],
            20,
            "warning",
            "amount_payable",
        )
        card(
            "settlements_confirmed",
            self.env._("Settlements to pay out"),
            Settlement,
            [("state", "=", "confirmed")],
            25,
            "warning",
            "amount_payable",
        )
        return cards
