"""How the dashboard words a service's refusal: as a sentence beside a form, or, when an
event did not expect it (a role changed in another tab, a row removed meanwhile), as a
toast, never the generic error of an unhandled exception."""

import reflex as rx
from reflex.app import default_backend_exception_handler
from reflex.event import EventSpec

from llmlab_app.errors import AppError


def error_sentence(error: AppError) -> str:
    """A service's message as the page shows it: capitalised, with a full stop."""
    message = error.message
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def show_refusal(exception: Exception) -> EventSpec:
    """Every dashboard event's unhandled exception: an `AppError` (403, 404, 409…) is a
    refusal the user can act on; anything else goes to Reflex's handler, which logs it."""
    if isinstance(exception, AppError):
        return rx.toast.error(error_sentence(exception))
    return default_backend_exception_handler(exception)
