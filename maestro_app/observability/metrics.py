"""Prometheus metrics of the gateway (`GET /metrics`, SPEC §7).

Recorded where the pipeline already records a request (`Gateway.record`): one call per
request, `GatewayMetrics.observe`, which finds the label children in a dict and bumps them;
no middleware, no body parsing. Requests refused before routing (bad token, bad body) are
counted by `rejected`.

    maestro_requests_total{model,node,endpoint,status,source}         counter
    maestro_request_errors_total{model,node,endpoint,status,source}   counter (status >= 400)
    maestro_rejected_requests_total{endpoint,status}                  counter (refused before routing)
    maestro_prompt_tokens_total{model,node}                           counter
    maestro_completion_tokens_total{model,node}                       counter
    maestro_request_duration_seconds{model,node,endpoint,status}      histogram
    maestro_time_to_first_byte_seconds{model,node,endpoint,status}    histogram
    maestro_requests_in_flight{node}                                  gauge (sum over workers)
    maestro_node_up{node}                                             gauge 1 healthy, else 0
    maestro_node_health_status{node,status}                           gauge 1 for the current status
    maestro_ledger_queue_depth                                        gauge (records not yet in the database)

Several workers: in multiprocess mode (see `metrics_files`) counters and histograms live in
per-worker files that a scrape sums; each worker publishes its in-flight counts once a second
(and the scraping worker right before answering) into a `livesum` gauge. Node health and the
queue depth are read at scrape time by the answering worker: every worker routes on the same
health view, and in scaled mode the queue is one Redis stream.

`model` labels are the names clients ask for; a client may send any name, so after
`MAX_MODEL_LABELS` distinct names per worker the rest are counted as `other`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from maestro_app.domain.snapshot import Snapshot

MAX_MODEL_LABELS = 500
OTHER = "other"
HEALTH_STATES = ("unknown", "healthy", "unhealthy")
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
TTFB_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
REQUEST_LABELS = ("model", "node", "endpoint", "status", "source")
TIMING_LABELS = ("model", "node", "endpoint", "status")


@dataclass(slots=True)
class _Children:
    """The label children one request touches, looked up once per label combination."""

    requests: Counter
    errors: Counter | None
    duration: Histogram
    ttfb: Histogram
    prompt: Counter
    completion: Counter


@dataclass(frozen=True, slots=True)
class NodeState:
    name: str
    status: str


class _ScrapeTimeCollector:
    """Node health and queue depth as the answering worker sees them at scrape time."""

    def __init__(self) -> None:
        self.nodes: list[NodeState] = []
        self.queue_depth = 0.0

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("maestro_node_up", "1 when the node is healthy, else 0", labels=["node"])
        status = GaugeMetricFamily(
            "maestro_node_health_status", "1 for the node's current health status", labels=["node", "status"]
        )
        for node in self.nodes:
            up.add_metric([node.name], 1.0 if node.status == "healthy" else 0.0)
            for state in HEALTH_STATES:
                status.add_metric([node.name, state], 1.0 if node.status == state else 0.0)
        yield up
        yield status
        yield GaugeMetricFamily(
            "maestro_ledger_queue_depth",
            "Activity records made durable but not yet written to the database",
            value=self.queue_depth,
        )


class GatewayMetrics:
    def __init__(self, *, multiprocess_dir: Path | None = None) -> None:
        if multiprocess_dir is not None and not getattr(values.ValueClass, "_multiprocess", False):
            raise RuntimeError("call metrics_files.prepare_multiprocess() before making multiprocess metrics")
        self.multiprocess_dir = multiprocess_dir
        # Multiprocess: the metrics write files and are registered nowhere; the exposition
        # registry sums the files. In-process: one private registry (never the global one,
        # so several runtimes in one process, as in tests, do not mix).
        own = None if multiprocess_dir is not None else CollectorRegistry()
        self._requests = Counter(
            "maestro_requests", "Requests that reached routing", REQUEST_LABELS, registry=own
        )
        self._errors = Counter(
            "maestro_request_errors", "Requests answered with status >= 400", REQUEST_LABELS, registry=own
        )
        self._rejected = Counter(
            "maestro_rejected_requests",
            "Requests refused before routing (authentication, body checks)",
            ("endpoint", "status"),
            registry=own,
        )
        self._prompt = Counter("maestro_prompt_tokens", "Prompt tokens", ("model", "node"), registry=own)
        self._completion = Counter(
            "maestro_completion_tokens", "Completion tokens", ("model", "node"), registry=own
        )
        self._duration = Histogram(
            "maestro_request_duration_seconds",
            "Time from the request to the end of the answer",
            TIMING_LABELS,
            buckets=DURATION_BUCKETS,
            registry=own,
        )
        self._ttfb = Histogram(
            "maestro_time_to_first_byte_seconds",
            "Time from the request to the first byte of the upstream answer",
            TIMING_LABELS,
            buckets=TTFB_BUCKETS,
            registry=own,
        )
        self._in_flight = Gauge(
            "maestro_requests_in_flight",
            "Requests being sent to or answered by the node",
            ("node",),
            multiprocess_mode="livesum",
            registry=own,
        )
        self._scrape_time = _ScrapeTimeCollector()
        if own is None:
            own = CollectorRegistry()
            MultiProcessCollector(own, path=str(multiprocess_dir))
        own.register(self._scrape_time)
        self.registry = own
        self._children: dict[tuple[str, str, str, int, str], _Children] = {}
        self._models: set[str] = set()
        self._published_nodes: set[str] = set()

    # -- hot path ------------------------------------------------------------------------

    def observe(
        self,
        *,
        model: str | None,
        node: str | None,
        endpoint: str,
        status: int,
        source: str,
        prompt_tokens: int,
        completion_tokens: int,
        duration_s: float,
        ttfb_s: float | None,
    ) -> None:
        """One finished request (called once, from `Gateway.record`)."""
        key = (model or "", node or "", endpoint, status, source)
        children = self._children.get(key)
        if children is None:
            children = self._make_children(key)
        children.requests.inc()
        if children.errors is not None:
            children.errors.inc()
        children.duration.observe(duration_s)
        if ttfb_s is not None:
            children.ttfb.observe(ttfb_s)
        if prompt_tokens:
            children.prompt.inc(prompt_tokens)
        if completion_tokens:
            children.completion.inc(completion_tokens)

    def _make_children(self, key: tuple[str, str, str, int, str]) -> _Children:
        model, node, endpoint, status, source = key
        label = self._model_label(model)
        code = str(status)
        children = _Children(
            requests=self._requests.labels(label, node, endpoint, code, source),
            errors=self._errors.labels(label, node, endpoint, code, source) if status >= 400 else None,
            duration=self._duration.labels(label, node, endpoint, code),
            ttfb=self._ttfb.labels(label, node, endpoint, code),
            prompt=self._prompt.labels(label, node),
            completion=self._completion.labels(label, node),
        )
        if label != OTHER:  # names beyond the cap share children through `other` lookups
            self._children[key] = children
        return children

    def _model_label(self, model: str) -> str:
        if model in self._models:
            return model
        if len(self._models) >= MAX_MODEL_LABELS:
            return OTHER
        self._models.add(model)
        return model

    def rejected(self, *, endpoint: str, status: int) -> None:
        self._rejected.labels(endpoint, str(status)).inc()

    # -- gauges --------------------------------------------------------------------------

    def publish_in_flight(self, in_flight: dict[int, int], snapshot: Snapshot) -> None:
        """This worker's requests in flight per node, into the summed gauge."""
        names = {node.id: node.name for node in snapshot.nodes}
        current = {names[node_id]: n for node_id, n in in_flight.items() if node_id in names}
        for name in self._published_nodes - current.keys():
            self._in_flight.labels(name).set(0)
        for name, count in current.items():
            self._in_flight.labels(name).set(count)
        self._published_nodes = set(current)

    def set_scrape_state(self, *, nodes: Iterable[NodeState], queue_depth: float) -> None:
        self._scrape_time.nodes = list(nodes)
        self._scrape_time.queue_depth = queue_depth

    def exposition(self) -> bytes:
        """The Prometheus text format (reads every worker's files in multiprocess mode)."""
        return generate_latest(self.registry)
