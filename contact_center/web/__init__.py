"""The composition root: the aiohttp application that wires store, engine, channels and desk."""

from contact_center.web.app import ACCOUNTS, CONFIG, EMAIL, ENGINE, STORE, build_app

__all__ = ["ACCOUNTS", "CONFIG", "EMAIL", "ENGINE", "STORE", "build_app"]
