# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Cron Batches",
    "summary": "Scheduled actions take their batches with row locks that other copies skip, "
    "and whatever starts work wakes every copy",
    "version": "19.0.1.0.0",
    "category": "Hidden/Tools",
    "website": "https://github.com/nordic-billing/nordic-billing",
    "author": "Nordic Billing contributors",
    "maintainers": ["nordic-billing"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["base"],
    "data": [],
}
