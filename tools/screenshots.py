#!/usr/bin/env python3
# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Take the screenshots of the addons' descriptions from a running demo database.

    tools/demo                                  # the demo database, once
    odoo -d demo --addons-path=... &            # a server on it
    tools/screenshots.py --url http://127.0.0.1:8069 --db demo [--only membook_membership]

Each screen is opened in headless Chromium as the demo user it is meant for (admin, the
federation's manager, a club's treasurer) and written as
``addons/<addon>/static/description/<name>.png``, the file its ``index.html`` shows. Needs
``requests`` and ``websocket-client`` (both are Odoo's own dependencies) and Chromium.
"""

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import websocket

ROOT = Path(__file__).resolve().parent.parent
USERS = {"admin": "admin", "manager": "manager", "treasurer": "treasurer"}

# (addon, file name, demo user, path under /odoo, what it shows)
SHOTS = [
    ("membook_membership", "overview", "manager", "membership-overview", "overview"),
    (
        "membook_membership",
        "organisations",
        "manager",
        "action-membook_membership.membook_organisation_action",
        "organisation hierarchy",
    ),
    (
        "membook_membership",
        "bank_payments",
        "manager",
        "action-membook_membership.membook_bank_payment_action_queue",
        "the unmatched payments queue",
    ),
    (
        "membook_membership",
        "settlements",
        "treasurer",
        "action-membook_membership.membook_settlement_action",
        "a club treasurer's settlements",
    ),
    (
        "procountor_connector",
        "backends",
        "admin",
        "action-procountor_connector.procountor_backend_action",
        "Procountor connections",
    ),
    (
        "procountor_connector",
        "exchanges",
        "admin",
        "action-procountor_connector.procountor_exchange_action",
        "memo vouchers and invoices sent",
    ),
    (
        "collection_connector",
        "draft_list",
        "admin",
        "action-collection_connector.collection_case_action_draft",
        "draft collection list",
    ),
    (
        "collection_connector",
        "backends",
        "admin",
        "action-collection_connector.collection_backend_action",
        "collection agencies",
    ),
    (
        "membook_collection",
        "draft_list",
        "manager",
        "action-collection_connector.collection_case_action_draft",
        "the draft collection list from the Membership app",
    ),
    (
        "payment_paytrail",
        "provider",
        "admin",
        "action-payment.action_payment_provider",
        "payment providers",
    ),
    (
        "membook_payment_paytrail",
        "bank_payments",
        "admin",
        "action-membook_membership.membook_bank_payment_action",
        "Paytrail payouts in the bank queue",
    ),
]


class Browser:
    """Headless Chromium driven over the DevTools protocol."""

    def __init__(self, width=1440, height=900):
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if not binary:
            sys.exit("Chromium is needed: apt-get install chromium")
        self.profile = tempfile.mkdtemp(prefix="membook-shots-")
        self.proc = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        for _ in range(100):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        pages = requests.get(f"http://127.0.0.1:{port}/json", timeout=10).json()
        page = next(p for p in pages if p["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def close(self):
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


READY = """(() => {
    const view = document.querySelector(
        '.o_action_manager .o_view_controller, .o_action_manager .o_action');
    return !!view && !document.querySelector('.o_loading_indicator, .o_blockUI');
})()"""


def session_cookie(url, db, login):
    response = requests.post(
        f"{url}/web/session/authenticate",
        json={"params": {"db": db, "login": login, "password": USERS[login]}},
        timeout=30,
    )
    response.raise_for_status()
    if response.json().get("error"):
        sys.exit(f"cannot log in as {login}: {response.json()['error']['data']['message']}")
    return response.cookies["session_id"]


def take(browser, url, db, login, path, target):
    browser.call("Network.enable")
    browser.call("Network.clearBrowserCookies")
    browser.call(
        "Network.setCookie", name="session_id", value=session_cookie(url, db, login), url=url
    )
    browser.call("Page.enable")
    browser.call("Page.navigate", url=f"{url}/odoo/{path}")
    deadline = time.monotonic() + 60
    while not browser.evaluate(READY):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} did not load as {login}")
        time.sleep(0.3)
    time.sleep(1.5)  # charts and counters finish drawing
    shot = browser.call("Page.captureScreenshot", format="png")
    target.write_bytes(base64.b64decode(shot["data"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", default="demo")
    parser.add_argument("--only", help="one addon")
    args = parser.parse_args(argv)
    browser = Browser()
    try:
        for addon, name, login, path, what in SHOTS:
            if args.only and addon != args.only:
                continue
            target = ROOT / "addons" / addon / "static" / "description" / f"{name}.png"
            take(browser, args.url.rstrip("/"), args.db, login, path, target)
            print(f"{target.relative_to(ROOT)}: {what} as {login}")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
