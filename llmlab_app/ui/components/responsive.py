"""Two renderings of one list: a table on wide screens, a card per item on narrow ones.

Both are in the page and CSS shows one, so the switch needs no server round trip; the narrow
rendering carries its own class names, so a locator meant for the table never counts a card.
"""

import reflex as rx

# Below 62em (992 px) tables of more than a few columns no longer fit: phones and tablets.
WIDE_DISPLAY = rx.breakpoints(initial="none", md="block")
NARROW_DISPLAY = rx.breakpoints(initial="block", md="none")


def wide_only(*children: rx.Component, **props) -> rx.Component:
    return rx.box(*children, display=WIDE_DISPLAY, width="100%", **props)


def narrow_only(*children: rx.Component, **props) -> rx.Component:
    return rx.box(*children, display=NARROW_DISPLAY, width="100%", **props)


def card_fields(*fields: tuple[str, rx.Component | rx.Var | str]) -> rx.Component:
    """Label: value pairs of one card, the labels in a narrow column of their own."""
    return rx.data_list.root(
        *[
            rx.data_list.item(
                rx.data_list.label(label, min_width="88px"),
                rx.data_list.value(value, min_width="0"),
                align="center",
            )
            for label, value in fields
        ],
        orientation="horizontal",
        size="1",
        spacing="2",
        width="100%",
    )
