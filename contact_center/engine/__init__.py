"""The engine: one integrated queue, offers, assignments, conversations and history.

:class:`Engine` (:mod:`.core`) is what channel adapters, the desk and the composition root call.
:mod:`.units` is the unit of work every change runs as, :mod:`.timers` the timers by kind, and
:mod:`.state` what the engine derives from its records. (The cut into services by concern is
under way: see docs/architecture.md.)
"""

from contact_center.engine.core import Engine, NodeLiveness
from contact_center.engine.units import Answer

__all__ = ["Answer", "Engine", "NodeLiveness"]
