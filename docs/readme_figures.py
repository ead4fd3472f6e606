"""The README's figures, regenerated from the tool's own outputs on the bundled data.

Every figure of the README's results sections sits in a block between
``<!-- generated: NAME -->`` and ``<!-- end generated: NAME -->``, written by this script
from ``optimizer plan``, ``optimizer leverage`` and ``optimizer compare`` on ``data/`` and
``scenarios/``, so a figure the README quotes cannot drift from what the tool prints (and
the list of tables a scenario can change from the loader's registry)::

    python docs/readme_figures.py          # rewrite the blocks of README.md
    python docs/readme_figures.py --check  # exit 1, with a diff, when README.md disagrees

``tests/test_readme.py`` runs the check (once per CI run). Timings are not generated here:
the benchmark tables come from ``benchmarks/``.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd

import optimizer
from optimizer.analysis.negotiation import leverage
from optimizer.analysis.room import negotiating_room
from optimizer.io.loading import bundled_data
from optimizer.io.tables import TABLES
from optimizer.scenarios.comparison import compare
from optimizer.scenarios.overlays import RANGED, VIRTUAL_VENDOR

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated: (?P=name) -->)", re.S)

# What each bundled scenario models, in a few words (its file's description says it in full).
SCENARIO_LABELS = {
    "base": "the bundled data",
    "critical-off-microsoft": "flagship chat and API never on Azure or Maia",
    "demand-surge": "demand +50% from 2027Q1",
    "maia-200-at-scale": "claimed perf/$, 3x capacity, no pilot cap",
    "maia-200-pilot": "claimed perf/$, at most 5% of volume",
    "n-minus-1-clouds": "losing any cloud strands at most 10%",
    "nvidia-price-rise": "Nvidia +20%",
    "on-demand-only": "no new 1yr/3yr commitment",
    "single-cloud": "no concentration caps",
    "tpu-capacity-cut": "Google TPU capacity halved",
    "vera-rubin-2027": "Rubin from 2027Q1 at announced performance",
}


def usd(amount: float | None) -> str:
    """$1.23B, $456.7M, -$2.9M; a blank for a missing figure."""
    if amount is None or pd.isna(amount):
        return "-"
    text = f"{amount / 1e9:z.2f}B" if abs(amount) >= 1e9 else f"{amount / 1e6:z.1f}M"  # z: no minus on a zero
    return "-$" + text[1:] if text.startswith("-") else "$" + text


def signed_usd(amount: float) -> str:
    text = usd(amount)
    return text if text.startswith("-") else "+" + text


def pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:+z.{digits}f}%"


def share(value: float | None) -> str:
    return "-" if value is None or pd.isna(value) else f"{100 * value:.1f}%"


def count(value: float | None) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:z,.0f}"


def plan_block(plan) -> str:
    """The headline money of the bundled plan and its gross margin per quarter."""
    totals = plan.totals
    rate = totals["discount_rate_per_year"]
    lines = [
        "| | undiscounted | present value" + (f" at {rate * 100:g}% a year |" if rate is not None else " |"),
        "|---|---|---|",
        f"| total cost (compute + revenue given up + penalty) | {usd(totals['total_cost_usd'])} | "
        f"{usd(totals['total_cost_pv_usd'])} |",
        f"| compute cost | {usd(totals['compute_cost_usd'])} | {usd(totals['compute_cost_pv_usd'])} |",
        f"| revenue of the served tokens | {usd(totals['revenue_usd'])} | {usd(totals['revenue_pv_usd'])} |",
        f"| gross margin | {usd(totals['gross_margin_usd'])} | {usd(totals['gross_margin_pv_usd'])} |",
        f"| revenue given up on unserved demand | {usd(totals['lost_revenue_usd'])} | "
        f"{usd(totals['lost_revenue_pv_usd'])} |",
        "",
        f"{count(totals['unmet_tokens_per_s'])} tokens/s (summed over rows) are left unserved on purpose, "
        f"${totals['cost_per_mtok_usd']:.2f} per million served tokens.",
        "",
        "| quarter | cost | revenue | gross margin | revenue given up | cash paid |",
        "|---|---|---|---|---|---|",
    ]
    for row in plan.money.itertuples(index=False):
        lines.append(
            f"| {row.quarter} | {usd(row.cost_usd)} | {usd(row.revenue_usd)} | {usd(row.gross_margin_usd)} | "
            f"{usd(row.lost_revenue_usd)} | {usd(row.paid_usd)} |"
        )
    return "\n".join(lines) + "\n"


def leverage_block(plan, report) -> str:
    totals = plan.totals
    rate = totals["discount_rate_per_year"]
    money = (
        f"present value of the {len(plan.inputs.horizon)}-quarter cost {usd(totals['total_cost_pv_usd'])} at "
        f"{rate * 100:g}% a year, the unit of every walk-away cost below; spend is undiscounted"
        if rate is not None
        else f"total {len(plan.inputs.horizon)}-quarter cost {usd(totals['total_cost_usd'])}"
    )
    lines = [
        f"On the bundled data ({money}; ${totals['cost_per_mtok_usd']:.2f} per million served tokens; "
        "`optimizer leverage`):",
        "",
        "| dimension | supplier | spend | volume share | walk-away cost | of which margin lost | of which penalty "
        "| walk-away, rules lifted | unserved if removed (tok/s) | uniform ceiling | half-volume rise |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    suppliers = report.suppliers.sort_values(["dimension", "walk_away_cost_usd"], ascending=[True, False])
    for row in suppliers.itertuples(index=False):
        lines.append(
            f"| {row.dimension} | {row.supplier} | {usd(row.spend_usd)} | {row.share * 100:.1f}% | "
            f"{usd(row.walk_away_cost_usd)} | {usd(row.walk_away_lost_margin_usd)} | "
            f"{usd(row.walk_away_penalty_usd)} | "
            f"{usd(row.walk_away_cost_no_rules_usd)} | {count(row.unserved_if_removed_tokens_per_s)} | "
            f"{pct(row.uniform_ceiling_pct)} | {pct(row.half_volume_pct)} |"
        )
    return "\n".join(lines) + "\n"


def renewal_block(plan, report) -> str:
    """Each supplier's walk-away cost today and at renewal (renewal.csv), with the plans' costs."""
    summary, totals = report.summary, plan.totals
    pv = totals["total_cost_pv_usd"] is not None
    today = totals["total_cost_pv_usd"] if pv else totals["total_cost_usd"]
    renewed = summary["renewal_total_cost_pv_usd"] if pv else summary["renewal_total_cost_usd"]
    lines = [
        f"At renewal ({', '.join(f'`{place}`' for place in summary['renewal_removes'])} removed and the plan "
        f"solved again): the plan costs {usd(renewed)} against {usd(today)} today"
        f"{' (present values)' if pv else ''}, so the commitments up for renewal cost {usd(today - renewed)} "
        "against a free hand.",
        "",
        "| dimension | supplier | walk-away cost today | walk-away cost at renewal "
        "| unserved if removed at renewal (tok/s) |",
        "|---|---|---|---|---|",
    ]
    for row in report.renewal.itertuples(index=False):
        lines.append(
            f"| {row.dimension} | {row.supplier} | {usd(row.walk_away_cost_usd)} | "
            f"{usd(row.walk_away_cost_at_renewal_usd)} | {count(row.unserved_if_removed_at_renewal_tokens_per_s)} |"
        )
    return "\n".join(lines) + "\n"


def stranded(row) -> str:
    """What a walk-away cost is made of: margin lost, penalty, the tokens/s it strands."""
    parts = []
    if not pd.isna(row["walk_away_lost_margin_usd"]):
        parts.append(f"{usd(row['walk_away_lost_margin_usd'])} of margin lost")
    if row["walk_away_penalty_usd"] > 0:
        parts.append(f"{usd(row['walk_away_penalty_usd'])} of policy penalty")
    return " and ".join(parts) + f", {count(row['unserved_if_removed_tokens_per_s'])} tokens/s stranded"


def findings_block(plan, report) -> str:
    """The headline readings, each sentence built from the figures it quotes."""
    suppliers = report.suppliers.set_index(["dimension", "supplier"])
    vendors = suppliers.loc["vendor"].sort_values("walk_away_cost_usd", ascending=False)
    providers = suppliers.loc["provider"].sort_values("walk_away_cost_usd", ascending=False)
    top_vendor, top = vendors.index[0], vendors.iloc[0]
    top_provider, cloud = providers.index[0], providers.iloc[0]
    easy = providers[providers["walk_away_cost_usd"] == providers["walk_away_cost_usd"]].tail(3)
    rules = report.rules
    shares = rules[~rules["dimension"].isin(["spend_commitment", "budget"])]
    offers = report.offer_prices.dropna(subset=["price_to_win_pct"])
    offers = offers[offers["chip_hours"] == 0].sort_values("price_to_win_pct", ascending=False).head(4)
    lines = [
        f"- **{top_vendor} is the vendor we could least afford to leave**: walking away would cost "
        f"{usd(top['walk_away_cost_usd'])} ({stranded(top)}, summed over quarters). "
        f"Its prices can rise {pct(top['uniform_ceiling_pct'])} at once before any volume moves; it loses "
        f"half its volume at {pct(top['half_volume_pct'])}.",
        f"- **{top_provider} is the cloud we could least afford to leave**: {usd(cloud['walk_away_cost_usd'])} "
        f"({stranded(cloud)}); uniform ceiling "
        f"{pct(cloud['uniform_ceiling_pct'])}.",
        "- **Easiest to replace**: "
        + ", ".join(
            f"{name} ({usd(row['walk_away_cost_usd'])} to walk away, uniform ceiling {pct(row['uniform_ceiling_pct'])})"
            for name, row in easy.iloc[::-1].iterrows()
        )
        + ".",
        f"- **Diversification**: lifting every concentration rule at once saves "
        f"{usd(report.summary['diversification_premium_usd'])} (the diversification premium); "
        f"{len(shares)} share rules bind.",
    ]
    settings = report.policy_rules.sort_values("cost_of_setting_usd", ascending=False)
    if len(settings):
        costs = [
            f"`{row.setting}: {row.limit:g}` {usd(row.cost_of_setting_usd)}" for row in settings.itertuples(index=False)
        ]
        lines.append(
            "- **What each policy line costs** (removed in every quarter, re-solved): " + ", ".join(costs) + "."
        )
    capacity = report.capacity
    terms = capacity[(capacity["method"] == "re-solve, every quarter") & (capacity["value_usd_per_chip_hour"] > 0)]
    if len(terms):
        lines.append(
            "- **Capacity worth buying on commitments**: "
            + ", ".join(
                f"{row.offer} ${row.value_usd_per_chip_hour:.2f} per chip-hour" for row in terms.itertuples(index=False)
            )
            + "."
        )
    if len(offers):
        lines.append(
            "- **Offers that must come down to win volume**: "
            + ", ".join(f"{row.offer} {pct(row.price_to_win_pct)}" for row in offers.itertuples(index=False))
            + "."
        )
    return "\n".join(lines) + "\n"


def porting_block(plan, report) -> str:
    ports = plan.ports
    breaks = report.ports
    lines = []
    for row in ports.itertuples(index=False):
        even = breaks[(breaks["model"] == row.model) & (breaks["accelerator"] == row.accelerator)]
        lines.append(
            f"- {row.model} to {row.accelerator}, started {row.port_quarter}, serves from "
            f"{row.serves_from}: costs {usd(row.port_usd)}, saves {usd(row.net_saving_usd)} net, pays back "
            f"in {row.payback_quarter}; break-even port cost {usd(even['break_even_port_usd'].iloc[0])}."
        )
    for row in breaks[~breaks["ported"]].itertuples(index=False):
        cut = (
            "no cut up to 90% makes it worth it"
            if pd.isna(row.price_cut_to_port_pct)
            else f"chosen once the chip's prices fall {row.price_cut_to_port_pct:.1f}%"
        )
        lines.append(f"- {row.model} to {row.accelerator} ({usd(row.port_usd)}): not ported; {cut}.")
    return "\n".join(lines) + "\n"


def moving_block(plan, inputs) -> str:
    """The bundled plan with its starting fleet and switching costs against the same inputs
    without them (a lab that may move everything every quarter for free)."""
    free = optimizer.solve(replace(inputs, policy=inputs.policy.model_copy(update={"switching": {}})), payback=False)

    def swing(which) -> str:
        shares = which.share_table("provider")
        jumps = shares.diff().abs().max()
        group = str(jumps.idxmax())
        return f"{group} {100 * jumps.max():.1f} points"

    rows = [
        ("total cost", "total_cost_usd"),
        ("present value of the total cost", "total_cost_pv_usd"),
        ("gross margin", "gross_margin_usd"),
        ("moving cost", "moving_cost_usd"),
    ]
    lines = ["| | with the fleet and switching costs | moving free |", "|---|---|---|"]
    lines += [f"| {label} | {usd(plan.totals[key])} | {usd(free.totals[key])} |" for label, key in rows]
    moved = [which.moves["moved_off_tokens_per_s"].sum() if not which.moves.empty else 0.0 for which in (plan, free)]
    lines.append(f"| tokens/s moved off a cloud (summed over quarters) | {count(moved[0])} | - |")
    lines.append(f"| largest quarter-to-quarter swing of a cloud's volume share | {swing(plan)} | {swing(free)} |")
    return "\n".join(lines) + "\n"


def room_block(plan) -> str:
    """``optimizer room`` on the bundled plan: the share of each supplier's volume that
    plans within a few tenths of a percent of the optimum move elsewhere."""
    room = negotiating_room(plan)
    shown = (0.1, 0.5, 1.0, 5.0)
    total = float(plan.solution.x.sum())
    head = "| dimension | supplier | share of all volume today | " + " | ".join(f"within +{k:g}%" for k in shown)
    lines = [head + " |", "|---|---|---|" + "---|" * len(shown)]
    for (dimension, supplier), curve in room.movable.groupby(["dimension", "supplier"], sort=True):
        at = curve.set_index("slack_pct")
        cells = [share(at.loc[k, "movable_share"]) for k in shown]
        today = at["volume_today_tokens_per_s"].iloc[0] / total
        lines.append(f"| {dimension} | {supplier} | {share(today)} | " + " | ".join(cells) + " |")
    lines.append("")
    for row in room.diversified.itertuples(index=False):
        lines.append(
            f"- **Most diversified {row.dimension} plan within +{row.slack_pct:g}%**: the largest share falls from "
            f"{share(row.largest_share_today)} ({row.largest_group_today}) to {share(row.largest_share)} "
            f"({row.largest_group}), for {usd(row.extra_cost_usd)}."
        )
    for row in room.fleet.itertuples(index=False):
        lines.append(
            f"- **Least change from the starting fleet within +{row.slack_pct:g}%**: "
            f"{share(row.kept_share)} of the fleet's tokens/s kept where they run, against "
            f"{share(row.kept_share_today)} in the optimal plan, for {usd(row.extra_cost_usd)}."
        )
    return "\n".join(lines) + "\n"


HEDGE_SAMPLES = 10  # in sample and fresh: the README's run takes about two minutes


def hedge_block() -> str:
    """``optimizer hedge scenarios/sweeps/open-questions.yaml --samples 10 --test-samples 10``:
    the first-stage decisions that change, then VSS and EVPI in and out of sample."""
    sweep, base = optimizer.read_sweep(ROOT / "scenarios" / "sweeps" / "open-questions.yaml")
    result = optimizer.hedge(sweep, base, samples=HEDGE_SAMPLES, test_samples=HEDGE_SAMPLES)
    lines = ["| decision | offer | quarter | hedged | deterministic |", "|---|---|---|---|---|"]
    for row in result.commitments.itertuples(index=False):
        lines.append(
            f"| {row.decision} | {row.offer} | {row.quarter} | {count(row.hedged)} | {count(row.deterministic)} |"
        )
    lines += ["", "| draws | figure | mean | 95% interval |", "|---|---|---|---|"]
    names = {
        "value_of_stochastic_solution": "VSS (deterministic - hedged)",
        "expected_value_of_perfect_information": "EVPI (hedged - hindsight)",
        "hedged_expected_cost": "expected cost, hedged",
    }
    summary = result.summary[result.summary["metric"].isin(list(names))]
    for row in summary.itertuples(index=False):
        interval = f"{usd(row.ci95_low_usd)} to {usd(row.ci95_high_usd)}"
        lines.append(f"| {row.sample} ({row.draws}) | {names[row.metric]} | {usd(row.value_usd)} | {interval} |")
    size = result.size
    lines.append("")
    lines.append(
        f"Extensive form: {size['scenarios']} draws, {size['columns']:,} columns, {size['rows']:,} rows; "
        "costs are present values (the bundled policy discounts at 10% a year)."
    )
    return "\n".join(lines) + "\n"


def scenario_comparison() -> pd.DataFrame:
    files = sorted((ROOT / "scenarios").glob("*.yaml"))
    files.sort(key=lambda path: path.stem != "base")  # base first: the reference
    return compare(files, workers=1)


def trust_block(plan, report, table: pd.DataFrame) -> str:
    """What trusting Microsoft with critical workloads costs and risks: Azure's place in
    today's plan, the outage drill on it, and the critical-off-microsoft scenario."""
    suppliers = report.suppliers.set_index(["dimension", "supplier"])
    azure = suppliers.loc[("provider", "azure")]
    drill = report.outage[(report.outage["dimension"] == "provider") & (report.outage["supplier"] == "azure")]
    worst = drill.loc[drill["margin_at_risk_usd"].idxmax()] if len(drill) else None
    scenario = table.set_index("scenario").loc["critical-off-microsoft"]
    base = table.set_index("scenario").loc["base"]
    lines = [
        f"- **The risk today**: Azure carries {100 * azure['share']:.1f}% of the served volume and "
        f"{usd(azure['spend_usd'])} of spend; walking away would cost {usd(azure['walk_away_cost_usd'])}.",
    ]
    if worst is not None:
        lines.append(
            f"- **An Azure outage** with today's chips (share rules waived, everything else re-allocated): at worst "
            f"{100 * worst['stranded_share']:.1f}% of a quarter's demand is stranded ({worst['quarter']}), "
            f"{usd(worst['margin_at_risk_usd'])} of margin per {worst['outage_days']:g}-day outage."
        )
    pv_delta = scenario["total_cost_pv_usd"] - base["total_cost_pv_usd"]
    lines.append(
        f"- **Keeping the flagship off Microsoft** (scenario `critical-off-microsoft`: every large-chat and "
        f"large-api row never on Azure or Maia) costs {signed_usd(scenario['delta_usd'])} "
        f"({pct(scenario['delta_pct'])}; present value {signed_usd(pv_delta)}), "
        f"gross margin {usd(scenario['gross_margin_usd'])} against {usd(base['gross_margin_usd'])}; "
        f"Azure's walk-away cost is then {usd(scenario['walk_away_provider_azure'])} "
        f"({usd(base['walk_away_provider_azure'])} in the base plan)."
    )
    return "\n".join(lines) + "\n"


def scenarios_block(table: pd.DataFrame) -> str:
    lines = [
        "| scenario | what it models | total cost | present value | gross margin | per Mtok | vs base "
        "| HHI provider | HHI vendor | unmet tok/s | walk away from Nvidia |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table.to_dict("records"):
        delta = "-" if row["scenario"] == "base" else f"{signed_usd(row['delta_usd'])} ({pct(row['delta_pct'])})"
        nvidia = row.get("walk_away_vendor_nvidia")
        lines.append(
            f"| {row['scenario']} | {SCENARIO_LABELS.get(row['scenario'], '')} | "
            f"{usd(row['total_cost_usd'])} | {usd(row['total_cost_pv_usd'])} | {usd(row['gross_margin_usd'])} | "
            f"${row['cost_per_mtok_usd']:.2f} | {delta} | "
            f"{count(row['hhi_provider'])} | {count(row['hhi_vendor'])} | "
            f"{count(row['unmet_tokens_per_s'])} | "
            f"{'no plan exists' if nvidia is None or pd.isna(nvidia) else usd(nvidia)} |"
        )
    return "\n".join(lines) + "\n"


def scenario_tables_block() -> str:
    """The tables a scenario can change and the columns its changes name."""
    lines = ["| table | file | columns (`where:`, `column:`, `rows:`) |", "|---|---|---|"]
    for spec in TABLES:
        columns = ", ".join(f"`{column}`" for column in spec.columns)
        lines.append(f"| `{spec.name}` | `{spec.filename}`{' (optional)' if spec.optional else ''} | {columns} |")
    lines += [
        "",
        f"`where:` also selects {' and '.join(VIRTUAL_VENDOR)} rows by their chip's `vendor`; "
        f"`from:`/`until:` apply to {', '.join(RANGED)}.",
    ]
    return "\n".join(lines) + "\n"


def blocks() -> dict[str, str]:
    inputs = optimizer.load(bundled_data())
    plan = optimizer.solve(inputs)
    report = leverage(inputs, plan)
    table = scenario_comparison()
    return {
        "plan": plan_block(plan),
        "leverage": leverage_block(plan, report),
        "renewal": renewal_block(plan, report),
        "findings": findings_block(plan, report),
        "porting": porting_block(plan, report),
        "room": room_block(plan),
        "hedge": hedge_block(),
        "moving": moving_block(plan, inputs),
        "trust": trust_block(plan, report, table),
        "scenarios": scenarios_block(table),
        "scenario-tables": scenario_tables_block(),
    }


def rendered(text: str, generated: dict[str, str]) -> str:
    """``text`` with every generated block replaced; a block the script does not know is an error."""

    def replace(match: re.Match) -> str:
        name = match.group("name")
        if name not in generated:
            raise SystemExit(f"README.md: unknown generated block {name!r}")
        return match.group(1) + generated[name] + match.group(4)

    return BLOCK.sub(replace, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when README.md differs")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    new = rendered(text, blocks())
    if args.check:
        if new != text:
            sys.stdout.writelines(
                difflib.unified_diff(text.splitlines(True), new.splitlines(True), "README.md", "regenerated")
            )
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
