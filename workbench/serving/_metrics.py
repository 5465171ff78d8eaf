"""The server's Prometheus metrics, in a registry of its own (two apps in one process never mix counts).

Label values are bounded: model names and versions, statuses, the model's own
columns (a field a client invents is counted as ``(extra)``), fallback reasons
reduced to their kind.
"""

from __future__ import annotations

#: request latency buckets (seconds): the 50 ms budget sits in the middle
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096, 16384)


#: attribute -> (metric name, help, labels): counters (Prometheus adds ``_total``)
COUNTERS = {
    "requests": (
        "workbench_requests",
        "HTTP requests answered, by endpoint and status",
        ("endpoint", "status"),
    ),
    "records": (
        "workbench_records",
        "Records answered, by the model name, version and role that answered and the answer's status",
        ("model", "version", "role", "status"),
    ),
    "validation_failures": (
        "workbench_validation_failures",
        "Record problems found by the guard, by column, problem and action (rejected, imputed, ignored)",
        ("column", "problem", "action"),
    ),
    "fallbacks": ("workbench_fallbacks", "Records a fallback answered, by reason", ("reason",)),
    "canary": ("workbench_canary_records", "Records routed to the canary, by version", ("version",)),
    "shadow": ("workbench_shadow_records", "Records the shadow scored off the response path", ("outcome",)),
    "swaps": ("workbench_model_swaps", "Times a followed alias moved and its model was swapped", ("role",)),
}
#: attribute -> (metric name, help, labels): gauges
GAUGES = {
    "log_healthy": ("workbench_prediction_log_healthy", "1 while the prediction log can be written", ()),
    "log_buffered": ("workbench_prediction_log_buffered_rows", "Rows waiting to be written to the log", ()),
    "log_dropped": (
        "workbench_prediction_log_dropped_rows",
        "Rows dropped: the log was unwritable too long",
        (),
    ),
    "log_written": ("workbench_prediction_log_written_rows", "Rows written to the prediction log", ()),
    "model_info": ("workbench_model_info", "The models being served (value 1)", ("role", "model", "version")),
}
#: attribute -> (metric name, help, labels, buckets): histograms
HISTOGRAMS = {
    "latency": (
        "workbench_request_latency_seconds",
        "Time to answer a request, by endpoint",
        ("endpoint",),
        LATENCY_BUCKETS,
    ),
    "batch": (
        "workbench_model_batch_records",
        "Records per model call (concurrent requests are scored together)",
        ("role",),
        BATCH_BUCKETS,
    ),
}


class ServingMetrics:
    """Counters, histograms and gauges of one server, rendered in the Prometheus text format.

    Each metric of :data:`COUNTERS`, :data:`GAUGES` and :data:`HISTOGRAMS` is an attribute.
    """

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        for kinds, cls in ((COUNTERS, Counter), (GAUGES, Gauge)):
            for attr, (name, text, labels) in kinds.items():
                setattr(self, attr, cls(name, text, labels, registry=self.registry))
        for attr, (name, text, labels, buckets) in HISTOGRAMS.items():
            setattr(self, attr, Histogram(name, text, labels, buckets=buckets, registry=self.registry))

    def render(self) -> bytes:
        """The metrics in the Prometheus text format."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def reason_kind(reason: str) -> str:
    """A fallback reason as a bounded label: ``timeout`` or ``model error: TypeName``."""
    return (
        reason.split(":", 2)[0] if not reason.startswith("model error: ") else ":".join(reason.split(":")[:2])
    )
