"""Demo data for ``make run``: agents with Indonesian and English skills, and a VIP customer.

Seeding is idempotent: an account or identity that exists already is left alone.
"""

from __future__ import annotations

import time
import uuid

from contact_center.auth import Accounts
from contact_center.config import Config
from contact_center.model import Customer, IdentityKind, Role
from contact_center.store import Store

__all__ = ["DEMO_AGENTS", "DEMO_PASSWORD", "seed_demo"]

DEMO_PASSWORD = "demo-password"  # noqa: S105 - published in the README, demo only

DEMO_AGENTS = (
    ("ayu", "Ayu Lestari", Role.AGENT, {"general": 4, "billing": 3, "lang_id": 5, "lang_en": 4}),
    ("budi", "Budi Santoso", Role.AGENT, {"general": 3, "technical": 5, "lang_id": 5, "lang_en": 3}),
    ("claire", "Claire Tan", Role.AGENT, {"general": 5, "billing": 4, "technical": 2, "lang_en": 5}),
    ("lead", "Dewi Kusuma", Role.SUPERVISOR, {"general": 5, "billing": 5, "technical": 4, "lang_id": 5, "lang_en": 5}),
)


async def seed_demo(store: Store, accounts: Accounts, config: Config) -> None:
    for username, name, role, skills in DEMO_AGENTS:
        if await store.user_by_name(username) is None:
            await accounts.add_user(
                username,
                DEMO_PASSWORD,
                role=role,
                display_name=name,
                skills=skills,
                capacity=dict(config.desk.default_capacity),
                wrap_up_s=min(10.0, config.desk.default_wrap_up_s),
            )
    if await store.find_customer(IdentityKind.EMAIL, "vip@example.com") is None:
        await store.create_customer(
            Customer(
                id=uuid.uuid4().hex,
                name="Pak Hendra (VIP)",
                value=5000.0,
                created_at=time.time(),
                identities=[(IdentityKind.EMAIL, "vip@example.com"), (IdentityKind.PHONE, "+6281234567890")],
            )
        )
