# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Shared set-up for the benchmarks that run on a real Odoo 19.

A benchmark script calls :func:`odoo_env` first. Outside Odoo's Python it re-executes itself with
the interpreter of the ``odoo`` command (found as ``tools/test`` finds it), with this checkout's
core on ``PYTHONPATH``. It then copies the test template database (built by ``tools/test``) into a
fresh benchmark database, installs the addons there, loads the generic chart of accounts, and
yields an environment whose cursor the script commits as it goes. The database is dropped at the
end unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import run_tests  # noqa: E402


def ensure_odoo_python() -> None:
    """Re-run this script under Odoo's Python when ``odoo`` cannot be imported here."""
    try:
        import odoo.api  # noqa: F401
    except ImportError:
        odoo_cmd = run_tests.find_odoo()
        if not odoo_cmd:
            sys.exit("No Odoo 19 found: set ODOO_BIN or put `odoo` on PATH.")
        python = run_tests.odoo_python(odoo_cmd)
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        os.execve(python, [python, *sys.argv], env)


def call(function, *args, profile: bool | str = False, lines: int = 30):
    """``function(*args)``; with ``profile``, under cProfile: the top ``lines`` functions by
    cumulative time are printed, or the stats saved to the file ``profile`` names ("-" prints)."""
    if not profile:
        return function(*args)
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    result = profiler.runcall(function, *args)
    if isinstance(profile, str) and profile != "-":
        profiler.dump_stats(profile)
    else:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(lines)
    return result


def parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--database", default=f"nordic_billing_bench_{os.getpid()}")
    return parser


@contextlib.contextmanager
def odoo_env(database: str, keep: bool = False, source: str | None = None):
    """An environment on a fresh database with the addons installed, as superuser.

    With ``source``, the database is a copy of that earlier benchmark database (kept with
    ``--keep``) instead of the template, and the addons are updated there to this checkout.
    """
    odoo_cmd = run_tests.find_odoo()
    extra = run_tests.shlex.split(os.environ.get("ODOO_ARGS", ""))
    addons = run_tests.our_addons()
    deps = sorted({*run_tests.upstream_dependencies(addons), *run_tests.TEMPLATE_EXTRAS})
    version = run_tests.capture([*odoo_cmd, "--version"]).stdout
    key = run_tests.hashlib.sha1(f"{version}{deps}".encode()).hexdigest()[:10]
    template = f"nordic_billing_tpl_{key}"
    env_vars = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    if source:
        template = source
    if not run_tests.database_exists(odoo_cmd, env_vars, template):
        sys.exit(f"Database {template} missing: run tools/test once to build the template.")
    subprocess.run(
        [*odoo_cmd, "db", *extra, "duplicate", "-f", template, database],
        check=True,
        capture_output=True,
    )
    t0 = time.monotonic()
    subprocess.run(
        [
            *odoo_cmd,
            *extra,
            f"--addons-path={ROOT / 'addons'}",
            "-d",
            database,
            "-u" if source else "-i",
            ",".join(addons),
            "--stop-after-init",
            "--log-level=warn",
        ],
        check=True,
        env=env_vars,
        capture_output=True,
    )
    print(f"install of the addons on the template copy: {time.monotonic() - t0:.1f} s")

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(
        [
            *extra,
            f"--addons-path={ROOT / 'addons'}",
            "--log-level=warn",
            "--http-interface=127.0.0.1",
        ]
    )
    registry = Registry(database)
    try:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.api.SUPERUSER_ID, {})
            company = env.company
            if not company.chart_template:
                env["account.chart.template"].try_loading(
                    "generic_coa", company, install_demo=False
                )
                cr.commit()
            yield env
    finally:
        if not keep:
            Registry.delete(database)
            subprocess.run(
                [*odoo_cmd, "db", *extra, "drop", database], capture_output=True, check=False
            )


def warm_registry(registry) -> None:
    """Odoo builds a field's trigger tree the first time the field is modified, and keeps it
    for the life of the registry: seconds of work a running server has done long before, which
    a benchmark's figures must not count."""
    for model in registry.models.values():
        for field in model._fields.values():
            registry.get_field_trigger_tree(field)


@contextlib.contextmanager
def worker_env(database: str):
    """An environment on an existing benchmark database, for a worker process started by
    ``run_workers``: ready as a running server's cron worker is, it starts when told to."""
    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    extra = run_tests.shlex.split(os.environ.get("ODOO_ARGS", ""))
    config.parse_config(
        [
            *extra,
            f"--addons-path={ROOT / 'addons'}",
            "--log-level=warn",
            "--http-interface=127.0.0.1",
        ]
    )
    registry = Registry(database)
    warm_registry(registry)
    print("ready", flush=True)
    sys.stdin.readline()
    with registry.cursor() as cr:
        yield odoo.api.Environment(cr, odoo.api.SUPERUSER_ID, {})


def run_workers(env, script: str, database: str, count: int) -> float:
    """Run ``script --worker`` in ``count`` processes and wait for them, as cron workers run
    a job: each process takes locked batches until none are left. ``env`` then sees their work.

    The processes load and warm their registry first, then start together; returns the
    seconds that took, which the caller leaves out of its timing.
    """
    t0 = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, script, "--worker", "--database", database],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for proc in procs:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("a worker process failed to start")
    ready_s = time.monotonic() - t0
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    failed = [index for index, proc in enumerate(procs) if proc.wait()]
    if failed:
        # The others may have finished the work: figures would pass for this many workers'.
        sys.exit(f"worker process(es) {failed} failed: the figures would not be for {count}")
    env.cr.rollback()
    env.invalidate_all()
    print(f"{count} worker processes loaded and warmed in {ready_s:.1f} s (not counted)")
    return ready_s


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.1f}/s ({1000 * seconds / count:.2f} ms each)" if count else "-"
