"""Email addresses as accounts and invitations compare them."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def normalize_email(email: str) -> str:
    return email.strip().lower()


def is_email(email: str) -> bool:
    try:
        validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        return False
    return True
