"""Logging that never carries a secret: database URLs lose their password, and every log
record of the process (ours, Reflex's, uvicorn's) is scrubbed of passwords, tokens, API keys
and dashboard event payloads before any handler sees it."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# Cheap first look: only a record that mentions one of these is searched in detail.
_SUSPECT = re.compile(
    r"://|llmlab_|eyJ|passw|secret|token|api_key|event (?:data|payload)", re.IGNORECASE
)
# Reflex logs an event it cannot route or convert with its payload, i.e. the form's fields.
_EVENT_PAYLOAD = re.compile(
    r"(event (?:data|payload)\b[^:\n]*:|event data must be a dictionary, but received).*",
    re.IGNORECASE | re.DOTALL,
)
_SECRET_NAME = r"[\w-]*(?:passw(?:or)?d|secret|token|api_key)[\w-]*"
_REPLACEMENTS = (
    (re.compile(r"([a-zA-Z][\w+.-]*://[^\s:/@]*:)[^\s@/]+@"), r"\1***@"),
    (re.compile(r"llmlab_[A-Za-z0-9_-]{6,}"), "llmlab_[redacted]"),
    (re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]+"), "[redacted token]"),
    # 'password': 'a b c' and "refresh_token": "…" (quoted values may hold spaces)
    (
        re.compile(rf"""(['"]?\b{_SECRET_NAME}['"]?\s*[:=]\s*)(['"])(?:\\.|(?!\2).)*\2""", re.I),
        r"\1\2[redacted]\2",
    ),
    # password=abc, token: abc
    (
        re.compile(rf"""(\b{_SECRET_NAME}\s*[:=]\s*)(?!['"\[])[^\s,;&}}\])]+""", re.I),
        r"\1[redacted]",
    ),
)

_install_lock = threading.Lock()
_installed = False
_exceptions = logging.Formatter()


def redact(text: str) -> str:
    """`text` with what looks like a secret replaced by `[redacted]`."""
    if not _SUSPECT.search(text):
        return text
    text = _EVENT_PAYLOAD.sub(r"\1 [payload not logged]", text)
    for pattern, replacement in _REPLACEMENTS:
        text = pattern.sub(replacement, text)
    return text


def database_url_for_display(url: str) -> str:
    """A database URL safe to print: its password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return redact(url)


def install_log_redaction() -> None:
    """Scrub every log record this process creates from now on (idempotent). A record
    factory rather than a filter: filters sit on one logger or handler, and Reflex, uvicorn
    and granian each bring their own."""
    global _installed
    with _install_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def scrubbed_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _scrub(record)
            return record

        logging.setLogRecordFactory(scrubbed_record)
        _installed = True


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: let logging report it as it would
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None:
        # Formatters reuse `exc_text` when it is set, so the traceback is scrubbed too.
        record.exc_text = redact(_exceptions.formatException(record.exc_info))
