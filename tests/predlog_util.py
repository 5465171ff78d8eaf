"""Prediction logs for tests, written with pyarrow exactly as the contract lays them out (no server needed).

``LOGDIR/date=YYYY-MM-DD/part-<stamp>-<8 hex>.parquet``, meta columns first (see
workbench.serving.log_table.META_COLUMNS), then the record's features; each
segment written under a temporary name and renamed.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

META_TYPES = {
    "_request_id": pa.string(),
    "_id": pa.string(),
    "_time": pa.timestamp("us", tz="UTC"),
    "_model_name": pa.string(),
    "_model_version": pa.string(),
    "_role": pa.string(),
    "_fallback": pa.bool_(),
    "_fallback_reason": pa.string(),
    "_status": pa.string(),
    "_errors": pa.string(),
    "_latency_ms": pa.float64(),
    "_prediction": pa.string(),
    "_proba": pa.float64(),
}
DEFAULTS = {
    "_model_name": "model",
    "_model_version": "1",
    "_role": "champion",
    "_fallback": False,
    "_fallback_reason": None,
    "_status": "ok",
    "_errors": None,
    "_latency_ms": 1.0,
    "_prediction": "0",
    "_proba": None,
}


def write_log(
    log_dir: str | Path,
    records: pd.DataFrame,
    *,
    start: str = "2026-11-03T08:00:00+00:00",
    step_seconds: float = 10.0,
    segments: int = 2,
) -> list[Path]:
    """Write `records` (features, plus any meta columns to set) as a prediction log; the segments written.

    Meta columns absent from `records` take :data:`DEFAULTS`; ``_time`` runs from
    `start` by `step_seconds`; ``_id`` is the row's position; ``_request_id`` a uuid.
    Each date's rows are split over `segments` files.
    """
    df = records.reset_index(drop=True).copy()
    t0 = pd.Timestamp(start)
    if "_time" not in df:
        df["_time"] = t0 + pd.to_timedelta(df.index * step_seconds, unit="s")
    df["_time"] = pd.to_datetime(df["_time"], utc=True)
    if "_id" not in df:
        df["_id"] = [str(i) for i in df.index]
    if "_request_id" not in df:
        df["_request_id"] = [uuid.uuid4().hex for _ in range(len(df))]
    for k, v in DEFAULTS.items():  # absent, or left empty in some rows (frames concatenated)
        df[k] = v if k not in df else df[k].astype(object).where(df[k].notna(), v)
    features = [c for c in df.columns if c not in META_TYPES]
    df = df[[*META_TYPES, *features]]
    written = []
    for day, rows in df.groupby(df["_time"].dt.strftime("%Y-%m-%d"), sort=True):
        folder = Path(log_dir) / f"date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        for part in range(segments):
            chunk = rows.iloc[part::segments]
            if chunk.empty:
                continue
            fields = [pa.field(c, META_TYPES[c]) for c in META_TYPES]
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            table = table.cast(pa.schema([*fields, *[table.schema.field(c) for c in features]]))
            stamp = (dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S%f")
            name = f"part-{stamp}-{uuid.uuid4().hex[:8]}.parquet"
            tmp = folder / f".{name}.tmp"
            pq.write_table(table, tmp)
            os.replace(tmp, folder / name)
            written.append(folder / name)
    return written


def canary_traffic(
    champion,
    rows: pd.DataFrame,
    *,
    canary=None,
    share: float = 0.2,
    slowdown: float = 1.0,
    fallback_rate: float = 0.0,
    start: str = "2026-11-03T08:00:00+00:00",
    seed: int = 0,
    fallback_role: str | None = None,
) -> pd.DataFrame:
    """`rows` served by a champion and a canary (sticky by id, `share` of ids), every meta column set.

    The canary (default: the champion's own model, a healthy canary) answers with
    latencies `slowdown` times the champion's; `fallback_rate` of its records are
    answered by the fallback instead (logged under the routed role with ``_fallback`` set, as the server
    logs them; ``fallback_role="fallback"`` writes them as logs from before that did).
    Pass it to :func:`write_log`, or straight to ``judge_canary``.
    """
    import zlib

    import numpy as np

    rng = np.random.default_rng(seed)
    canary = champion if canary is None else canary
    features = rows[champion.spec.features].reset_index(drop=True)
    ids = [f"u{i // 2}" for i in range(len(features))]  # each caller comes twice (canary routing is sticky)
    to_canary = np.array([zlib.crc32(i.encode()) % 1000 < share * 1000 for i in ids])
    proba = np.where(to_canary, canary.predict_score(features), champion.predict_score(features))
    pred = np.where(to_canary, canary.predict(features), champion.predict(features))
    latency = rng.lognormal(np.log(2.0), 0.25, len(features)) * np.where(to_canary, slowdown, 1.0)
    fallback = to_canary & (rng.random(len(features)) < fallback_rate)
    prior = float(champion.predict_score(features).mean())
    return features.assign(
        _request_id=[uuid.uuid4().hex for _ in ids],
        _id=ids,
        _time=pd.Timestamp(start) + pd.to_timedelta(np.arange(len(features)), unit="s"),
        _model_name=np.where(fallback, "prior", np.where(to_canary, "credit-canary", "credit")),
        _model_version=np.where(fallback, "prior", np.where(to_canary, "2", "1")),
        _role=np.where(
            fallback & (fallback_role is not None), fallback_role, np.where(to_canary, "canary", "champion")
        ),
        _fallback=fallback,
        _fallback_reason=np.where(fallback, "model error: canary raised", None),
        _status="ok",
        _errors=None,
        _latency_ms=latency,
        _prediction=[str(p) for p in np.where(fallback, str(champion.classes_[0]), pred)],
        _proba=np.where(fallback, prior, proba),
    )
