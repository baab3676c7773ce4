# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The project's one test command: lint, core suite, and the Odoo suite when an Odoo 19 is here.

Run it through ``tools/test`` (which prepares the core's virtual environment). Steps:

1. ``ruff check`` and ``ruff format --check`` over the whole repository;
2. ``pytest tests/`` (the plain-Python core and the sandboxes);
3. when an Odoo 19 is available (``$ODOO_BIN``, else an ``odoo`` command on PATH): a fresh
   database copied from a cached template that holds the upstream dependencies, install of every
   addon under ``addons/`` with ``--test-enable``; fails when a test fails, when an addon ran no
   test, or when the log holds a WARNING, ERROR or CRITICAL line (see ``LOG_IGNORE``). The database
   is dropped afterwards. Without Odoo it prints ``Odoo suite: SKIPPED (no Odoo 19 found)``;
4. with Odoo, ``tools/demo`` builds the demo database under a throw-away name and fails on a
   WARNING or ERROR line of its log; the database is dropped afterwards.

Environment: ``ODOO_BIN`` (path of odoo-bin or the ``odoo`` script), ``ODOO_ARGS`` (extra
arguments for every Odoo call, e.g. ``--db_host=db -r odoo -w odoo``), ``ODOO_SKIP=1`` (core only),
``ODOO_KEEP_DB=1`` (keep the test database for inspection), ``ODOO_TEST_TAGS`` (narrow the
Odoo tests, e.g. ``/membook_membership``), ``ODOO_REFRESH_TEMPLATE=1`` (rebuild the template),
``DEMO_SKIP=1`` (no demo build).
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ROOT / "addons"

# Log lines at these levels fail the Odoo suite unless they match LOG_IGNORE.
BAD_LEVEL = re.compile(r"^\S+ \S+ \d+ (WARNING|ERROR|CRITICAL) ")
# Upstream noise only; every entry says why it is not ours to fix.
LOG_IGNORE = [
    # Odoo's own test runner warns when a *module* it was told to update has no tests; our
    # check below enforces > 0 tests for every addon of ours, so this line adds nothing.
    re.compile(r"odoo\.modules\.loading: .*no tests? .* module"),
]
STATS = re.compile(r"odoo\.tests\.stats: (\w+): (\d+) tests ")
# A test that runs a browser tour is named after it (test_..._tour); Odoo logs each start.
TOUR_RUN = re.compile(r"odoo\.addons\.\S+: Starting \w+\.test_\w*tour\w* \.\.\.")
NO_CHROME = "Chrome executable not found"
RESULT = re.compile(r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests")


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("+", shlex.join(cmd), flush=True)
    return subprocess.run(cmd, check=False, **kwargs)


def capture(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)


def lint(python: str) -> bool:
    ok = run([python, "-m", "ruff", "check", str(ROOT)]).returncode == 0
    ok = run([python, "-m", "ruff", "format", "--check", str(ROOT)]).returncode == 0 and ok
    # pylint-odoo's mandatory checks, as pre-commit runs them.
    addons = [str(path.parent) for path in sorted(ADDONS.glob("*/__manifest__.py"))]
    pylint = [python, "-m", "pylint", f"--rcfile={ROOT / '.pylintrc-mandatory'}", *addons]
    ok = run([*pylint, "--output-format=text"]).returncode == 0 and ok
    return ok


def core_suite(python: str) -> tuple[bool, dict[str, int]]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        proc = run(
            [
                python,
                "-m",
                "pytest",
                str(ROOT / "tests"),
                f"--junitxml={report}",
                "-p",
                "no:cacheprovider",
            ],
            cwd=ROOT,
        )
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if report.exists():
            suite = ET.parse(report).getroot()
            suites = [suite] if suite.tag == "testsuite" else list(suite)
            for item in suites:
                for key in counts:
                    counts[key] += int(item.get(key, 0))
    ok = proc.returncode == 0 and counts["tests"] > 0
    return ok, counts


def find_odoo() -> list[str] | None:
    if os.environ.get("ODOO_SKIP"):
        return None
    candidate = os.environ.get("ODOO_BIN") or shutil.which("odoo")
    if not candidate:
        return None
    path = Path(candidate)
    if not path.exists():
        print(f"ODOO_BIN={candidate} does not exist", file=sys.stderr)
        return None
    # odoo-bin from a source checkout may lack the executable bit or a suitable shebang.
    cmd = [str(path)] if os.access(path, os.X_OK) else [sys.executable, str(path)]
    version = capture([*cmd, "--version"])
    if not re.search(r"\b19\.0\b", version.stdout):
        print(f"found {candidate} but it is not Odoo 19: {version.stdout.strip()!r}")
        return None
    return cmd


def our_addons() -> list[str]:
    return sorted(p.parent.name for p in ADDONS.glob("*/__manifest__.py"))


# Installed in the template for the tests only, never dependencies: the Finnish and Norwegian
# localisations bring the `fi`, `fi_rf` and KID reference models the billing tests check;
# payment_demo, Odoo's test payment provider, pays a fee online in the money-flow test.
TEMPLATE_EXTRAS = ["l10n_fi", "l10n_no", "payment_demo"]


def upstream_dependencies(addons: list[str]) -> list[str]:
    """Modules our addons depend on (directly or through each other) that are not ours."""
    import ast

    deps: set[str] = set()
    for name in addons:
        manifest = ast.literal_eval((ADDONS / name / "__manifest__.py").read_text())
        deps.update(d for d in manifest.get("depends", []) if d not in addons)
    return sorted(deps)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def odoo_suite(odoo: list[str]) -> tuple[bool, dict[str, int], str]:
    addons = our_addons()
    extra = shlex.split(os.environ.get("ODOO_ARGS", ""))
    # The core package is imported by the addons; take it from this checkout, not an install.
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
    )
    common = [
        *extra,
        f"--addons-path={ADDONS}",
        "--log-level=info",
        "--max-cron-threads=0",
        "--http-interface=127.0.0.1",
    ]
    if not upstream_importable(odoo, env):
        print(
            "Odoo suite: FAILED: OCA membership or sepaxml is not installed in Odoo's Python; "
            "install them with: pip install --no-deps -r requirements-odoo.txt"
        )
        return False, {}, ""

    deps = sorted({*upstream_dependencies(addons), *TEMPLATE_EXTRAS})
    version = capture([*odoo, "--version"]).stdout
    key = hashlib.sha1(f"{version}{deps}".encode()).hexdigest()[:10]
    template = f"nordic_billing_tpl_{key}"
    database = f"nordic_billing_test_{os.getpid()}"
    log_dir = Path(tempfile.mkdtemp(prefix="odoo-test-"))
    logfile = log_dir / "odoo.log"

    t0 = time.monotonic()
    if os.environ.get("ODOO_REFRESH_TEMPLATE") or not database_exists(odoo, env, template):
        print(f"building template database {template} with {', '.join(deps)}")
        drop_database(odoo, env, template, extra)
        proc = run(
            [
                *odoo,
                *common,
                "-d",
                template,
                "-i",
                ",".join(deps),
                "--stop-after-init",
                f"--logfile={log_dir / 'template.log'}",
                "--http-port",
                str(free_port()),
            ],
            env=env,
        )
        if proc.returncode != 0:
            drop_database(odoo, env, template, extra)
            print(
                f"Odoo suite: FAILED: building the template failed, see {log_dir / 'template.log'}"
            )
            return False, {}, str(log_dir)
    template_s = time.monotonic() - t0
    proc = run(
        [*odoo, "db", *extra, "duplicate", "-f", template, database],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr)
        return False, {}, str(log_dir)
    t1 = time.monotonic()
    tags = os.environ.get("ODOO_TEST_TAGS") or ",".join(f"/{a}" for a in addons)
    proc = run(
        [
            *odoo,
            *common,
            "-d",
            database,
            "-i",
            ",".join(addons),
            "--test-enable",
            f"--test-tags={tags}",
            "--stop-after-init",
            f"--logfile={logfile}",
            "--http-port",
            str(free_port()),
        ],
        env=env,
    )
    run_s = time.monotonic() - t1
    if not os.environ.get("ODOO_KEEP_DB"):
        drop_database(odoo, env, database, extra)
    # With ODOO_TEST_TAGS narrowing the run, only the addons it names must have run tests.
    tagged = [a for a in addons if f"/{a}" in tags] or addons
    ok, counts = check_log(logfile, tagged, proc.returncode)
    counts["template_s"] = round(template_s)
    counts.update(count_tours(logfile))
    counts["run_s"] = round(run_s)
    return ok, counts, str(logfile)


def upstream_importable(odoo: list[str], env: dict) -> bool:
    python = odoo_python(odoo)
    code = "import odoo.addons.membership, nordic_billing, sepaxml"
    return capture([python, "-c", code], env=env).returncode == 0


def odoo_python(odoo: list[str]) -> str:
    if len(odoo) > 1:
        return odoo[0]
    first = Path(odoo[0]).read_bytes()[:200].split(b"\n", 1)[0].decode(errors="replace")
    if first.startswith("#!"):
        interpreter = shlex.split(first[2:])
        if interpreter and Path(interpreter[0]).name == "env":
            return shutil.which(interpreter[1]) or interpreter[1]
        if interpreter and Path(interpreter[0]).exists() and "python" in Path(interpreter[0]).name:
            return interpreter[0]
        # A wrapper script (e.g. `exec /opt/venv/bin/odoo "$@"`): find the python it runs.
        match = re.search(rb"exec\s+(\S+)", Path(odoo[0]).read_bytes())
        if match:
            target = match.group(1).decode()
            if Path(target).name.startswith("python"):
                return target
            return odoo_python([target])
    return sys.executable


def database_exists(odoo: list[str], env: dict, name: str) -> bool:
    extra = shlex.split(os.environ.get("ODOO_ARGS", ""))
    code = (
        "import sys; from odoo.tools import config; from odoo.service.db import exp_db_exist; "
        "config.parse_config(sys.argv[2:]); print(exp_db_exist(sys.argv[1]))"
    )
    proc = capture([odoo_python(odoo), "-c", code, name, *extra], env=env)
    return proc.stdout.strip().endswith("True")


def drop_database(odoo: list[str], env: dict, name: str, extra: list[str]) -> None:
    if database_exists(odoo, env, name):
        capture([*odoo, "db", *extra, "drop", name], env=env)


def count_tours(logfile: Path) -> dict[str, int]:
    """How many tour tests started, and whether Odoo found no Chromium to run them in."""
    text = logfile.read_text(errors="replace") if logfile.exists() else ""
    return {"tours": len(TOUR_RUN.findall(text)), "no_chrome": int(NO_CHROME in text)}


def tour_line(counts: dict[str, int]) -> str:
    if counts.get("no_chrome"):
        return (
            f"tours: {counts.get('tours', 0)} tour tests SKIPPED: Chromium is missing "
            "(install chromium, and websocket-client in Odoo's Python)"
        )
    return f"tours: {counts.get('tours', 0)} browser tours ran"


def demo_build(odoo: list[str]) -> tuple[bool, str]:
    """Build the demo database with tools/demo under a throw-away name, then drop it."""
    extra = shlex.split(os.environ.get("ODOO_ARGS", ""))
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
    )
    database = f"nordic_billing_demo_{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="odoo-demo-"))
    logfile = work / "demo.log"
    t0 = time.monotonic()
    proc = run(
        [
            sys.executable,
            str(ROOT / "tools" / "demo"),
            "--database",
            database,
            "--force",
            f"--logfile={logfile}",
            f"--bank-folder-root={work / 'bank-files'}",
        ],
        env=env,
    )
    seconds = round(time.monotonic() - t0)
    if not os.environ.get("ODOO_KEEP_DB"):
        drop_database(odoo, env, database, extra)
    demo = importlib_demo()
    problems = len(demo.log_problems(logfile))
    ok = proc.returncode == 0 and problems == 0 and logfile.exists()
    line = f"demo: built in {seconds} s, {problems} warning/error lines"
    if not ok:
        line = (
            f"demo: FAILED (exit {proc.returncode}, {problems} warning/error lines, "
            f"log {logfile})"
        )
    return ok, line


def importlib_demo():
    """tools/demo as a module (it has no .py suffix), for its log check."""
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("tools_demo", str(ROOT / "tools" / "demo"))
    spec = importlib.util.spec_from_loader("tools_demo", loader)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "tools"))
    loader.exec_module(module)
    return module


def check_log(logfile: Path, addons: list[str], returncode: int) -> tuple[bool, dict[str, int]]:
    counts: dict[str, int] = {"tests": 0, "failed": 0, "errors": 0, "log_problems": 0}
    per_addon = dict.fromkeys(addons, 0)
    problems: list[str] = []
    lines = logfile.read_text(errors="replace").splitlines() if logfile.exists() else []
    for line in lines:
        if (m := STATS.search(line)) and m.group(1) in per_addon:
            per_addon[m.group(1)] += int(m.group(2))
        if m := RESULT.search(line):
            counts["failed"], counts["errors"], counts["tests"] = (int(g) for g in m.groups())
        if BAD_LEVEL.match(line) and not any(p.search(line) for p in LOG_IGNORE):
            problems.append(line)
    counts["log_problems"] = len(problems)
    for line in problems[:40]:
        print("log:", line)
    empty = [name for name, n in per_addon.items() if n == 0]
    for name, n in per_addon.items():
        print(f"  {name}: {n} tests")
    if empty:
        print(f"addons that ran no test: {', '.join(empty)}")
    ok = (
        returncode == 0
        and counts["tests"] > 0
        and counts["failed"] == 0
        and counts["errors"] == 0
        and not problems
        and not empty
    )
    return ok, counts


def main() -> int:
    python = sys.executable
    lint_ok = lint(python)
    core_ok, core = core_suite(python)
    core_line = (
        f"core: {core['tests'] - core['failures'] - core['errors'] - core['skipped']} passed, "
        f"{core['failures'] + core['errors']} failed, {core['skipped']} skipped"
    )
    odoo = find_odoo()
    demo_ok, demo_line = True, "demo: skipped (no Odoo 19 found)"
    if odoo is None:
        print("Odoo suite: SKIPPED (no Odoo 19 found)")
        print("demo: SKIPPED (no Odoo 19 found to build the demo database with)")
        odoo_ok, odoo_line = True, "odoo: skipped"
    else:
        odoo_ok, counts, log = odoo_suite(odoo)
        failed = counts.get("failed", 0) + counts.get("errors", 0)
        odoo_line = (
            f"odoo: {counts.get('tests', 0) - failed} passed, {failed} failed, "
            f"{counts.get('log_problems', 0)} warning/error log lines (template "
            f"{counts.get('template_s', '?')} s, install + tests {counts.get('run_s', '?')} s)"
        )
        print(f"Odoo log: {log}")
        print(f"Odoo suite: {'PASSED' if odoo_ok else 'FAILED'}")
        print(tour_line(counts))
        if os.environ.get("DEMO_SKIP"):
            demo_line = "demo: skipped (DEMO_SKIP)"
        else:
            demo_ok, demo_line = demo_build(odoo)
        print(demo_line)
    print(f"lint: {'ok' if lint_ok else 'FAILED'}; {core_line}; {odoo_line}; {demo_line}")
    passed = core["tests"] - core["failures"] - core["errors"] - core["skipped"]
    failed = core["failures"] + core["errors"]
    if odoo is not None:
        odoo_failed = counts.get("failed", 0) + counts.get("errors", 0)
        passed += counts.get("tests", 0) - odoo_failed
        # A suite that fails on its log or on an addon without tests counts as one failure.
        failed += odoo_failed or (0 if odoo_ok else 1)
    failed += 0 if lint_ok else 1
    failed += 0 if demo_ok else 1
    print(f"{passed} passed, {failed} failed")
    return 0 if (lint_ok and core_ok and odoo_ok and demo_ok) else 1


if __name__ == "__main__":
    sys.exit(main())
