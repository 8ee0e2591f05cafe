"""The typed keys under which the application keeps its long-lived parts (one per part)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from channels.callback.service import Callbacks
from channels.email import EmailChannel
from channels.webchat import WebchatChannel
from channels.wire import Wire
from channels.wsjson import JsonSocket
from contact_center.auth import Accounts
from contact_center.bus import Bus
from contact_center.channel_kinds import ChannelKinds
from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.delivery import Watch
from contact_center.engine import Engine
from contact_center.identities import Identities
from contact_center.leases import Leases
from contact_center.metrics import Metrics
from contact_center.reply_attachments import ReplyAttachments
from contact_center.reply_editing import ReplyEditor
from contact_center.reply_library import ReplyLibrary
from contact_center.store import Store
from contact_center.web.desk import DeskEndpoint
from contact_center.web.peers import ClientAddresses

__all__ = [
    "ACCOUNTS",
    "ATTACHMENTS",
    "BUS",
    "CALLBACKS",
    "CLIENTS",
    "CLOCK",
    "CLOSING",
    "CONFIG",
    "DEMO",
    "DESK",
    "EDITOR",
    "EMAIL",
    "ENGINE",
    "IDENTITIES",
    "LEASES",
    "LIBRARY",
    "METRICS",
    "NODE",
    "SOCKETS",
    "STORE",
    "WATCH",
    "WEBCHAT",
]

CONFIG = web.AppKey("config", Config)
STORE = web.AppKey("store", Store)
BUS = web.AppKey("bus", Bus)
ENGINE = web.AppKey("engine", Engine)
ACCOUNTS = web.AppKey("accounts", Accounts)
WEBCHAT = web.AppKey("webchat", WebchatChannel)
DESK = web.AppKey("desk", DeskEndpoint)
LIBRARY = web.AppKey("library", ReplyLibrary)
EDITOR = web.AppKey("editor", ReplyEditor)
ATTACHMENTS = web.AppKey("attachments", ReplyAttachments)  # the reply library's files
EMAIL = web.AppKey("email", EmailChannel)
CALLBACKS = web.AppKey("callbacks", Callbacks)
METRICS = web.AppKey("metrics", Metrics)
SOCKETS: web.AppKey[set[JsonSocket]] = web.AppKey("sockets")
CLOSING: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("closing")

CLIENTS = web.AppKey("clients", ClientAddresses)
IDENTITIES = web.AppKey("identities", Identities)
CLOCK = web.AppKey("clock", Clock)
NODE = web.AppKey("node", str)
DEMO = web.AppKey("demo", bool)
LEASES: web.AppKey[Leases | None] = web.AppKey("leases")  # None alone: only nodes sharing Redis hold leases
WATCH = web.AppKey("watch", Watch)
KINDS = web.AppKey("kinds", ChannelKinds)  # the registered channels
WIRE = web.AppKey("wire", Wire)  # the JSON of events and records, for the sockets and REST
