"""Form fields that show their validation message right under the input."""

import reflex as rx


def field_error(message: rx.Var[str]) -> rx.Component:
    return rx.cond(
        message != "",
        rx.text(message, color=rx.color("red", 11), size="1", class_name="field-error"),
    )


def text_field(
    label: str,
    name: str,
    error: rx.Var[str],
    *,
    input_type: str = "text",
    placeholder: str = "",
    default_value: rx.Var[str] | str = "",
    hint: str = "",
    **input_props,
) -> rx.Component:
    parts = [
        rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
        rx.input(
            id=name,
            name=name,
            type=input_type,
            placeholder=placeholder,
            default_value=default_value,
            width="100%",
            color_scheme=rx.cond(error != "", "red", "gray"),
            **input_props,
        ),
    ]
    if hint:
        parts.append(rx.text(hint, size="1", color=rx.color("gray", 10)))
    return rx.vstack(*parts, field_error(error), spacing="1", width="100%")


def select_field(
    label: str,
    name: str,
    options: list[tuple[str, str]] | rx.Var,
    error: rx.Var[str],
    *,
    default_value: rx.Var[str] | str = "",
) -> rx.Component:
    """`options` are (value, label) pairs."""
    items = (
        [rx.select.item(text, value=value) for value, text in options]
        if isinstance(options, list)
        else rx.foreach(options, lambda option: rx.select.item(option[1], value=option[0]))
    )
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(width="100%"),
            rx.select.content(items),
            name=name,
            default_value=default_value,
        ),
        field_error(error),
        spacing="1",
        width="100%",
    )


def form_error(message: rx.Var[str]) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle_alert", color_scheme="red", size="1", width="100%"),
    )
