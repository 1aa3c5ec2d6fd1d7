"""/: where the money goes, where it is heading, and how to spend less."""

import plotly.graph_objects as go
import reflex as rx

from llmlab_app.ui import styles
from llmlab_app.ui.components.budget_bar import budget_list
from llmlab_app.ui.components.charts import chart_card
from llmlab_app.ui.components.cost_cards import cost_cards
from llmlab_app.ui.components.empty_state import loading_block, start_tracking_hint
from llmlab_app.ui.components.fields import form_error
from llmlab_app.ui.components.filters import range_filter
from llmlab_app.ui.components.layout import app_shell, page_title
from llmlab_app.ui.components.live import live_ticker
from llmlab_app.ui.components.recommendation_card import recommendation_list
from llmlab_app.ui.components.whatif_panel import whatif_panel
from llmlab_app.ui.states.overview import ALL, OverviewState
from llmlab_app.ui.states.whatif import WhatIfState

ROUTE = "/"
TITLE = "Overview · LLMLab"
# In this order: the what-if panel starts from what the overview has just read.
ON_LOAD = [OverviewState.load, WhatIfState.load]


def filters() -> rx.Component:
    return range_filter(
        on_submit=OverviewState.apply_filters,
        on_reset=OverviewState.this_month,
        start=OverviewState.start_date,
        end=OverviewState.end_date,
        start_error=OverviewState.start_error,
        end_error=OverviewState.end_error,
        project=OverviewState.project,
        project_names=OverviewState.project_names,
        all_value=ALL,
    )


def charts() -> rx.Component:
    return rx.grid(
        chart_card(
            "Daily spend",
            "Ring: today so far. Dashed: expected per day, shaded: likely range",
            OverviewState.daily_trend_chart.to(go.Figure),
            empty=OverviewState.days_empty,
            chart_id="daily-trend-chart",
        ),
        chart_card(
            "Cost by model",
            "Priced spend in the selected range",
            OverviewState.cost_by_model_chart.to(go.Figure),
            empty=OverviewState.models_empty,
            chart_id="cost-by-model-chart",
        ),
        columns=rx.breakpoints(initial="1", lg="2"),
        spacing="4",
        width="100%",
    )


def dashboard() -> rx.Component:
    # Budgets and recommendations each take the full width and lay their items out in
    # columns: side by side, the shorter card left an empty column beside the longer one.
    return rx.vstack(
        cost_cards(OverviewState.cards),
        charts(),
        budget_list(OverviewState.budgets),
        recommendation_list(OverviewState.recommendations, on_try=WhatIfState.try_recommendation),
        whatif_panel(),
        spacing="4",
        width="100%",
    )


def overview_page() -> rx.Component:
    return app_shell(
        page_title(
            "Overview",
            "What your LLM calls cost, where it goes, and where it is heading.",
            live_ticker(OverviewState.poll),
        ),
        rx.box(filters(), style=styles.card_style),
        form_error(OverviewState.form_error),
        rx.cond(
            OverviewState.loading,
            rx.vstack(loading_block("110px"), loading_block("320px"), width="100%"),
            rx.cond(
                OverviewState.has_events,
                dashboard(),
                rx.box(start_tracking_hint(), style=styles.card_style),
            ),
        ),
    )
