# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Local servers that behave like the remote systems, for tests and for trying things out.

Each module exposes ``serve(host, port)`` (blocking) and a ``start_in_thread(host="127.0.0.1",
port=0)`` helper that returns a handle with ``url`` and ``stop()`` for tests.
"""
