# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Every addon describes itself for the app store: an index.html, with the screenshots of its
screens (taken from the demo by tools/screenshots.py) present and shown."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Test-only addons (test_*) are never published, as in OCA.
ADDONS = sorted(
    p.parent
    for p in (ROOT / "addons").glob("*/__manifest__.py")
    if not p.parent.name.startswith("test_")
)
IMAGE = re.compile(r'<img[^>]+src="([^"]+)"')


def description(addon):
    return addon / "static" / "description" / "index.html"


def has_screens(addon):
    """An addon that brings views of its own has screens to show; a technical one does not."""
    return any((addon / "views").glob("*.xml"))


def test_there_are_addons():
    assert len(ADDONS) >= 5


@pytest.mark.parametrize("addon", ADDONS, ids=lambda p: p.name)
def test_every_addon_has_a_description(addon):
    assert description(addon).is_file(), f"{addon.name}: static/description/index.html missing"
    assert (addon / "static" / "description" / "icon.png").is_file()


@pytest.mark.parametrize("addon", [a for a in ADDONS if has_screens(a)], ids=lambda p: p.name)
def test_screenshots_present_and_shown(addon):
    html = description(addon).read_text()
    images = IMAGE.findall(html)
    shots = [i for i in images if i.endswith(".png") and i != "icon.png"]
    assert shots, f"{addon.name}: its description shows no screenshot"
    for image in images:
        assert not image.startswith(("http:", "https:", "/")), image
        path = description(addon).parent / image
        assert path.is_file(), f"{addon.name}: {image} is referenced but missing"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{image} is not a PNG"


def test_a_technical_addon_has_no_screens(tmp_path):
    (tmp_path / "models").mkdir()
    assert not has_screens(tmp_path)
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "a_views.xml").write_text("<odoo/>")
    assert has_screens(tmp_path)


def test_the_membership_addon_shows_how_the_money_flows():
    html = description(ROOT / "addons" / "membook_membership").read_text()
    assert "How the money flows" in html and "<svg" in html
    for step in ("Reconciliation", "Allocation ledger", "Weekly settlement", "Memo vouchers"):
        assert step in html, step
