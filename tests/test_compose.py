# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""docker-compose.yml as issue 17 wants it: `docker compose up` starts PostgreSQL, the sandboxes
next to Odoo and Odoo, which builds the demo database on first start; the tests image has a
browser for the tours."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_up_starts_database_sandboxes_and_odoo():
    started = {name for name, svc in SERVICES.items() if "profiles" not in svc}
    assert {"db", "odoo", "procountor", "agency", "paytrail"} <= started


def test_sandboxes_share_odoos_network_on_the_demo_ports():
    ports = {"procountor": "8900", "agency": "8901", "paytrail": "8902"}
    for name, port in ports.items():
        service = SERVICES[name]
        assert service["network_mode"] == "service:odoo", name
        assert service["command"][:2] == ["sandbox", name]
        assert service["command"][service["command"].index("--port") + 1] == port
    # Each connector's demo connection points at its sandbox on those ports.
    procountor = (ROOT / "addons/procountor_connector/models/membook_demo.py").read_text()
    agency = (ROOT / "addons/membook_collection/models/membook_demo.py").read_text()
    assert '"http://127.0.0.1:8900/api"' in procountor
    assert '"http://127.0.0.1:8901"' in agency


def test_odoo_builds_the_demo_on_first_start():
    odoo = SERVICES["odoo"]
    assert odoo["entrypoint"] == ["/usr/local/bin/entrypoint-demo.sh"]
    script = (ROOT / "docker/entrypoint-demo.sh").read_text()
    assert re.search(r"tools/demo --if-missing --database \"\$\{DEMO_DATABASE:-demo\}\"", script)
    assert "membook_bank_folder_root" in script
    assert (
        "COPY docker/entrypoint-demo.sh /usr/local/bin/entrypoint-demo.sh"
        in (ROOT / "docker/Dockerfile").read_text()
    )


def test_tests_image_has_a_browser():
    assert SERVICES["tests"]["build"]["target"] == "tests"
    dockerfile = (ROOT / "docker/Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)
    tests_stage = next(s for s in stages if re.match(r"\S+ AS tests\b", s))
    assert re.search(r"apt-get install .*(chromium|chrome)", tests_stage, re.DOTALL)
    assert "websocket-client" in tests_stage
