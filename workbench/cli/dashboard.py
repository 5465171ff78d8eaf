"""``workbench dashboard``: serve the Voila dashboards over a reports directory (a thin layer over
:func:`workbench.dashboards.server.serve`)."""

from __future__ import annotations

import argparse

from workbench.cli._common import add_registry_option, flags

#: the options :func:`serve` takes under their own names
PASSED_ON = (
    "host",
    "port",
    "token",
    "no_token",
    "cull_idle",
    "cull_closed",
    "max_kernels",
    "preheat",
    "spare_kernels",
    "registry",
)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``dashboard`` command to `subparsers` (from ``parser.add_subparsers``)."""
    from workbench.dashboards.server import (
        CULL_CLOSED,
        CULL_IDLE,
        DEFAULT_PORT,
        MAX_KERNELS,
        PREHEAT,
        SPARE_KERNELS,
    )

    p = subparsers.add_parser(
        "dashboard",
        help="serve the Voila dashboards over a reports directory",
        description="Serve the monitoring dashboards with Voila: the index of report runs (headline, trends, "
        "runs list, one run's details), each run's own page, from what the runs stored, and the Models page "
        "(the registry's versions, aliases, release timeline and model cards). "
        "Binds 127.0.0.1 unless --host says otherwise; another address requires a token "
        "(generated and printed in the URL) unless --no-token. Ctrl-C stops it.",
    )
    p.add_argument(
        "--reports-dir", default="reports", help="the reports directory to show (default ./reports)"
    )
    p.add_argument("--port", type=int, help=f"port (default {DEFAULT_PORT}, or a free one when it is taken)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; e.g. 0.0.0.0 to share it: a token is then required)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this host name (repeatable; e.g. a reverse proxy's name). "
        "Requests naming any other host are refused (403): by default only the address the "
        "server listens on, and 127.0.0.1, localhost and [::1]",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    tok = p.add_mutually_exclusive_group()
    tok.add_argument(
        "--token", help="require this token (default: none on loopback, a generated one elsewhere)"
    )
    tok.add_argument(
        "--no-token",
        action="store_true",
        help="serve without a token even on a non-loopback address (anyone who can reach it sees it)",
    )
    p.add_argument(
        "--max-kernels",
        type=int,
        default=MAX_KERNELS,
        metavar="N",
        help=f"serve at most N pages at a time, each has its own kernel (default {MAX_KERNELS}; 0 no "
        "limit); beyond it a page says the dashboard is busy and retries by itself",
    )
    p.add_argument(
        "--cull-closed",
        type=int,
        default=CULL_CLOSED,
        metavar="SECONDS",
        help=f"shut down a page's kernel this long after its page was closed (default {CULL_CLOSED})",
    )
    p.add_argument(
        "--cull-idle",
        type=int,
        default=CULL_IDLE,
        metavar="SECONDS",
        help=f"shut down a page's kernel after this long without activity, even while the page is "
        f"open (default {CULL_IDLE}; 0 never)",
    )
    p.add_argument(
        "--preheat",
        type=int,
        default=PREHEAT,
        metavar="N",
        help=f"keep N index kernels started ahead of visits (each still reads the runs when its visit "
        f"comes, never before; default {PREHEAT}, 0 for none)",
    )
    p.add_argument(
        "--spare-kernels",
        type=int,
        default=SPARE_KERNELS,
        metavar="N",
        help=f"keep N kernels started and imported for the next run pages (they read nothing ahead; "
        f"default {SPARE_KERNELS}, 0 for none)",
    )
    add_registry_option(p)
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    """Serve the dashboards over the reports folder until stopped (:func:`~workbench.dashboards.serve`)."""
    from workbench.dashboards.server import serve
    from workbench.errors import ParameterError
    from workbench.validation import check_number

    if args.port is not None:
        check_number(args.port, "--port", low=1, high=65535, integer=True)
    check_number(args.preheat, "--preheat", low=0, high=8, integer=True)
    check_number(args.spare_kernels, "--spare-kernels", low=0, high=8, integer=True)
    check_number(args.max_kernels, "--max-kernels", low=0, integer=True, hint="0: no limit")
    check_number(args.cull_closed, "--cull-closed", low=1, integer=True, hint="seconds")
    check_number(args.cull_idle, "--cull-idle", low=0, integer=True, hint="seconds; 0: never")
    bad = [h for h in args.allow_host if not h.strip() or "/" in h or " " in h.strip()]
    if bad:
        raise ParameterError(f"--allow-host takes a host name such as dash.example.org, not {bad[0]!r}")
    return serve(
        args.reports_dir,
        open_browser=not args.no_browser,
        allow_hosts=args.allow_host,
        **flags(args, *PASSED_ON),
    )
