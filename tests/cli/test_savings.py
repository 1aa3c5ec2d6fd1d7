"""`llmlab recommendations` and `llmlab whatif` on demo data."""

from __future__ import annotations

from decimal import Decimal


def test_recommendations_are_ranked_by_monthly_savings(cli, with_demo_data):
    found = cli.json("recommendations")
    priced = [r for r in found if r["monthly_savings_usd"] is not None]
    assert priced, found
    savings = [Decimal(r["monthly_savings_usd"]) for r in priced]
    assert savings == sorted(savings, reverse=True)
    assert {"kind", "title", "action", "evidence", "confidence"} <= priced[0].keys()
    switched = {r["from_model"] for r in found if r["kind"] == "switch_model"}
    assert switched & {"gpt-4o", "claude-opus-4-0", "claude-opus-4-20250514", "gemini-2.5-pro"}
    # The demo's self-hosted model has no price: it is listed, without dollars.
    assert any(r["kind"] == "unpriced" for r in found)


def test_recommendations_table_shows_dollars(cli, with_demo_data):
    out = cli.ok("recommendations", "--days", "14")
    assert "/month" in out and "confidence" in out
    assert "$" in out and "llmlab whatif" in out


def test_recommendations_without_usage(cli, configured):
    assert "No recommendations" in cli.ok("recommendations")
    assert cli.json("recommendations") == []


def test_whatif_savings_are_old_minus_new(cli, with_demo_data):
    result = cli.json("whatif", "--from", "gpt-4o", "--to", "gpt-4o-mini", "--share", "0.8")
    old, new = Decimal(result["old_cost_usd"]), Decimal(result["new_cost_usd"])
    assert Decimal(result["savings_usd"]) == old - new > 0
    assert result["calls_moved"] > 0
    assert Decimal(result["share"]) == Decimal("0.8")
    assert (result["start"], result["end"]) == (
        cli.json("costs", "--days", "30")["start"],
        cli.json("costs", "--days", "30")["end"],
    )


def test_whatif_table(cli, with_demo_data):
    out = cli.ok("whatif", "--from", "gemini-2.5-pro", "--to", "gemini-2.5-flash", "--days", "7")
    assert "as recorded" in out and "Saved" in out


def test_whatif_to_an_unknown_model_is_one_line(cli, with_demo_data):
    cli.one_line_error(cli.run("whatif", "--from", "gpt-4o", "--to", "no-such-model-xyz"))
