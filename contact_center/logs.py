"""Structured logging with structlog: JSON lines when not on a terminal, readable on one.

Ids are bound where input enters (``contact_id``, ``channel``, ``agent_id``,
``customer_id``) through structlog's context variables, so every event logged while
handling that input carries them.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson
import structlog

from contact_center.config import LoggingConfig

__all__ = ["configure_logging"]


def configure_logging(config: LoggingConfig) -> None:
    as_json = config.format == "json" or (config.format == "auto" and not sys.stderr.isatty())
    renderer: structlog.typing.Processor
    factory: structlog.typing.WrappedLogger
    if as_json:  # orjson renders bytes, written as they are
        renderer = structlog.processors.JSONRenderer(serializer=_orjson_dumps)
        factory = structlog.BytesLoggerFactory(sys.stderr.buffer)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
        factory = structlog.PrintLoggerFactory(sys.stderr)
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
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )


def _orjson_dumps(event: Any, **_: Any) -> bytes:
    return orjson.dumps(event, default=str)
