"""Serving speed: ``workbench serve`` against ``mlflow models serve`` on the same registered model.

A random forest pipeline (the recipe's 200 trees) is trained on UCI Adult (bundled) and
converted to ONNX (workbench's compressed variant); both are registered in a
throw-away SQLite registry. Each server is started in its own process on
loopback and loaded for ``--seconds`` by a client process (asyncio, raw
HTTP/1.1 keep-alive connections: the lightest client, so the server is what is
measured) in two workloads:

- ``single``: 32 concurrent clients, one record per request;
- ``batch100``: 8 concurrent clients, 100 records per request.

Printed: requests/s, p50 and p99 latency per server, model variant and
workload, and the ratio of workbench's single-record throughput to MLflow's on
the same variant (the goal: >= 20x at p99 < 50 ms, with validation and the
prediction log on). A last table measures the shadow's overhead: workbench on
the sklearn champion alone, then with the ONNX variant in shadow (it scores
every record off the response path).

``workbench serve`` runs with its prediction log on (a temporary folder) and
the default guard (every record validated). ``mlflow models serve`` runs with
``--env-manager local`` from this virtual environment (MLflow starts ``uvicorn``
from ``PATH``: the script puts the venv's ``bin`` first); its pyfunc model is
the registered workbench model (``workbench.registry.pyfunc_model``). Pass
``--no-mlflow`` to measure only workbench; to run MLflow's side by hand::

    MLFLOW_TRACKING_URI=sqlite:///REGISTRY/registry.db PATH=.venv/bin:$PATH \\
        mlflow models serve -m models:/bench/1 --env-manager local -p 5001
    # then POST {"dataframe_records": [...]} to http://127.0.0.1:5001/invocations

Usage: .venv/bin/python benchmarks/serving.py [--seconds 20] [--no-mlflow] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="load per workload and server (default 20)")
    ap.add_argument("--no-mlflow", action="store_true", help="measure workbench serve only")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        records = _prepare(tmp)
        rows = []
        servers = [("workbench", v) for v in ("sklearn", "onnx")]
        if not args.no_mlflow:
            servers += [("mlflow", v) for v in ("sklearn", "onnx")]
        for server, variant in servers:
            with _started(server, variant, tmp) as url:
                for workload, clients, size in (("single", 32, 1), ("batch100", 8, 100)):
                    result = _load(url, server, records, clients, size, args.seconds)
                    rows.append({"server": server, "variant": variant, "workload": workload, **result})
                    print(_line(rows[-1]), flush=True)
        shadow = []
        for label, extra in (
            ("alone", ()),
            ("with ONNX shadow", ("--challenger", "models:/bench/2", "--mode", "shadow")),
        ):
            with _started("workbench", "sklearn", tmp, extra) as url:
                shadow.append({"setup": label, **_load(url, "workbench", records, 32, 1, args.seconds)})
    _table(rows, shadow)
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": rows, "shadow": shadow}, indent=2))
    return 0


# -- the model, registered --------------------------------------------------------------------------
def _prepare(tmp: Path) -> list[dict]:
    from workbench.compression._onnx_export import to_onnx
    from workbench.data import load_demo
    from workbench.modeling.artifact import save_model
    from workbench.modeling.train import train
    from workbench.registry import register_model

    demo = load_demo("adult")
    trained = train(demo.train, demo.spec, recipes=["random_forest"], progress=False)
    forest = trained.champion
    sk = save_model(forest, tmp / "forest.wbm")
    onnx = save_model(to_onnx(forest, name="forest:onnx"), tmp / "forest-onnx.wbm")
    from workbench.registry.location import registry_location

    uri = registry_location(tmp / "registry").uri  # for mlflow models serve (it reads models:/ there)
    os.environ["MLFLOW_TRACKING_URI"] = os.environ["MLFLOW_REGISTRY_URI"] = uri
    register_model(sk, "bench", registry=tmp / "registry")
    register_model(onnx, "bench", registry=tmp / "registry")
    test = demo.test.sample(2000, random_state=0)
    features = test[demo.spec.features].astype(object)
    return features.where(features.notna(), None).to_dict(orient="records")


class _started:
    """A server process on a free loopback port; stopped (SIGTERM) on exit."""

    def __init__(self, server: str, variant: str, tmp: Path, extra: tuple = ()):
        self.server, self.variant, self.tmp, self.extra = server, variant, tmp, extra

    def __enter__(self) -> str:
        port = _free_port()
        uri = f"models:/bench/{1 if self.variant == 'sklearn' else 2}"
        env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONWARNINGS": "ignore",
        }
        if self.server == "workbench":
            log = tempfile.mkdtemp(dir=self.tmp, prefix="log-")
            cmd = [
                str(BIN / "workbench"),
                "serve",
                "--model",
                uri,
                "--registry",
                str(self.tmp / "registry"),
                "--port",
                str(port),
                "--log-dir",
                log,
                "--reload-seconds",
                "0",
                *self.extra,
            ]
        else:
            cmd = [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                uri,
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ]
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.server} did not start: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    time.sleep(1.0)  # accepting: give its first requests a warm model
                    return url
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"{self.server} did not start within 180 s")

    def __exit__(self, *exc) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the load ---------------------------------------------------------------------------------------
def _load(url: str, server: str, records: list[dict], clients: int, size: int, seconds: float) -> dict:
    """Run the client in its own process (its CPU is not the server's GIL) and read its figures."""
    spec = json.dumps({"url": url, "server": server, "clients": clients, "size": size, "seconds": seconds})
    out = subprocess.run(
        [sys.executable, __file__, "--client", spec],
        input=json.dumps(records),
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout)


def _client(spec: dict, records: list[dict]) -> dict:
    host, port = spec["url"].removeprefix("http://").split(":")
    if spec["server"] == "workbench":
        path = "/predict"
        bodies = [
            json.dumps(records[i : i + spec["size"]] if spec["size"] > 1 else records[i]).encode()
            for i in range(0, len(records) - spec["size"] + 1, spec["size"])
        ]
    else:
        path = "/invocations"
        bodies = [
            json.dumps({"dataframe_records": records[i : i + spec["size"]]}).encode()
            for i in range(0, len(records) - spec["size"] + 1, spec["size"])
        ]
    latencies: list[float] = []
    errors = [0]

    async def one_client(k: int, stop_at: float) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        i = k
        while time.perf_counter() < stop_at:
            body = bodies[i % len(bodies)]
            i += spec["clients"]
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            t0 = time.perf_counter()
            writer.write(head + body)
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if b" 200 " not in status:
                errors[0] += 1
        writer.close()

    async def run() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(one_client(k, start + spec["seconds"]) for k in range(spec["clients"])))
        return time.perf_counter() - start

    elapsed = asyncio.run(run())
    latencies.sort()
    return {
        "clients": spec["clients"],
        "records_per_request": spec["size"],
        "requests": len(latencies),
        "errors": errors[0],
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


# -- printing ---------------------------------------------------------------------------------------
def _line(r: dict) -> str:
    return (
        f"{r['server']:<10} {r['variant']:<8} {r['workload']:<9} {r['requests_per_s']:>9.1f} req/s  "
        f"p50 {r['p50_ms']:>7.1f} ms  p99 {r['p99_ms']:>7.1f} ms  errors {r['errors']}"
    )


def _table(rows: list[dict], shadow: list[dict]) -> None:
    print("\nserver     variant  workload  throughput       p50        p99     vs mlflow")
    by = {(r["server"], r["variant"], r["workload"]): r for r in rows}
    for r in rows:
        other = by.get(("mlflow", r["variant"], r["workload"]))
        ratio = (
            f"{r['requests_per_s'] / other['requests_per_s']:.1f}x"
            if other and r["server"] == "workbench"
            else ""
        )
        print(_line(r).split("  errors")[0] + f"   {ratio}")
    if shadow:
        base = shadow[0]
        print("\nshadow overhead (workbench, sklearn champion, 32 clients, single records)")
        for s in shadow:
            print(
                f"  {s['setup']:<18} {s['requests_per_s']:>8.1f} req/s  "
                f"p50 {s['p50_ms']:.1f} ms (+{s['p50_ms'] - base['p50_ms']:.1f})  "
                f"p99 {s['p99_ms']:.1f} ms (+{s['p99_ms'] - base['p99_ms']:.1f})"
            )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        print(json.dumps(_client(json.loads(sys.argv[2]), json.loads(sys.stdin.read()))))
        sys.exit(0)
    sys.exit(main())
