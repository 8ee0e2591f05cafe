"""aiohttp's access log as structlog events: the web edge's, so the core's logging needs no aiohttp."""

from __future__ import annotations

import structlog
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

__all__ = ["AccessLogger"]


class AccessLogger(AbstractAccessLogger):
    """aiohttp's access log as structlog events (``http.request``)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        structlog.get_logger("contact_center.http").info(
            "http.request",
            method=request.method,
            path=request.path,
            status=response.status,
            duration_ms=round(time * 1000, 2),
            remote=request.remote,
        )
