"""Structured logging with structlog: JSON lines when not on a terminal, readable on one.

Ids are bound where input enters (``contact_id``, ``channel``, ``agent_id``,
``customer_id``) through structlog's context variables, so every event logged while
handling that input carries them.
"""

from __future__ import annotations

import logging
import sys

import structlog
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from contact_center.config import LoggingConfig

__all__ = ["AccessLogger", "configure_logging"]


def configure_logging(config: LoggingConfig) -> None:
    as_json = config.format == "json" or (config.format == "auto" and not sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    level = getattr(logging, config.level.upper())
    logging.basicConfig(level=level, stream=sys.stderr, format="%(message)s")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


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
