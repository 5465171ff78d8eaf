"""The demo's serving step: the champion behind ``workbench serve``, production replayed through it.

:func:`serving_step` starts ``workbench serve`` (a subprocess, as a user starts
it) on ``models:/NAME@champion`` with the other version in shadow and the
prediction log in the demo's folder, replays the simulated production batches
through it as HTTP requests of :data:`REQUEST_RECORDS` records with ids
(:data:`CONCURRENCY` at a time, loopback only), stops it (SIGTERM: the
requests in flight are answered and the log is flushed), then works on the
log as a user would: a drift report against the reference period, the
batches' labels joined by id and a performance report on the labelled log,
and the shadow's answers set against the champion's.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError

#: records per request of the replay
REQUEST_RECORDS = 100
#: requests in flight at once
CONCURRENCY = 4
#: seconds the server has to start (import, load both models from the registry) and to stop
START_SECONDS, STOP_SECONDS = 120, 60


class ServingStepError(RuntimeError):
    """The demo's server did not start, answer or stop as it should, or a report on its log failed (the
    sentence says which, and where to look); caught by :func:`serving_step`, never raised out of it."""


def serving_step(
    batches: list[Path],
    *,
    model: str,
    target: str,
    registry: Path,
    reference: Path,
    out: Path,
    reports_dir: Path,
    progress: bool,
    echo,
) -> tuple[dict, str | None]:
    """Serve the champion (the other version in shadow), replay `batches`, run the reports on the log.

    Returns what happened (counts, latencies, the reports' runs) and, when a step failed, one line naming
    the step and why (None when every step completed).
    """
    import shutil

    from workbench.registry.versions import get_alias, list_versions

    t0 = time.perf_counter()
    done: dict[str, Any] = {}
    folder = out / "serving"
    log_dir = folder / "log"
    step = "starting the server"
    try:
        champion = get_alias(model, "champion", registry=registry).version
        others = [int(v.version) for v in list_versions(model, registry=registry) if v.version != champion]
        if not others:
            raise ServingStepError(f"the registry holds no version of '{model}' besides the champion")
        shadow = max(others)
        shutil.rmtree(folder, ignore_errors=True)  # a log left by an earlier demo would be counted again
        folder.mkdir(parents=True)
        echo(
            f"\nServing: `workbench serve` on models:/{model}@champion (version {champion}), "
            f"version {shadow} in shadow, the prediction log in {log_dir}/"
        )
        with _server(model, shadow, registry, log_dir, folder / "server.log") as url:
            step = "replaying the production batches"
            stats = replay(url, batches)
            step = "stopping the server"
        done.update(stats, champion=champion, shadow=shadow, log=str(log_dir))
        echo(
            f"replayed {len(batches)} batches: {stats['records']:,} records in {stats['requests']} "
            f"requests of {REQUEST_RECORDS} ({CONCURRENCY} at a time) in {stats['seconds']:.1f} s; "
            f"request latency p50 {stats['p50_ms']:.0f} ms, p99 {stats['p99_ms']:.0f} ms"
        )
        answered = ", ".join(f"{n:,} by version {v}" for v, n in sorted(stats["by_version"].items()))
        echo(
            f"answered: {answered or 'none'}; {stats['rejected']:,} rejected by the guard, "
            f"{stats['fallbacks']:,} fallbacks, {stats['failed']:,} failed"
        )
        step = "reading the prediction log"
        done.update(_log_counts(log_dir, shadow))
        echo(
            f"stopped the server (log flushed): {done['log_rows']:,} rows in {done['segments']} Parquet "
            f"segments; shadow version {shadow} scored {done['shadow_rows']:,} records and agreed with the "
            f"champion on {done['agreement']:.1%} of them"
        )
        step = "joining the batches' labels"
        joined = _join_labels(log_dir, batches, target)
        echo(f"labels: {joined.summary()}")
        step = "running the reports on the log"
        done["reports"] = _log_reports(
            model, champion, registry, reference, log_dir, reports_dir, progress=progress, echo=echo
        )
        done["seconds"] = time.perf_counter() - t0
        echo(
            f"serving step done in {done['seconds']:.0f} s; `workbench runs --reports-dir {reports_dir}` "
            "lists its runs with the batches'"
        )
        return done, None
    except (WorkbenchError, ServingStepError, OSError) as exc:  # the demo goes on, fails at the end
        echo(f"SERVING FAILED while {step}: {exc}")
        return done, f"{step}: {exc}"


class _server:
    """``workbench serve`` in a subprocess on a free loopback port: the base URL inside, stopped after."""

    def __init__(self, model: str, shadow: int, registry: Path, log_dir: Path, output: Path):
        self.output = output
        self.cmd = [
            sys.executable, "-m", "workbench", "serve", "--model", f"models:/{model}@champion",
            "--challenger", f"models:/{model}/{shadow}", "--mode", "shadow", "--log-dir", str(log_dir),
            "--registry", str(registry), "--host", "127.0.0.1", "--port", "0", "--reload-seconds", "0",
        ]  # fmt: skip

    def __enter__(self) -> str:
        self.file = open(self.output, "w")  # noqa: SIM115  (closed in __exit__)
        self.proc = subprocess.Popen(
            self.cmd, stdout=subprocess.PIPE, stderr=self.file, text=True, stdin=subprocess.DEVNULL
        )
        lines: list[str] = []

        def drain() -> None:  # to its end, so that the server never blocks on a full pipe
            for line in self.proc.stdout:
                lines.append(line)

        threading.Thread(target=drain, daemon=True).start()
        deadline = time.monotonic() + START_SECONDS
        while not any(" on http://" in line for line in lines):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise ServingStepError(
                    f"`workbench serve` did not start (exit {self.proc.returncode}): {self._last_words()}"
                )
            time.sleep(0.05)
        line = next(line for line in lines if " on http://" in line)
        return line.split(" on ", 1)[1].split()[0]

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # graceful: answers in flight, then the log is flushed
            try:
                self.proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.file.close()
        if exc_type is None and self.proc.returncode != 0:
            raise ServingStepError(
                f"`workbench serve` ended with exit {self.proc.returncode}: {self._last_words()}"
            )

    def _last_words(self) -> str:
        text = self.output.read_text().strip() if self.output.exists() else ""
        return (text.splitlines()[-1] if text else "no output") + f" (its output: {self.output})"


def replay(url: str, batches: list[Path]) -> dict:
    """POST every row of `batches` to `url`/predict, :data:`REQUEST_RECORDS` at a time with ids ``bK-I``.

    Returns the counts of the answers (by answering version, rejected, failed, fallbacks) and the
    requests' latency quantiles as the client saw them.
    """
    from concurrent.futures import ThreadPoolExecutor
    from http.client import HTTPConnection
    from urllib.parse import urlsplit

    import numpy as np

    from workbench._json import json_default

    host, port = urlsplit(url).hostname, urlsplit(url).port
    bodies = [
        json.dumps(chunk, default=json_default).encode()
        for k, path in enumerate(batches)
        for chunk in _requests(path, f"b{k}")
    ]
    local = threading.local()

    def post(body: bytes) -> tuple[float, dict]:
        if not hasattr(local, "conn"):
            local.conn = HTTPConnection(host, port, timeout=120)
        started = time.perf_counter()
        local.conn.request("POST", "/predict", body, {"content-type": "application/json"})
        response = local.conn.getresponse()
        payload = response.read()
        seconds = time.perf_counter() - started
        if response.status not in (200, 422):  # 422: every record of the request refused by the guard
            raise ServingStepError(f"POST /predict answered {response.status}: {payload[:300]!r}")
        return seconds, json.loads(payload)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        answers = list(pool.map(post, bodies))
    seconds = time.perf_counter() - t0
    by_version, counts = Counter(), Counter()
    for _, answer in answers:
        counts.update(rejected=answer["rejected"], failed=answer["failed"])
        for r in answer["results"]:
            if r["status"] == 200:
                by_version[str(r["model"]["version"])] += 1
                counts["fallbacks"] += bool(r.get("fallback"))
    latency = np.array([s for s, _ in answers]) * 1000
    return {
        "records": sum(len(a["results"]) for _, a in answers),
        "requests": len(answers),
        "seconds": seconds,
        "p50_ms": float(np.quantile(latency, 0.5)),
        "p99_ms": float(np.quantile(latency, 0.99)),
        "by_version": dict(by_version),
        **{k: counts[k] for k in ("rejected", "failed", "fallbacks")},
    }


def _requests(path: Path, prefix: str) -> list[list[dict]]:
    """The rows of the batch file `path` as request bodies: records of the model's inputs with an id."""
    import pandas as pd

    frame = pd.read_parquet(path).astype(object)
    frame = frame.where(frame.notna(), None)
    records = [{**record, "id": f"{prefix}-{i}"} for i, record in enumerate(frame.to_dict(orient="records"))]
    return [records[i : i + REQUEST_RECORDS] for i in range(0, len(records), REQUEST_RECORDS)]


def _log_counts(log_dir: Path, shadow: int) -> dict:
    """Rows and segments of the log, the shadow's rows and how often it answered as the champion did."""
    from workbench.serving.log_table import ROLES, read_log

    log = read_log(log_dir, roles=ROLES, with_meta=True)
    ok = log[log["_status"] == "ok"]
    champion = ok[ok["_role"] == "champion"].drop_duplicates("_id").set_index("_id")["_prediction"]
    shadow_rows = ok[ok["_role"] == "shadow"].drop_duplicates("_id").set_index("_id")["_prediction"]
    both = champion.index.intersection(shadow_rows.index)
    agreement = float((champion[both] == shadow_rows[both]).mean()) if len(both) else 0.0
    return {
        "log_rows": len(log),
        "segments": len(list(log_dir.glob("date=*/*.parquet"))),
        "roles": dict(Counter(log["_role"])),
        "shadow_rows": int((log["_role"] == "shadow").sum()),
        "agreement": agreement,
    }


def _join_labels(log_dir: Path, batches: list[Path], target: str):
    """The batches' labels (their `target` column), joined into the log by the ids the replay sent."""
    import pandas as pd

    from workbench.data.io import load_table
    from workbench.serving.labels import join_labels

    tables = []
    for k, path in enumerate(batches):
        labels = load_table(path, columns=[target])
        labels.insert(0, "id", [f"b{k}-{i}" for i in range(len(labels))])
        tables.append(labels)
    return join_labels(log_dir, pd.concat(tables, ignore_index=True), id_column="id", target=target)


def _log_reports(model, version, registry, reference, log_dir, reports_dir, *, progress, echo) -> dict:
    """A drift report (the reference period against the log) and a performance report on the labelled log,
    two kernels at once, filed in the run store; one line each: the verdict and the run's folder."""
    from workbench.demo import run_reports

    common = {"model": f"models:/{model}/{version}", "registry": str(registry)}
    jobs = [
        ("drift", {"reference": str(reference), "current": str(log_dir), **common}, "served-log"),
        ("performance", {"data": str(log_dir), "reference": str(reference), **common}, "served-log"),
    ]
    out = {}
    for (kind, _, _), (error, failed, run_dir) in zip(
        jobs, run_reports(jobs, reports_dir, progress), strict=True
    ):
        if error is not None:
            raise ServingStepError(f"the {kind} report on the log failed: {error} (see {run_dir})")
        shown = ", ".join(failed[:4]) + ("…" if len(failed) > 4 else "")
        verdict = (
            f"{len(failed)} check{'s' if len(failed) > 1 else ''} failed ({shown})" if failed else "passed"
        )
        echo(f"{kind} report on the log: {verdict} -> {run_dir}")
        out[kind] = {"failed": failed, "run_dir": run_dir}
    return out
