"""``workbench serve``: a model behind an HTTP API with a guard, a fallback, canary or shadow traffic and a
prediction log (a thin layer over :func:`workbench.serving.server.serve`)."""

from __future__ import annotations

from workbench.cli._common import add_registry_option
from workbench.validation import check_number

_DESCRIPTION = (
    "Serve a model with FastAPI + uvicorn: POST /predict (one record or a list), GET /health, GET /model, "
    "GET /metrics (Prometheus), POST /reload, /docs. Each record is checked against the model's training "
    "profile; a model error or timeout is answered by the fallback. A models:/NAME@ALIAS model is "
    "followed: moving the alias (promote, rollback) swaps the model without a restart. Binds 127.0.0.1 "
    "unless --host says otherwise; another address requires --token. SIGTERM or Ctrl-C stops it after "
    "the requests in flight are answered and the log is flushed."
)


def add_parser(sub) -> None:
    """Add ``serve`` to the subcommands."""
    from workbench.serving.guard import PROBLEMS

    summary = "serve a model over HTTP (guarded predictions, fallback, canary/shadow, prediction log)"
    p = sub.add_parser("serve", help=summary, description=_DESCRIPTION)
    p.add_argument(
        "--model", required=True, help="a model file or models:/ URI (models:/NAME@champion is followed)"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument("--challenger", metavar="MODEL", help="a second model, served as a canary or a shadow")
    p.add_argument("--mode", choices=("canary", "shadow"), help="how the challenger gets traffic")
    p.add_argument(
        "--canary-percent",
        type=float,
        default=10.0,
        metavar="P",
        help="share of ids the canary answers (default 10)",
    )
    p.add_argument(
        "--fallback",
        default="prior",
        metavar="MODEL|prior|none",
        help="who answers when the model fails or times out: a model (e.g. the previous champion), "
        "the training class prior (default), or none",
    )
    p.add_argument("--log-dir", metavar="DIR", help="write the prediction log (Parquet, by date) here")
    p.add_argument("--log-exclude", action="append", default=[], metavar="COL", help="leave a column out")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    p.add_argument("--token", help="the token clients must send (required for any address but loopback)")
    p.add_argument(
        "--impute",
        action="append",
        default=[],
        choices=PROBLEMS,
        help="answer records with this problem with an imputed value, flagged, instead of rejecting them "
        "(repeatable)",
    )
    p.add_argument(
        "--range-tolerance",
        type=float,
        default=0.1,
        metavar="F",
        help="how far beyond the training range a number may go, as a share of the range (default 0.1)",
    )
    p.add_argument(
        "--reject-extra", action="store_true", help="reject records with fields the model does not use"
    )
    p.add_argument(
        "--timeout-ms", type=float, default=1000.0, help="per-request model timeout (default 1000)"
    )
    p.add_argument(
        "--reload-seconds",
        type=float,
        default=5.0,
        help="how often aliases are re-read (0: only on POST /reload)",
    )
    p.add_argument(
        "--max-records", type=int, default=10_000, help="most records per request (default 10,000)"
    )
    p.add_argument("--max-body-mb", type=float, default=16.0, help="largest request body in MiB (default 16)")
    p.add_argument(
        "--reference", metavar="TABLE", help="the training table, for a model saved without a profile"
    )
    add_registry_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    """Check the flags, then serve until stopped."""
    from workbench.serving.guard import GuardPolicy
    from workbench.serving.server import serve

    check_number(args.canary_percent, "--canary-percent", low=0, high=100)
    check_number(args.timeout_ms, "--timeout-ms", low=1, high=3_600_000)
    check_number(args.reload_seconds, "--reload-seconds", low=0, high=86_400)
    check_number(args.max_records, "--max-records", low=1, high=10_000_000, integer=True)
    check_number(args.max_body_mb, "--max-body-mb", low=0.001, high=4096)
    check_number(args.range_tolerance, "--range-tolerance", low=0, high=100)
    policy = GuardPolicy(
        impute=frozenset(args.impute), tolerance=args.range_tolerance, reject_extra=args.reject_extra
    )
    # the flags passed as they are (their names are serve()'s parameters)
    same = ("host", "port", "challenger", "mode", "canary_percent", "fallback", "log_dir", "log_exclude")
    same += ("workers", "token", "registry", "reload_seconds", "max_records", "reference")
    serve(
        args.model,
        timeout=args.timeout_ms / 1000.0,
        max_body_bytes=int(args.max_body_mb * 2**20),
        policy=policy,
        **{name: getattr(args, name) for name in same},
    )
    return 0
