# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import ast
import re
from pathlib import Path

from odoo.tests import TransactionCase, tagged

ADDON = Path(__file__).resolve().parent.parent
SCANNED = ("*.py", "*.xml", "*.js", "*.csv")


@tagged("post_install", "-at_install")
class TestLayering(TransactionCase):
    def test_this_addon_names_no_sibling(self):
        """The addons beside this one that it does not depend on may extend it (through hook
        methods they extend with super()), never the other way: it names none of them."""
        manifest = ast.literal_eval((ADDON / "__manifest__.py").read_text())
        siblings = {
            path.parent.name
            for path in ADDON.parent.glob("*/__manifest__.py")
            # A test-only addon (test_*) depends on everything and is nobody's sibling.
            if path.parent != ADDON and not path.parent.name.startswith("test_")
        } - set(manifest["depends"])
        # Their names, and the prefix of their own fields and methods (a connector's hooks), unless
        # it is this addon's or an Odoo module's (payment_...).
        modules = set(self.env["ir.module.module"].search([]).mapped("name"))
        prefixes = {name.split("_")[0] for name in siblings} - modules - {ADDON.name.split("_")[0]}
        pattern = re.compile(
            r"\b(?:"
            + "|".join(sorted(siblings))
            + r")\b"
            + "".join(rf"|\b_?{prefix}_\w" for prefix in sorted(prefixes))
        )
        self.assertGreaterEqual(len(siblings), 2)
        self.assertTrue(prefixes)
        found = []
        for glob in SCANNED:
            for path in sorted(ADDON.rglob(glob)):
                for number, line in enumerate(path.read_text().splitlines(), 1):
                    if pattern.search(line):
                        found.append(f"{path.relative_to(ADDON)}:{number}: {line.strip()}")
        self.assertFalse(found, "\n".join(found))
