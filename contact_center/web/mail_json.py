"""A mail as the desk shows it (in `assigned` and `review_open`): texts, safe HTML, attachments by link."""

from __future__ import annotations

from typing import Any

from contact_center.mail import MailRecord

__all__ = ["mail_json"]


def mail_json(mail: MailRecord) -> dict[str, Any]:
    """A mail as the desk shows it: texts, safe HTML (for a sandboxed frame), attachments by link."""
    s = mail.summary
    return {
        "id": mail.id,
        "direction": mail.direction.value,
        "at": mail.at,
        "kind": s.get("kind", "mail"),
        "subject": s.get("subject", ""),
        "from": s.get("from", ""),
        "from_name": s.get("from_name", ""),
        "to": s.get("to", []),
        "cc": s.get("cc", []),
        "reply_to": s.get("reply_to", []),
        # Whether the trusted mail server vouched for the sender (see channels.email.authentication),
        # and a thread the mail named but was not let into, with the reason: shown as a warning.
        "sender_authenticated": s.get("sender_authenticated", False),
        "sender_check": s.get("sender_check", ""),
        "thread_refused": s.get("thread_refused"),
        "via": s.get("via", ""),  # "webchat": left in the chat widget, its address typed by the visitor
        "text": s.get("visible_text", s.get("text", "")),
        "folded": s.get("folded_text", ""),
        "html": s.get("html"),
        "problems": s.get("problems", []),
        "attachments": [
            {
                "n": n,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "inline": a.inline,
                "content_id": a.content_id,
                "refused": a.refused,
                "url": None if a.refused else f"/api/mails/{mail.id}/attachments/{n}",
            }
            for n, a in enumerate(mail.attachments)
        ],
    }
