"""What one browser of a call may say to the other through the engine, checked before it is passed on.

The engine carries a call's signalling (the session descriptions and ICE candidates of WebRTC) and
reads none of it beyond these checks: a description is an audio call's (SDP, RFC 8866: ``v=0`` first,
an ``m=audio`` section, no video or data sections, printable lines, bounded size); a candidate is one
ICE candidate line (RFC 8839) or the empty end-of-candidates.
Whatever fails is refused to its sender with what was wrong, and the other side never sees it.
"""

from __future__ import annotations

import re
from typing import Any

from contact_center.exceptions import ClientError

__all__ = ["MAX_SDP_CHARS", "candidate", "description"]

MAX_SDP_CHARS = 16_000
MAX_CANDIDATE_CHARS = 512
_LINE = re.compile(r"[a-z]=[\x20-\x7e]*")
_CANDIDATE = re.compile(r"candidate:[\x21-\x7e]+( [\x21-\x7e]+){5,40}")
_MEDIA_OK = frozenset({"audio"})


def _bad(problem: str, message: str, field: str = "signal") -> ClientError:
    return ClientError(f"{field}: {message}", "invalid_field", field=field, problem=problem)


def description(signal: dict[str, Any], kind: str) -> dict[str, str]:
    """An SDP ``offer`` or ``answer`` (``kind``) of an audio call, as ``{"type", "sdp"}``."""
    sdp = signal.get("sdp")
    if not isinstance(sdp, str) or not sdp:
        raise _bad("not_sdp", f"an {kind} carries its session description as text in sdp")
    if len(sdp) > MAX_SDP_CHARS:
        raise ClientError(f"signal: the session description is over {MAX_SDP_CHARS} characters", "invalid_field",
                          field="signal", problem="too_long", limit=MAX_SDP_CHARS)  # fmt: skip
    lines = [line for line in sdp.replace("\r\n", "\n").split("\n") if line]
    if not lines or lines[0] != "v=0":
        raise _bad("not_sdp", "a session description starts with v=0")
    for n, line in enumerate(lines, 1):
        if not _LINE.fullmatch(line):
            raise _bad("not_sdp", f"line {n} of the session description is not a type=value line")
    media = [line[2:].split(" ", 1)[0] for line in lines if line.startswith("m=")]
    if "audio" not in media:
        raise _bad("no_audio", "the session description has no audio")
    if set(media) - _MEDIA_OK:
        raise _bad(
            "not_audio_only", f"a call is sound only; the description also asks for {sorted(set(media) - _MEDIA_OK)}"
        )
    return {"type": kind, "sdp": sdp}


def candidate(signal: dict[str, Any]) -> dict[str, Any]:
    """One ICE candidate (``candidate``, ``sdpMid``, ``sdpMLineIndex``, ``usernameFragment``); an empty
    ``candidate`` ends them."""
    line = signal.get("candidate")
    if not isinstance(line, str) or len(line) > MAX_CANDIDATE_CHARS:
        raise _bad("not_candidate", f"candidate is an ICE candidate line of at most {MAX_CANDIDATE_CHARS} characters")
    if line and not _CANDIDATE.fullmatch(line):
        raise _bad("not_candidate", "candidate is not an ICE candidate line (candidate:foundation component ...)")
    mid, index, ufrag = signal.get("sdpMid"), signal.get("sdpMLineIndex"), signal.get("usernameFragment")
    if mid is not None and (not isinstance(mid, str) or len(mid) > 32 or not mid.isprintable()):
        raise _bad("not_candidate", "sdpMid is a media section's id of at most 32 characters")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 16):
        raise _bad("not_candidate", "sdpMLineIndex is a media section's number from 0 to 15")
    if ufrag is not None and (not isinstance(ufrag, str) or len(ufrag) > 256 or not ufrag.isprintable()):
        raise _bad("not_candidate", "usernameFragment is text of at most 256 characters")
    return {"type": "candidate", "candidate": line, "sdpMid": mid, "sdpMLineIndex": index, "usernameFragment": ufrag}
