# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Amounts cross between floats, cents and Decimals through :mod:`nordic_billing.money` only:
a copy of its conversions (``Decimal(str(x))``, ``int(x * 100)``, ``quantize(Decimal("0.01"))``,
``Decimal(cents).scaleb(-2)``...) elsewhere in the core or the addons makes this test fail."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIES = re.compile(
    r"Decimal\(str\("
    r"|\b(?:int|round)\([^()]*\*\s*100\s*\)"
    r"|quantize\(\s*Decimal\(\s*[\"']0\.01[\"']\s*\)"
    r"|scaleb\(\s*-?2\s*\)"
)
# Where such a line is not (yet) a copy of the money helper, and why. Each must still hold one:
# a file that no longer does leaves this list.
NOT_COPIES = {
    # Percentages, quantities, JSON Schema bounds and validation: numbers, not amounts.
    "src/nordic_billing/allocation.py": "a share's value checked to be whole cents",
    "src/nordic_billing/openapi.py": "JSON Schema minimum and maximum",
    "src/nordic_billing/collection/base.py": "parses an agency's decimal text, checked",
    "src/nordic_billing/sandbox/paytrail.py": "the sandbox's commission percentage",
    "src/nordic_billing/sandbox/procountor.py": "the sandbox reads JSON as Procountor does",
    # Rewritten with the allocation ledger and the settlements (their next change moves them
    # to the helper).
    "addons/membook_membership/models/membook_allocation.py": "rewritten with the ledger",
    "addons/membook_membership/models/membook_ledger_booking.py": "rewritten with the ledger",
    "addons/membook_membership/models/membook_settlement.py": "rewritten with the settlements",
    # VAT percentages and quantities, and two amounts, of the Procountor connector.
    "addons/procountor_connector/models/account_move.py": "quantities and VAT percentages",
    "addons/procountor_connector/models/procountor_backend.py": "to move to the helper",
}


def _copies():
    found = {}
    for base in ("src", "addons"):
        for path in sorted((ROOT / base).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/tests/" in relative or relative == "src/nordic_billing/money.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if COPIES.search(line):
                    found.setdefault(relative, []).append(f"{relative}:{number}: {line.strip()}")
    return found


def test_no_copy_of_the_money_helper():
    found = _copies()
    copies = [line for path, lines in found.items() if path not in NOT_COPIES for line in lines]
    assert not copies, "use nordic_billing.money instead:\n" + "\n".join(copies)


def test_the_exceptions_are_still_needed():
    found = _copies()
    assert not [path for path in NOT_COPIES if path not in found]


def test_the_scan_sees_a_copy():
    for copy in (
        "amount = Decimal(str(value))",
        "cents = int(amount * 100)",
        "cents = round(move.amount_residual * 100)",
        'value = Decimal(str(x)).quantize(Decimal("0.01"))',
        "amount = Decimal(cents).scaleb(-2)",
    ):
        assert COPIES.search(copy), copy
