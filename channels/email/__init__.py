"""The email channel: IMAP in, SMTP out, parsing, threading and automatic replies (see its modules)."""
