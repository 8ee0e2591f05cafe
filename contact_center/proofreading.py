"""Drafts checked before they go out: the offline checker always, LanguageTool as well when configured.

Two checkers behind one port (:meth:`Proofreader.check`, what the desk calls):

- the offline one, which always works: the writing rules of :mod:`templates_responses.checks`
  with spelling from hunspell's dictionaries (:mod:`contact_center.spelling`), in a thread of its
  own so the event loop never waits on it;
- LanguageTool, through ``language-tool-python``, when ``desk.languagetool_url`` names a server:
  its grammar for the languages it has (English; it has no Indonesian). Its findings are added
  where the offline checker found nothing, never over the team's words. A server that does not
  answer within ``desk.languagetool_timeout_s``, or fails, or is still busy with the previous
  draft, costs only its findings: the offline ones are sent alone, and the log says why.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog
from language_tool_python import LanguageTool
from language_tool_python.exceptions import LanguageToolError

from contact_center.config.work import DeskConfig
from contact_center.spelling import open_dictionaries
from templates_responses.checks import Finding, check
from templates_responses.spelling import Dictionary

__all__ = ["LanguageToolChecker", "Proofreader"]

log = structlog.get_logger("contact_center.proofreading")

_LANGUAGETOOL_NAMES = {"en": "en-US"}  # ours, as LanguageTool names them (it has no Indonesian)


class LanguageToolChecker:
    """A LanguageTool server's findings (``url``), one draft at a time, within ``timeout_s``."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self._url = url
        self._timeout_s = timeout_s
        self._tools: dict[str, LanguageTool] = {}
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="languagetool")
        self._busy = False

    def speaks(self, language: str) -> bool:
        return language in _LANGUAGETOOL_NAMES

    def _matches(self, text: str, language: str) -> list[Any]:
        tool = self._tools.get(language)
        if tool is None:  # asks the server for its languages once
            tool = self._tools[language] = LanguageTool(_LANGUAGETOOL_NAMES[language], remote_server=self._url)
        return list(tool.check(text))

    async def check(self, text: str, language: str) -> list[Finding]:
        if self._busy:
            log.info("languagetool.skipped", reason="the previous draft is still being checked")
            return []
        self._busy = True
        future = asyncio.get_running_loop().run_in_executor(self._thread, self._matches, text, language)
        future.add_done_callback(lambda _: setattr(self, "_busy", False))
        try:
            matches = await asyncio.wait_for(asyncio.shield(future), self._timeout_s)
        except TimeoutError:
            log.warning("languagetool.slow", url=self._url, timeout_s=self._timeout_s)
            return []
        except (LanguageToolError, OSError, KeyError, TypeError, ValueError) as exc:
            log.warning("languagetool.failed", url=self._url, error=f"{type(exc).__name__}: {exc}"[:300])
            return []
        return [_finding(m) for m in matches if m.error_length > 0 and 0 <= m.offset < len(text)]

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


def _finding(match: Any) -> Finding:
    fixes = tuple(str(r) for r in match.replacements[:3])
    return Finding(match.offset, match.offset + match.error_length, f"languagetool:{match.rule_id}", fixes,
                   str(match.message))  # fmt: skip


def _merged(offline: list[Finding], extra: Sequence[Finding], text: str, keep: Collection[str]) -> list[Finding]:
    taken = [(f.start, f.end) for f in offline]
    added = [
        f for f in extra
        if text[f.start : f.end].lower() not in keep and not any(a < f.end and f.start < b for a, b in taken)
    ]  # fmt: skip
    return sorted([*offline, *added], key=lambda f: (f.start, f.end, f.rule))


class Proofreader:
    """The checks of every draft, for the engine's ``languages``."""

    def __init__(self, config: DeskConfig, languages: Sequence[str]) -> None:
        self._config = config
        self._languages = tuple(languages)
        self._dictionaries: Mapping[str, Dictionary] = {}
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="proofreading")  # hunspell is used from one thread
        self._languagetool = (
            LanguageToolChecker(config.languagetool_url, config.languagetool_timeout_s)
            if config.languagetool_url
            else None
        )
        self.product_names = frozenset(name.lower() for name in config.product_names)
        self.cpu_s = 0.0  # the CPU the latest offline check took in its thread (what other threads do is not in it)

    def load(self) -> None:
        """Open the dictionaries (a :class:`ConfigError` names a missing one and its Debian package)."""
        self._dictionaries = open_dictionaries(self._config.spelling_dir, self._languages)
        log.info("proofreading.ready", dictionaries=sorted(self._dictionaries),
                 languagetool=self._config.languagetool_url or None)  # fmt: skip

    async def check(self, text: str, language: str, channel: str, keep: Collection[str] = ()) -> list[Finding]:
        """The findings in ``text``: ``keep`` are words never flagged (with the product names)."""
        words = frozenset(w.lower() for w in keep) | self.product_names
        loop = asyncio.get_running_loop()
        offline = await loop.run_in_executor(self._thread, self._offline, text, language, channel, words)
        if self._languagetool is None or not self._languagetool.speaks(language) or not text.strip():
            return offline
        return _merged(offline, await self._languagetool.check(text[:20_000], language), text, words)

    def _offline(self, text: str, language: str, channel: str, words: frozenset[str]) -> list[Finding]:
        started = time.thread_time()
        try:
            return check(text, language, channel, words, self._dictionaries)
        finally:
            self.cpu_s = time.thread_time() - started

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)
        if self._languagetool is not None:
            self._languagetool.close()
