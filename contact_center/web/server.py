"""Serving the application on a port, with limits on what one connection may cost.

aiohttp reads a request head for as long as the client takes to send it, so a client that
sends a header a minute ("slowloris") holds a connection, and many of them hold the server.
:class:`ConnectionGuard` closes a connection whose first request head has not arrived whole
within ``server.header_timeout_s`` (answering ``408``), and aiohttp's keep-alive timer, set to
``server.idle_timeout_s``, closes one that waits longer than that for its next request (a head
dribbled in after a response included). A client address may hold at most
``server.max_connections_per_client`` connections at once; one more is answered ``503`` and
closed. A load balancer in ``server.trusted_proxies`` is not capped: it caps its own clients.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import structlog
from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from contact_center.config import Config, ServerConfig
from contact_center.web.peers import ClientAddresses

__all__ = ["ConnectionGuard", "serve_app"]

log = structlog.get_logger("contact_center.web")

_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
_TOO_MANY = (
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 42\r\n\r\ntoo many connections from this address\r\n\r\n"
)


class ConnectionGuard:
    """Watches a server's connections: a deadline for the first request head, a cap per client address."""

    def __init__(self, server: web.Server, config: ServerConfig, addresses: ClientAddresses) -> None:
        self._config = config
        self._addresses = addresses
        self._loop = asyncio.get_running_loop()
        self._per_peer: Counter[str] = Counter()
        self._peer_of: dict[RequestHandler, str] = {}
        self._deadlines: dict[RequestHandler, asyncio.TimerHandle] = {}
        self.refused = 0
        self.timed_out = 0
        self._made, self._lost, self._factory = server.connection_made, server.connection_lost, server.request_factory
        server.connection_made = self._connection_made  # type: ignore[method-assign]
        server.connection_lost = self._connection_lost  # type: ignore[method-assign]
        server.request_factory = self._request_factory

    def connections_of(self, peer: str) -> int:
        return self._per_peer[peer]

    def _connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        self._made(handler, transport)
        peername = transport.get_extra_info("peername")
        peer = str(peername[0]) if isinstance(peername, tuple) and peername else "unknown"
        if not self._addresses.trusted(peer):
            if self._per_peer[peer] >= self._config.max_connections_per_client:
                self.refused += 1
                log.warning("http.too_many_connections", client=peer, limit=self._config.max_connections_per_client)
                transport.write(_TOO_MANY)
                transport.close()
                return
            self._per_peer[peer] += 1
            self._peer_of[handler] = peer
        self._deadlines[handler] = self._loop.call_later(
            self._config.header_timeout_s, self._too_slow, handler, transport, peer
        )

    def _too_slow(self, handler: RequestHandler, transport: asyncio.Transport, peer: str) -> None:
        self._deadlines.pop(handler, None)
        if transport.is_closing():
            return
        self.timed_out += 1
        log.info("http.header_timeout", client=peer, timeout_s=self._config.header_timeout_s)
        transport.write(_TIMEOUT)
        handler.force_close()
        transport.close()

    def _request_factory(self, message: Any, payload: Any, protocol: RequestHandler, *rest: Any) -> Any:
        deadline = self._deadlines.pop(protocol, None)
        if deadline is not None:
            deadline.cancel()
        return self._factory(message, payload, protocol, *rest)

    def _connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        deadline = self._deadlines.pop(handler, None)
        if deadline is not None:
            deadline.cancel()
        peer = self._peer_of.pop(handler, None)
        if peer is not None:
            self._per_peer[peer] -= 1
            if self._per_peer[peer] <= 0:
                del self._per_peer[peer]
        self._lost(handler, exc)


async def serve_app(
    app: web.Application, config: Config, host: str, port: int, **runner_args: Any
) -> tuple[web.AppRunner, ConnectionGuard]:
    """Start ``app`` on ``host:port`` with the limits of ``config.server``; the runner to clean up later."""
    runner = web.AppRunner(app, handle_signals=False, keepalive_timeout=config.server.idle_timeout_s, **runner_args)
    await runner.setup()
    assert runner.server is not None
    guard = ConnectionGuard(runner.server, config.server, ClientAddresses(config.server.trusted_proxies))
    await web.TCPSite(runner, host, port).start()
    return runner, guard
