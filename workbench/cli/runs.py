"""``workbench runs``: list report runs from the ledger (a thin layer over
:meth:`workbench.reports.ledger.Ledger.runs`)."""

from __future__ import annotations

import json
import sys

from workbench.exit_codes import EXIT_OK
from workbench.report_kinds import KIND_NAMES
from workbench.validation import check_number, check_path


def add_parser(sub) -> None:
    """Add the ``runs`` command to `sub` (from ``parser.add_subparsers``)."""
    ru = sub.add_parser(
        "runs",
        help="list report runs from the ledger",
        description="List report runs (newest first) from the ledger of a reports directory.",
    )
    ru.add_argument("--reports-dir", default="reports", help="reports directory (default ./reports)")
    ru.add_argument("--kind", choices=KIND_NAMES, help="only runs of this kind")
    ru.add_argument("--limit", type=int, default=50, help="at most this many runs (default 50)")
    ru.add_argument(
        "--rebuild", action="store_true", help="rebuild the ledger from the run directories first"
    )
    ru.add_argument("--json", action="store_true", help="print the runs as JSON")
    ru.set_defaults(func=run)


def run(args) -> int:
    """List the runs of a reports folder from its ledger (``--rebuild`` rebuilds it first)."""
    from workbench._json import json_default
    from workbench.reports.ledger import Ledger

    root = check_path(args.reports_dir, "the reports directory", kind="dir")
    if args.limit is not None:
        check_number(args.limit, "--limit", low=1, integer=True, hint="runs")
    ledger = Ledger(root)
    if args.rebuild:
        n = ledger.rebuild()
        for folder, why in ledger.unreadable:
            print(f"workbench: skipped '{folder}': {why}", file=sys.stderr)
        if not args.json:
            print(
                f"ledger rebuilt from {n} run directories"
                + (
                    f"; {len(ledger.unreadable)} could not be read (listed above)"
                    if ledger.unreadable
                    else ""
                )
            )
    runs = ledger.runs(kind=args.kind, limit=args.limit)
    if args.json:
        print(json.dumps(runs, default=json_default))
        return EXIT_OK
    if not runs:
        print("no runs yet — run `workbench report drift --reference REF --current CUR`")
        return EXIT_OK
    print(f"{'run':<48} {'kind':<12} {'period':<12} {'status':<14} failed checks / reason")
    for r in runs:
        if r["status"] == "failed":
            detail = f"error: {r.get('error') or 'no reason recorded'}"
        else:
            checks = [c for c in r.get("checks") or [] if not c.get("passed", True)]
            failed = [c["name"] for c in checks if c.get("severity", "error") == "error"]
            warned = [c["name"] for c in checks if c.get("severity", "error") != "error"]
            detail = ", ".join(failed[:3]) + (f" (+{len(failed) - 3})" if len(failed) > 3 else "")
            if warned:
                detail += ("; " if detail else "") + f"{len(warned)} warning{'s' if len(warned) > 1 else ''}"
        print(f"{r['id']:<48} {r['kind']:<12} {(r.get('period') or ''):<12} {r['status']:<14} {detail}")
    return EXIT_OK
