"""A server that speaks LanguageTool's HTTP API (``/v2/languages``, ``/v2/check``), for the checker's tests.

No LanguageTool server can be had here (it is a Java download), so this one answers ``/v2/check``
from ``tests/data/languagetool.json``: for each text, a response in the shape LanguageTool's API
documentation gives (written for these tests, not recorded from a real server); any other text
has no matches. ``delay_s`` makes it slow, ``broken`` makes it fail as a misconfigured proxy would.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp import web

__all__ = ["LanguageToolServer"]

RESPONSES = Path(__file__).parent / "data" / "languagetool.json"
_SOFTWARE = {"name": "LanguageTool", "version": "6.4", "buildDate": "2024-03-28 12:00:00 +0000", "apiVersion": 1,
             "premium": False, "status": ""}  # fmt: skip
_LANGUAGES = [
    {"name": "English", "code": "en", "longCode": "en"},
    {"name": "English (US)", "code": "en", "longCode": "en-US"},
    {"name": "German (Germany)", "code": "de", "longCode": "de-DE"},
]


class LanguageToolServer:
    def __init__(self) -> None:
        self.responses: dict[str, dict[str, Any]] = json.loads(RESPONSES.read_text(encoding="utf-8"))
        self.delay_s = 0.0
        self.broken = False
        self.checked: list[dict[str, str]] = []  # each request's form
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _languages(self, request: web.Request) -> web.Response:
        return web.json_response(_LANGUAGES)

    async def _check(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.checked.append(form)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.broken:
            return web.Response(status=502, text="<html>Bad Gateway</html>", content_type="text/html")
        if form.get("language") not in {lang["longCode"] for lang in _LANGUAGES}:
            return web.Response(status=400, text=f"Error: '{form.get('language')}' is not a language code known")
        matches = self.responses.get(form.get("text", ""), {}).get("matches", [])
        return web.json_response({
            "software": _SOFTWARE, "warnings": {"incompleteResults": False},
            "language": {"name": "English (US)", "code": "en-US",
                         "detectedLanguage": {"name": "English (US)", "code": "en-US", "confidence": 0.99}},
            "matches": matches,
        })  # fmt: skip

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/v2/languages", self._languages)
        app.router.add_post("/v2/check", self._check)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
