"""Buttons the acting role may not use: disabled with the reason beside them, or hidden.

The reasons come from the one permission table (`permissions.refusal_reasons`, kept in
`AuthState.refusals` by every event); the services enforce it whatever the page shows.
"""

import reflex as rx

from llmlab_app.services.permissions import Permission
from llmlab_app.ui.states.auth import AuthState


def refusal(permission: Permission) -> rx.Var[str]:
    """Why the acting role may not use `permission`, "" when it may."""
    return AuthState.refusals[permission.value].to(str)


def refusal_note(permission: Permission) -> rx.Component:
    """The reason, in small print, when the role lacks `permission` (nothing otherwise)."""
    reason = refusal(permission)
    return rx.cond(
        reason != "",
        rx.text(reason, size="1", color=rx.color("gray", 11), class_name="refusal-reason"),
    )


def permitted_button(
    permission: Permission, *children: rx.Component | str, **props
) -> rx.Component:
    """A button, disabled with the reason written under it when the role lacks `permission`."""
    reason = refusal(permission)
    return rx.vstack(
        rx.button(*children, disabled=reason != "", title=reason, **props),
        refusal_note(permission),
        spacing="1",
        align="end",
    )


def when_permitted(permission: Permission, *children: rx.Component) -> rx.Component:
    """`children` only for a role with `permission` (for buttons repeated on every row)."""
    return rx.cond(refusal(permission) == "", rx.fragment(*children))
