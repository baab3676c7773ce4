# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Each sandbox, started as a user starts it, prints what to enter in the backend form: the
URL and credentials printed work as printed, and the URL of what it received answers JSON."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from nordic_billing.collection import get_adapter_class
from nordic_billing.paytrail import PaytrailClient
from nordic_billing.procountor import Credentials, ProcountorClient

SRC = Path(__file__).resolve().parent.parent / "src"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def banner():
    """Start ``nordic-billing sandbox <name>`` and return its banner (up to "what it received")."""
    procs = []

    def start(name: str) -> str:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nordic_billing.cli",
                "sandbox",
                name,
                "--port",
                str(_free_port()),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={"PYTHONPATH": str(SRC), "PATH": ""},
        )
        procs.append(proc)
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "what it received" in line:
                return "".join(lines)
        raise AssertionError(f"no banner from the {name} sandbox: {''.join(lines)!r}")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def _field(text: str, label: str) -> str:
    match = re.search(rf"{label}\s+(\S+)", text)
    assert match, f"{label!r} not in the banner:\n{text}"
    return match.group(1)


def _received(text: str) -> dict:
    url = _field(text, "what it received:")
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    return response.json()


def test_procountor_banner(banner):
    text = banner("procountor")
    url = _field(text, "API URL")
    assert url.endswith("/api")
    credentials = Credentials(
        _field(text, "client id"), _field(text, "client secret"), _field(text, "API key")
    )
    with ProcountorClient(credentials, url, timeout=10) as client:
        assert client.get_coa()
    received = _received(text)
    assert "ledgerReceipts" in received["environments"]["default"]
    assert {"method": "GET", "path": "/coa", "status": 200} in received["requests"]


@pytest.mark.parametrize("protocol", ["generic_rest", "generic_soap"])
def test_agency_banner(banner, protocol):
    text = banner("agency")
    url = _field(text, "Service URL")
    adapter = get_adapter_class(protocol)(
        url, api_key=_field(text, "API key"), auth_type="api_key", timeout=10, max_retries=0
    )
    with adapter:
        adapter.ping()
    assert "cases" in _received(text)


def test_paytrail_banner(banner):
    text = banner("paytrail")
    client = PaytrailClient(
        _field(text, "merchant"), _field(text, "secret"), base_url=_field(text, "API URL")
    )
    assert client.settlements() == []
    assert "payments" in _received(text)
