"""The core's events: what one node encodes, another decodes to the same event; the sockets' JSON of them."""

from __future__ import annotations

import orjson
import pytest

from channels.wire import json_of
from contact_center import events
from contact_center.model import (
    AgentStatus,
    Channel,
    Contact,
    ContactState,
    HistoryEvent,
    Offer,
    Presence,
)

OFFER = Offer("o1", "c1", "ayu", 10.0, 25.0, level=1)
CONTACT = Contact("c1", Channel.CHAT, "ana", ContactState.OFFERED, 5.0, 5.0, [("general", 2)], offer=OFFER, version=3)
EVERY_KIND = [
    events.StatusChanged("available"),
    events.Offered(OFFER, CONTACT),
    events.OfferClosed("o1", "c1", "rejected"),
    events.ContactStateChanged("c1", "wrap_up", 30.0),
    events.ContactStateChanged("c1", "closed"),
    events.MailFiled("c1", "m1"),
    events.MailSent("c1", "m2"),
    events.CustomerLeft("c1"),
    events.SessionEnded(None, "disabled"),
    events.AgentJoined("c1", "Ayu"),
    events.AgentLeft("c1"),
    events.Ended("c1", "customer"),
    events.Merged("ana", "email", "ana@pelanggan.test"),
    events.Typing("c1"),
    events.MessagePosted(HistoryEvent(9, "ana", "c1", "chat", "message", 6.0, "agent:ayu", {"text": "Baik"}, 2, "r-1")),
    events.SlaAtRisk("c2", 100.0),
    events.SlaBreached("c2", 100.0),
    events.AccountLocked("ayu", 300.0, "127.0.0.1"),
    events.Committed((CONTACT,), (Presence("ayu", AgentStatus.AVAILABLE, version=4),)),
]


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda e: type(e).__name__)
def test_an_event_sent_between_nodes_comes_back_the_same(event: events.Event):
    """encode, through JSON, then decode: the event another node hears equals the one published."""
    assert events.decode(orjson.loads(orjson.dumps(events.encode(event)))) == event


def test_a_payload_of_no_known_type_is_refused_by_name():
    with pytest.raises(ValueError, match="no event is called 'offer_taken'"):
        events.decode({"type": "offer_taken", "offer_id": "o1"})


def test_the_sockets_get_each_event_as_its_type_and_fields():
    """A message is a line of the conversation; a closed contact carries no wrap-up time."""
    assert json_of(EVERY_KIND[14]) == {
        "type": "message", "contact_id": "c1", "seq": 2, "from": "agent:ayu", "text": "Baik", "at": 6.0,
        "client_id": "r-1",
    }  # fmt: skip
    assert json_of(events.ContactStateChanged("c1", "closed")) == {
        "type": "contact_state",
        "contact_id": "c1",
        "state": "closed",
    }
    assert json_of(events.Ended("c1", "agent")) == {"type": "ended", "contact_id": "c1", "by": "agent"}
