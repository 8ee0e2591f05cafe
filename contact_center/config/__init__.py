"""``config.toml``, parsed once into typed, frozen dataclasses.

A wrong type, an unknown key or a bad value fails at load with a :class:`ConfigError`
naming the key (``routing.offer_timeout_s: must be a number > 0, got 'x'``). Config
objects are passed down to whoever needs them; nothing reads a global.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contact_center.config.call import CallConfig, read_call
from contact_center.config.callback import CallbackConfig, Staffing, read_callback
from contact_center.config.channels import (
    EmailConfig,
    MailboxConfig,
    SmtpConfig,
    TopicConfig,
    WebchatConfig,
    read_email,
    read_webchat,
)
from contact_center.config.checks import Table
from contact_center.config.gateway import GatewayConfig, read_gateway
from contact_center.config.quality import QualityConfig, read_quality
from contact_center.config.reports import ReportsConfig, read_reports
from contact_center.config.security import AuthConfig, IdentityConfig, read_auth, read_identity
from contact_center.config.service import (
    LoggingConfig,
    ServerConfig,
    StoreConfig,
    read_logging,
    read_server,
    read_store,
    read_store_url,
)
from contact_center.config.work import DeskConfig, RoutingConfig, SlaConfig, read_desk, read_routing, read_sla
from contact_center.exceptions import ConfigError

__all__ = [
    "AuthConfig",
    "CallConfig",
    "CallbackConfig",
    "Config",
    "DeskConfig",
    "EmailConfig",
    "GatewayConfig",
    "IdentityConfig",
    "LoggingConfig",
    "MailboxConfig",
    "QualityConfig",
    "ReportsConfig",
    "RoutingConfig",
    "ServerConfig",
    "SlaConfig",
    "SmtpConfig",
    "Staffing",
    "StoreConfig",
    "TopicConfig",
    "WebchatConfig",
    "load_config",
    "parse_config",
]


@dataclass(frozen=True, slots=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    webchat: WebchatConfig = field(default_factory=WebchatConfig)
    desk: DeskConfig = field(default_factory=DeskConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    sla: SlaConfig = field(default_factory=SlaConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    callback: CallbackConfig = field(default_factory=CallbackConfig)
    call: CallConfig = field(default_factory=CallConfig)
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)


def parse_config(data: Mapping[str, Any], base: Path = Path(".")) -> Config:
    """Build a :class:`Config` from parsed TOML; relative paths are taken from ``base``."""
    root = Table(data, "")
    cfg = Config(
        server=read_server(root.table("server")),
        store=(
            read_store_url(root, base) if isinstance(data.get("store"), str) else read_store(root.table("store"), base)
        ),
        auth=read_auth(root.table("auth")),
        identity=read_identity(root.table("identity")),
        webchat=read_webchat(root.table("webchat")),
        desk=read_desk(root.table("desk")),
        routing=read_routing(root.table("routing")),
        sla=read_sla(root.table("sla")),
        email=read_email(root.table("email")),
        callback=read_callback(root.table("callback")),
        call=read_call(root.table("call")),
        gateway=read_gateway(root.table("gateway")),
        reports=read_reports(root.table("reports")),
        quality=read_quality(root.table("quality")),
        logging=read_logging(root.table("logging")),
    )
    root.done()
    replies = cfg.desk.replies_dir
    if replies is not None and not replies.is_absolute():
        cfg = dataclasses.replace(cfg, desk=dataclasses.replace(cfg.desk, replies_dir=base / replies))
    bands, names = cfg.routing.policy.value_bands, cfg.desk.value_band_names
    if len(names) != len(bands) + 1:
        raise ConfigError(
            f"desk.value_band_names: {len(bands)} value bands in routing.value_bands need {len(bands) + 1} names, "
            f"got {len(names)}"
        )
    return cfg


def load_config(path: Path) -> Config:
    """Read and check ``path``.

    Raises:
        ConfigError: the file is missing, is not TOML, or a key is wrong.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, path.resolve().parent)
