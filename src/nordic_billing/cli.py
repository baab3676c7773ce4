# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The ``nordic-billing`` command line.

``bank-file FILE``
    print the payments of a bank file as JSON lines; exit 2 with the reason on stderr when the
    file is not a valid bank file (nothing is printed on stdout then), and 141 without a word
    when the reader of stdout goes away (``| head``).
``reference make KIND BASE`` / ``reference check KIND VALUE``
    make a reference (printed, then its print form on a second line) or check one (exit 0 when
    valid, 1 when not); KIND is a code of :data:`nordic_billing.references.KINDS`.
``sandbox procountor|agency|paytrail --port N [--host 127.0.0.1]``
    run a local sandbox server until interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a command whose reader went away


def _bank_file(args: argparse.Namespace) -> int:
    from nordic_billing.bankfiles import (
        BankFileError,
        FailedDebit,
        LumpSum,
        Outgoing,
        iter_records,
    )

    try:
        for item in iter_records(args.file):
            if isinstance(item, LumpSum):
                print(
                    f"note: {item.source_line}: lump sum {item.amount} {item.currency} "
                    f"(archive id {item.archive_id}) is itemised in a camt.054 notification, "
                    "not reported as payments",
                    file=sys.stderr,
                )
            elif isinstance(item, Outgoing):
                print(
                    f"note: {item.source_line}: outgoing transfer {item.amount} {item.currency} "
                    f"to {item.creditor_name or 'an unnamed creditor'} "
                    f"(reference {item.reference or '-'}), not an incoming payment",
                    file=sys.stderr,
                )
            elif isinstance(item, FailedDebit):
                print(
                    f"note: {item.source_line}: failed direct debit {item.amount} "
                    f"{item.currency} (reference {item.reference or '-'}, return code "
                    f"{item.return_code}): no money came in, not a payment",
                    file=sys.stderr,
                )
            else:
                print(json.dumps(item.as_json_dict(), ensure_ascii=False))
    except BrokenPipeError:
        raise  # an OSError, but about stdout, not the file: see main
    except (BankFileError, OSError) as exc:
        print(f"nordic-billing: {args.file}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _reference(args: argparse.Namespace) -> int:
    from nordic_billing.references import KINDS

    kind = KINDS.get(args.kind)
    if kind is None:
        print(
            f"nordic-billing: unknown reference kind {args.kind!r}; known: {', '.join(KINDS)}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if args.action == "check":
        if kind.check(args.value):
            print(f"valid {args.kind} reference: {kind.format(args.value)}")
            return EXIT_OK
        print(f"invalid {args.kind} reference: {args.value}", file=sys.stderr)
        return EXIT_INVALID
    try:
        reference = kind.make(args.value)
    except ValueError as exc:
        print(f"nordic-billing: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(reference)
    print(kind.format(reference))
    return EXIT_OK


def _sandbox(args: argparse.Namespace) -> int:
    server = importlib.import_module(f"nordic_billing.sandbox.{args.server}")
    try:
        server.serve(args.host, args.port)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``nordic-billing``."""
    parser = argparse.ArgumentParser(
        prog="nordic-billing", description="Nordic membership billing: core tools."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    bank_file = commands.add_parser(
        "bank-file", help="print the payments of a KTL, camt.054/053 or Nets OCR file as JSON lines"
    )
    bank_file.add_argument("file", help="the bank file")
    bank_file.set_defaults(handler=_bank_file)

    reference = commands.add_parser("reference", help="make or check a payment reference")
    reference.add_argument("action", choices=("make", "check"))
    reference.add_argument("kind", help="fi, rf, kid10, kid11, ocr")
    reference.add_argument("value", help="the base to make a reference from, or the reference")
    reference.set_defaults(handler=_reference)

    sandbox = commands.add_parser("sandbox", help="run a local sandbox server")
    sandbox.add_argument("server", choices=("procountor", "agency", "paytrail"))
    sandbox.add_argument("--port", type=int, required=True)
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.set_defaults(handler=_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:
        # The reader of stdout went away (``| head``): stop quietly, and keep the interpreter's
        # final flush from failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
