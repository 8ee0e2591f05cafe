"""Channel adapters: each turns one way customers reach us into engine calls.

An adapter parses its wire input into calls on :class:`contact_center.engine.Engine`
and carries out what the engine publishes back. It imports only the core's public
types; the composition root (``contact_center.web``) wires adapters in.
"""
