"""Counters, gauges and histograms of one engine node, served at ``GET /metrics`` by ``prometheus-client``.

Every name the engine reports is declared in :data:`DECLARED` with its type, help text and label
names, so the exposition always names the same series from the start. Counters and histograms
are counted where things happen; gauges are read at scrape time from whoever owns them
(:meth:`Metrics.gauge` for one value, :meth:`Metrics.gauges` for one value per label, such as each
channel's queue). One :class:`Metrics` (one registry) per application; nothing here is global but
the library's switch that leaves out the ``_created`` series, which no dashboard here reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import disable_created_metrics as _no_created
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "DECLARED", "Metrics"]

_no_created()  # type: ignore[no-untyped-call]
CONTENT_TYPE = CONTENT_TYPE_LATEST

# name -> (type, help, label names)
DECLARED: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "cc_offers_total": ("counter", "Offers this node made and committed (contacts routed).", ()),
    "cc_commits_stale_total": ("counter", "Units refused because another node changed a record first.", ("unit",)),
    "cc_redis_round_trips_total": ("counter", "Requests sent to Redis and answered (a pipeline is one).", ("client",)),
    "cc_contacts_waiting": ("gauge", "Contacts in the integrated queue, as this node sees it.", ()),
    "cc_contacts_scheduled": ("gauge", "Contacts waiting for their time (booked callbacks), not in the queue yet.", ()),
    "cc_agents_on_floor": ("gauge", "Available agents with room, connected to any node.", ()),
    "cc_sockets_open": ("gauge", "Widget and desk websockets open on this node.", ()),
    "cc_sockets_cut_total": ("counter", "Websockets cut because a ping to their quiet peer went unanswered.", ()),
    "cc_queue_depth": ("gauge", "Contacts waiting in the integrated queue, by channel.", ("channel",)),
    "cc_queue_oldest_wait_seconds": (
        "gauge",
        "How long the longest-waiting contact has waited, by channel.",
        ("channel",),
    ),
    "cc_service_level": (
        "gauge",
        "Today's share answered within the channel's threshold (email: the promise).",
        ("channel",),
    ),
    "cc_routing_pass_seconds": ("histogram", "Time one routing pass over the queue took.", ()),
    "cc_answer_wait_seconds": (
        "histogram",
        "From arrival (a booked callback: its hour) to an agent's accept.",
        ("channel",),
    ),
    "cc_mailbox_lag_seconds": ("gauge", "Since each mailbox was last read to its end.", ("mailbox",)),
    "cc_mails_filed_total": (
        "counter",
        "Fetched mails filed, by outcome (new, filed, duplicate, recorded).",
        ("outcome",),
    ),
    "cc_mails_quarantined_total": ("counter", "Fetched mails kept aside because they could not be read or filed.", ()),
    "cc_mails_sent_total": ("counter", "Mails the SMTP server took, by kind (ack, reply).", ("kind",)),
    "cc_mails_deferred_total": (
        "counter",
        "SMTP attempts that failed for now and will be retried (outbox retries).",
        (),
    ),
    "cc_gc_pause_seconds": ("histogram", "Pauses of the cyclic garbage collector, by generation.", ("generation",)),
    "cc_gc_longest_pause_seconds": (
        "gauge",
        "The longest pause of the cyclic garbage collector since the start, by generation.",
        ("generation",),
    ),
    "cc_gc_collected_objects": (
        "gauge",
        "Objects the cyclic garbage collector found in reference cycles and freed since the start, by generation.",
        ("generation",),
    ),
    "cc_messages_filled_total": ("counter", "Chat messages the bus missed, given to sockets from the store.", ()),
    "cc_delivery_checks_total": (
        "counter",
        "Rounds of comparing this node's sockets' conversations with the store.",
        (),
    ),
}

_WAIT_BUCKETS = (1, 5, 10, 20, 30, 60, 120, 300, 900, 1800, 3600, 7200, 14400, float("inf"))
_PASS_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, float("inf"))
_GC_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0, float("inf"))


class _Read(Collector):
    """The gauges read at scrape time."""

    def __init__(self) -> None:
        self.one: dict[str, Callable[[], float]] = {}
        self.many: dict[str, Callable[[], Mapping[str, float]]] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, (kind, text, labels) in DECLARED.items():
            if kind != "gauge":
                continue
            family = GaugeMetricFamily(name, text, labels=list(labels) or None)
            if name in self.one:
                family.add_metric([], float(self.one[name]()))
            elif name in self.many:
                for value_of, value in sorted(self.many[name]().items()):
                    family.add_metric([value_of], float(value))
            elif not labels:
                family.add_metric([], 0.0)
            yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._read = _Read()
        self.registry.register(self._read)
        self._made: dict[str, Counter | Histogram] = {}
        for name, (kind, text, labels) in DECLARED.items():
            if kind == "counter":
                self._made[name] = Counter(name.removesuffix("_total"), text, labels, registry=self.registry)
            elif kind == "histogram":
                buckets = {"cc_routing_pass_seconds": _PASS_BUCKETS, "cc_gc_pause_seconds": _GC_BUCKETS}.get(
                    name, _WAIT_BUCKETS
                )
                self._made[name] = Histogram(name, text, labels, registry=self.registry, buckets=buckets)

    def _series(self, name: str, kind: str, labels: Mapping[str, str]) -> object:
        if name not in DECLARED or DECLARED[name][0] != kind:
            raise KeyError(f"metric {name!r} is not declared as a {kind} in contact_center.metrics.DECLARED")
        made = self._made[name]
        return made.labels(**labels) if labels else made

    def inc(self, name: str, value: float = 1, **labels: str) -> None:
        """Add ``value`` to the counter ``name`` with ``labels``."""
        self._series(name, "counter", labels).inc(value)  # type: ignore[attr-defined]

    def counter(self, name: str, **labels: str) -> Callable[[], None]:
        """A function that adds one to ``name`` with ``labels``: cheap enough for every Redis request."""
        series = self._series(name, "counter", labels)
        return series.inc  # type: ignore[attr-defined,no-any-return]

    def observe(self, name: str, value: float, **labels: str) -> None:
        """One observation of the histogram ``name`` (seconds)."""
        self._series(name, "histogram", labels).observe(value)  # type: ignore[attr-defined]

    def gauge(self, name: str, read: Callable[[], float]) -> None:
        """Read gauge ``name`` from ``read`` whenever the metrics are rendered."""
        self._gauge(name)
        self._read.one[name] = read

    def gauges(self, name: str, read: Callable[[], Mapping[str, float]]) -> None:
        """Read the labelled gauge ``name`` (one label) from ``read``: label value -> value, at each scrape."""
        self._gauge(name)
        self._read.many[name] = read

    @staticmethod
    def _gauge(name: str) -> None:
        if name not in DECLARED or DECLARED[name][0] != "gauge":
            raise KeyError(f"metric {name!r} is not declared as a gauge in contact_center.metrics.DECLARED")

    def value(self, name: str, **labels: str) -> float:
        """The current value of one series (0 if never counted)."""
        got = self.registry.get_sample_value(name, labels)
        return 0.0 if got is None else got

    def render(self) -> str:
        """Everything, in the Prometheus text exposition format (:data:`CONTENT_TYPE` names its version)."""
        return generate_latest(self.registry).decode()
