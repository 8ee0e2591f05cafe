"""The topics the core publishes on, named in one place.

``agent:{id}`` and ``customer:{id}`` carry what one agent's desks or one customer's widgets
show; ``supervisors`` what the supervisors' side watches (the email promise); ``replies`` the
library's saved versions; ``state`` the
records a node committed, for the other nodes (published by the Redis store with the commit).
"""

from __future__ import annotations

__all__ = ["REPLIES", "STATE", "SUPERVISORS", "agent", "customer"]

SUPERVISORS = "supervisors"
REPLIES = "replies"  # the reply library changed (every node's library follows)
STATE = "state"


def agent(agent_id: str) -> str:
    return f"agent:{agent_id}"


def customer(customer_id: str) -> str:
    return f"customer:{customer_id}"
