"""The HTML page's charts as PNG images, drawn with matplotlib; the workbook draws its own, native ones."""

from __future__ import annotations

import io
from types import ModuleType

from optimizer.reporting.report_data import ReportData
from optimizer.text import visible


def share_chart_name(basis: str) -> str:
    """The image of the provider shares on one basis (the HTML page places it by this name)."""
    return f"shares_against_cap_{basis}"


def chart_images(data: ReportData) -> dict[str, bytes]:
    """One PNG per chart, by name (no display needed); a chart with nothing to show is left out.

    Names from the inputs label the charts as written: their control characters made
    visible, and no mathtext or TeX (a scenario called ``$\\foo{x}$`` is not a formula)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
        return _charts(data, plt)


def _charts(data: ReportData, plt: ModuleType) -> dict[str, bytes]:
    images = {}

    def save(name: str, figure) -> None:
        buffer = io.BytesIO()
        figure.tight_layout()
        figure.savefig(buffer, format="png", dpi=110)
        plt.close(figure)
        images[name] = buffer.getvalue()

    spend = data.spend_by_provider.set_index("quarter").rename(columns=visible) / 1e9
    if not spend.empty and len(spend.columns):  # nothing bought: no chart
        figure, axis = plt.subplots(figsize=(9, 4.5))
        spend.plot(kind="bar", stacked=True, ax=axis, width=0.8)
        axis.set_ylabel("USD billions")
        axis.set_title("Spend by provider per quarter")
        axis.legend(ncol=4, fontsize=8)
        save("spend_by_provider", figure)

    for basis, table in data.shares_against_cap.items():
        shares = table.set_index("quarter").rename(columns=visible)
        if not shares.empty and len(shares.columns):
            figure, axis = plt.subplots(figsize=(9, 4.5))
            for column in shares.columns:
                style = {"linestyle": "--", "color": "red", "linewidth": 2} if column == "cap" else {"marker": "o"}
                axis.plot(shares.index, shares[column] * 100, label=column, **style)
            axis.set_ylabel(f"share of the quarter's {basis} (%)")
            axis.set_title(f"Provider share of {basis} per quarter against the cap")
            axis.legend(ncol=4, fontsize=8)
            save(share_chart_name(basis), figure)

    suppliers = data.suppliers.dropna(subset=["walk_away_cost_usd"]).sort_values("walk_away_cost_usd")
    if not suppliers.empty:
        figure, axis = plt.subplots(figsize=(9, 0.45 * len(suppliers) + 1.5))
        labels = [visible(f"{d}: {s}") for d, s in zip(suppliers["dimension"], suppliers["supplier"], strict=True)]
        axis.barh(labels, suppliers["walk_away_cost_usd"] / 1e9, color="tab:blue")
        axis.set_xlabel("USD billions over the horizon")
        axis.set_title("Cost of walking away, by supplier")
        save("walk_away", figure)

    response = data.price_response[data.price_response["dimension"] == "provider"]
    if not response.empty:
        figure, axis = plt.subplots(figsize=(9, 4.5))
        for supplier, block in response.groupby("supplier"):
            axis.plot(
                block["price_change_pct"], block["supplier_revenue_usd"] / 1e9, marker=".", label=visible(str(supplier))
            )
        axis.set_xlabel("change in all the provider's prices (%)")
        axis.set_ylabel("its revenue from us, USD billions")
        axis.set_title("Price response: where each provider's revenue peaks")
        axis.legend(ncol=4, fontsize=8)
        save("price_response", figure)

    if data.room is not None and not data.room.movable.empty:
        figure, axis = plt.subplots(figsize=(9, 4.5))
        for key, block in data.room.movable.groupby(["dimension", "supplier"], sort=False):
            label = visible(": ".join(str(part) for part in key))
            axis.plot(block["slack_pct"], block["movable_share"] * 100, marker=".", label=label)
        axis.set_xlabel("cost slack (% of the optimum)")
        axis.set_ylabel("share of its volume movable elsewhere (%)")
        axis.set_title("Negotiating room: volume movable away from each supplier")
        axis.legend(ncol=3, fontsize=8)
        save("room", figure)

    if data.hedge is not None and not data.hedge.draws.empty:
        draws = data.hedge.draws
        sample = "out" if (draws["sample"] == "out").any() else "in"
        chosen = draws[draws["sample"] == sample]
        figure, axis = plt.subplots(figsize=(9, 4.5))
        share = [(k + 1) / len(chosen) * 100 for k in range(len(chosen))]
        for plan, label in (("hedged", "hedged plan"), ("deterministic", "deterministic plan")):
            axis.step(sorted(chosen[f"{plan}_cost_usd"] / 1e9), share, where="post", label=label)
        axis.set_xlabel("total cost, USD billions")
        axis.set_ylabel("share of draws at or below (%)")
        axis.set_title(f"Cost distribution over the {'fresh' if sample == 'out' else 'in-sample'} draws")
        axis.legend(fontsize=8)
        save("hedge", figure)

    if data.scenarios is not None and len(data.scenarios) > 1:
        figure, axis = plt.subplots(figsize=(9, 4.5))
        names = [visible(name) for name in data.scenarios["scenario"]]
        axis.bar(names, data.scenarios["cost_per_mtok_usd"], color="tab:green")
        axis.set_ylabel("USD per million served tokens")
        axis.set_title("Cost per million served tokens by scenario")
        axis.tick_params(axis="x", rotation=30)
        save("scenarios", figure)
    return images
