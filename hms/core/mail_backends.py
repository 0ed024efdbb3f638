"""Development mail a person can click: one readable file per message in a folder.

Django's console and file backends write the encoded message, whose quoted-printable lines
break every long link across two lines (with an "=" at each cut), so a copied confirmation
or invitation link fails. This backend writes the headers and the decoded body instead.
"""

import secrets
from datetime import UTC, datetime
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend
from django.utils.text import slugify


class FolderEmailBackend(BaseEmailBackend):
    """`<folder>/<time>-<subject>.txt` per message: its headers, a blank line, its text."""

    def __init__(self, *, file_path: str, **kwargs):
        super().__init__(**kwargs)
        self.folder = Path(file_path)

    def send_messages(self, email_messages) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            self._write(message)
        return len(email_messages)

    def _write(self, message) -> None:
        now = datetime.now(UTC)
        stem = f"{now:%Y%m%d-%H%M%S-%f}-{secrets.token_hex(2)}-{slugify(message.subject)[:50]}"
        headers = [
            f"From: {message.from_email}",
            f"To: {', '.join(message.to)}",
            *([f"Cc: {', '.join(message.cc)}"] if message.cc else []),
            f"Subject: {message.subject}",
            f"Date: {now:%Y-%m-%d %H:%M:%S} UTC",
        ]
        text = "\n".join(headers) + "\n\n" + message.body + "\n"
        (self.folder / f"{stem}.txt").write_text(text, encoding="utf-8")
