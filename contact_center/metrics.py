"""Counters of one engine node, served at ``GET /metrics`` in Prometheus's text format.

Every name the engine counts is declared in :data:`DECLARED` with its type and help text, so
the exposition always names the same series, from start, at zero. Gauges (contacts waiting,
agents on the floor) are read at scrape time from whoever owns them (:meth:`Metrics.gauge`).
One :class:`Metrics` per application; nothing here is global.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["DECLARED", "Metrics"]

# name -> (type, help); label values are free, label names are those used where counted.
DECLARED: dict[str, tuple[str, str]] = {
    "cc_offers_total": ("counter", "Offers this node made and committed (contacts routed)."),
    "cc_commits_stale_total": ("counter", "Units refused because another node changed a record first."),
    "cc_redis_round_trips_total": ("counter", "Requests sent to Redis and answered (a pipeline is one)."),
    "cc_contacts_waiting": ("gauge", "Contacts in the integrated queue, as this node sees it."),
    "cc_contacts_scheduled": ("gauge", "Contacts waiting for their time (booked callbacks), not in the queue yet."),
    "cc_agents_on_floor": ("gauge", "Available agents with room, connected to any node."),
    "cc_sockets_open": ("gauge", "Widget and desk websockets open on this node."),
    "cc_mails_filed_total": ("counter", "Fetched mails filed, by outcome (new, filed, duplicate, recorded)."),
    "cc_mails_quarantined_total": ("counter", "Fetched mails kept aside because they could not be read or filed."),
    "cc_mails_sent_total": ("counter", "Mails the SMTP server took, by kind (ack, reply)."),
    "cc_mails_deferred_total": ("counter", "SMTP attempts that failed for now and will be retried."),
    "cc_messages_filled_total": ("counter", "Chat messages the bus missed, given to sockets from the store."),
    "cc_delivery_checks_total": (
        "counter",
        "Rounds of comparing this node's sockets' conversations with the store.",
    ),
}

_Key = tuple[str, tuple[tuple[str, str], ...]]


class Metrics:
    def __init__(self) -> None:
        self._values: dict[_Key, float] = {}
        self._gauges: dict[str, Callable[[], float]] = {}

    def inc(self, name: str, value: float = 1, **labels: str) -> None:
        """Add ``value`` to the counter ``name`` with ``labels``."""
        if name not in DECLARED:
            raise KeyError(f"metric {name!r} is not declared in contact_center.metrics.DECLARED")
        key = (name, tuple(sorted(labels.items())))
        self._values[key] = self._values.get(key, 0) + value

    def counter(self, name: str, **labels: str) -> Callable[[], None]:
        """A function that adds one to ``name`` with ``labels``: cheap enough for every Redis request."""
        self.inc(name, 0, **labels)
        key = (name, tuple(sorted(labels.items())))
        values = self._values

        def count() -> None:
            values[key] += 1

        return count

    def gauge(self, name: str, read: Callable[[], float]) -> None:
        """Read gauge ``name`` from ``read`` whenever the metrics are rendered."""
        if name not in DECLARED:
            raise KeyError(f"metric {name!r} is not declared in contact_center.metrics.DECLARED")
        self._gauges[name] = read

    def value(self, name: str, **labels: str) -> float:
        """The current value of one series (0 if never counted)."""
        if name in self._gauges and not labels:
            return self._gauges[name]()
        return self._values.get((name, tuple(sorted(labels.items()))), 0)

    def render(self) -> str:
        """Everything, in the Prometheus text exposition format (version 0.0.4)."""
        lines = []
        for name, (kind, text) in DECLARED.items():
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
            if name in self._gauges:
                lines.append(f"{name} {_number(self._gauges[name]())}")
                continue
            series = sorted((labels, v) for (n, labels), v in self._values.items() if n == name)
            for labels, v in series or [((), 0.0)]:
                lines.append(f"{name}{_labels(labels)} {_number(v)}")
        return "\n".join(lines) + "\n"


def _labels(labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return ""
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for _, v in labels)
    return "{" + ",".join(f'{k}="{v}"' for (k, _), v in zip(labels, escaped, strict=True)) + "}"


def _number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))
