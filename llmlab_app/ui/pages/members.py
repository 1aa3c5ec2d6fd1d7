"""/members: who belongs to the organisation, with what role; invitations by link."""

import reflex as rx

from llmlab_app.services.permissions import Permission
from llmlab_app.ui import styles
from llmlab_app.ui.components.empty_state import loading_block
from llmlab_app.ui.components.fields import field_error
from llmlab_app.ui.components.layout import app_shell, page_title
from llmlab_app.ui.components.permitted import permitted_button, when_permitted
from llmlab_app.ui.components.responsive import card_fields, narrow_only, wide_only
from llmlab_app.ui.states.members import InvitationRow, MemberRow, MembersState

ROUTE = "/members"
TITLE = "Members · LLMLab"
ON_LOAD = MembersState.load


def invite_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.flex(
                rx.input(
                    id="invite_email",
                    name="invite_email",
                    placeholder="teammate@example.com",
                    type="email",
                    flex="1",
                    min_width="180px",
                ),
                rx.select(
                    MembersState.invite_roles,
                    default_value="viewer",
                    name="invite_role",
                    id="invite_role",
                ),
                permitted_button(
                    Permission.MANAGE_MEMBERS,
                    rx.icon("user_plus", size=14),
                    "Invite",
                    type="submit",
                    id="invite-submit",
                ),
                spacing="2",
                wrap="wrap",
                width="100%",
                max_width="560px",
                align="start",
            ),
            field_error(MembersState.invite_email_error),
            spacing="1",
            width="100%",
        ),
        on_submit=MembersState.invite,
        width="100%",
    )


def invite_link_callout() -> rx.Component:
    return rx.cond(
        MembersState.showing_invite_link,
        rx.callout.root(
            rx.callout.icon(rx.icon("link")),
            rx.vstack(
                rx.text(
                    "Send this link to ",
                    MembersState.invited_email,
                    ": it is shown only now, works once, for 7 days.",
                    weight="bold",
                    size="2",
                ),
                rx.hstack(
                    rx.code(
                        "",
                        id="invite-link",
                        on_mount=MembersState.reveal_invite_link,
                        style=styles.mono,
                        word_break="break_all",
                    ),
                    rx.icon_button(
                        rx.icon("copy", size=14),
                        on_click=MembersState.copy_invite_link,
                        variant="soft",
                        size="1",
                        aria_label="Copy the link",
                    ),
                    rx.button(
                        "Done", size="1", variant="soft", on_click=MembersState.dismiss_invite_link
                    ),
                    align="center",
                    wrap="wrap",
                ),
                spacing="2",
                min_width="0",
            ),
            color_scheme="grass",
            width="100%",
        ),
    )


def role_control(member: MemberRow) -> rx.Component:
    """A select of the roles the actor may give, or the role as text."""
    return rx.cond(
        member.role_choices.length() > 0,  # type: ignore[union-attr]
        rx.select.root(
            rx.select.trigger(class_name="member-role-select", aria_label="Role"),
            rx.select.content(
                rx.foreach(member.role_choices, lambda role: rx.select.item(role, value=role))
            ),
            value=member.role,
            on_change=lambda role: MembersState.change_role(member.user_id, role),
            size="1",
        ),
        rx.badge(member.role, variant="soft", color_scheme="gray", class_name="member-role"),
    )


def remove_button(member: MemberRow) -> rx.Component:
    return rx.cond(
        member.removable,
        rx.button(
            rx.cond(member.is_me, "Leave", "Remove"),
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=MembersState.ask_remove(member.user_id, member.email),
        ),
    )


def _email(member: MemberRow) -> rx.Component:
    return rx.flex(
        rx.text(member.email, weight="medium", word_break="break_all", min_width="0"),
        rx.cond(member.is_me, rx.badge("you", size="1")),
        align="center",
        spacing="2",
        wrap="wrap",
        min_width="0",
    )


def member_table_row(member: MemberRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(_email(member)),
        rx.table.cell(role_control(member)),
        rx.table.cell(member.joined, white_space="nowrap"),
        rx.table.cell(remove_button(member), text_align="right"),
        align="center",
        class_name="member-row",
    )


def member_card(member: MemberRow) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.box(_email(member), flex="1", min_width="0"),
            remove_button(member),
            justify="between",
            align="center",
            width="100%",
        ),
        card_fields(("Role", role_control(member)), ("Joined", member.joined)),
        spacing="2",
        width="100%",
        padding_y="0.75em",
        border_top=f"1px solid {rx.color('gray', 4)}",
        class_name="member-card",
    )


def members_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Email"),
                rx.table.column_header_cell("Role"),
                rx.table.column_header_cell("Joined"),
                rx.table.column_header_cell(""),
            )
        ),
        rx.table.body(rx.foreach(MembersState.members, member_table_row)),
        width="100%",
        size="2",
    )


def members_card() -> rx.Component:
    return rx.vstack(
        rx.heading(MembersState.org_name, size="4", id="members-org-name"),
        rx.text(
            "Owners do everything; admins manage members, keys, budgets and prices; members "
            "read and send events; viewers read.",
            **styles.muted_text,
        ),
        invite_form(),
        invite_link_callout(),
        wide_only(members_table()),
        narrow_only(rx.foreach(MembersState.members, member_card)),
        spacing="3",
        style=styles.card_style,
        id="members-card",
    )


def invitation_item(invitation: InvitationRow) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.text(invitation.email, weight="medium", size="2", word_break="break_all"),
            rx.text(
                invitation.role,
                " · expires ",
                invitation.expires,
                size="1",
                color=rx.color("gray", 11),
            ),
            spacing="0",
            min_width="0",
        ),
        rx.button(
            "Revoke",
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=MembersState.revoke_invitation(invitation.id),
            flex_shrink="0",
        ),
        justify="between",
        align="center",
        spacing="3",
        width="100%",
        padding_y="0.5em",
        border_top=f"1px solid {rx.color('gray', 4)}",
        class_name="invitation-row",
    )


def invitations_card() -> rx.Component:
    return when_permitted(
        Permission.MANAGE_MEMBERS,
        rx.vstack(
            rx.heading("Pending invitations", size="4"),
            rx.cond(
                MembersState.invitations.length() > 0,
                rx.vstack(
                    rx.foreach(MembersState.invitations, invitation_item),
                    spacing="0",
                    width="100%",
                ),
                rx.text("No invitation is waiting.", **styles.muted_text),
            ),
            spacing="3",
            style=styles.card_style,
            id="invitations-card",
        ),
    )


def personal_organisation_card() -> rx.Component:
    """A personal organisation has only its owner: invite people into a shared one."""
    return rx.vstack(
        rx.heading("This is your personal organisation", size="4"),
        rx.text(
            "Only you belong here. To share spend with a team, create a shared organisation "
            "and invite people to it; you can switch between organisations at the top.",
            **styles.muted_text,
        ),
        rx.form(
            rx.vstack(
                rx.hstack(
                    rx.input(
                        id="org_name",
                        name="org_name",
                        placeholder="Team name, e.g. Acme",
                        flex="1",
                        min_width="0",
                    ),
                    rx.button(
                        rx.icon("plus", size=14),
                        "Create organisation",
                        type="submit",
                        id="create-org",
                        flex_shrink="0",
                    ),
                    spacing="2",
                    width="100%",
                    max_width="480px",
                ),
                field_error(MembersState.org_name_error),
                spacing="1",
                width="100%",
            ),
            on_submit=MembersState.create_organisation,
            width="100%",
        ),
        spacing="3",
        style=styles.card_style,
        id="personal-org-card",
    )


def remove_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Remove ", MembersState.removing_email, "?"),
            rx.alert_dialog.description(
                "They lose access to this organisation at once, and the API keys they created "
                "in it are revoked."
            ),
            rx.hstack(
                rx.button(
                    "Cancel",
                    variant="soft",
                    color_scheme="gray",
                    on_click=MembersState.cancel_remove,
                ),
                rx.button(
                    "Remove",
                    color_scheme="red",
                    on_click=MembersState.confirm_remove,
                    id="confirm-remove",
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
        open=MembersState.removing_id != "",
    )


def members_page() -> rx.Component:
    return app_shell(
        page_title("Members", "Who shares this organisation, and what each of them may do."),
        rx.cond(
            MembersState.loading,
            loading_block("240px"),
            rx.cond(
                MembersState.personal,
                personal_organisation_card(),
                rx.fragment(members_card(), invitations_card()),
            ),
        ),
        remove_dialog(),
    )
