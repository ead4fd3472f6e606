"""Synthetic instances in the data-contract format, sized by their number of allowed pairs.

Shape (close to the bundled data, scaled up): 8 quarters, 3 models, 4 geographies,
6 providers with regions near to and far from each geography, 10 accelerators of 5
vendors, offers spread over them, and workloads with latency SLOs such that roughly
three quarters of the offers are allowed for a workload row. Prices, throughputs and
capacities are drawn so that capacity and the default caps bind somewhere.

Two families: ``square`` (about 0.6 sqrt(pairs) offers, so offers and workload rows grow
alike) and ``wide`` (sqrt(10) times as many offers and a tenth as many workload rows,
with a 5% cap per offer and a 2% floor per provider as well): the share rows then sum
many more columns each, which is where LP formulations differ most.

    python benchmarks/generate.py 100000 benchmarks/instances/1e5 [--family wide]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd

QUARTERS = [f"{year}Q{q}" for year in (2026, 2027) for q in (1, 2, 3, 4)]
GEOGRAPHIES = ["us-east", "us-west", "europe", "asia"]
PROVIDERS = ["aws", "azure", "gcp", "coreweave", "lambda", "nebius"]
VENDORS = ["nvidia", "amd", "aws", "google", "microsoft"]
MODELS = {"large": (60.0, 900.0), "medium": (900.0, 350.0), "small": (6000.0, 120.0)}
ALLOWED_SHARE = 0.74  # rough share of offers a workload row may use (sets the workload count)


FAMILIES = ("square", "wide")
POLICY = {
    "square": "max_share:\n  provider: 0.35\n  vendor: 0.5\n  region: 0.2\n",
    "wide": "max_share:\n  provider: 0.35\n  vendor: 0.5\n  region: 0.2\n  offer: 0.05\nmin_share:\n  provider: 0.02\n",
}


def generate(pairs: int, folder: Path, seed: int = 7, family: str = "square") -> None:
    """Write an instance of ``family`` with about ``pairs`` allowed pairs into ``folder``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    offers_count = max(6, int(0.6 * math.sqrt(pairs * (10 if family == "wide" else 1))))
    rows_count = max(8, int(pairs / (ALLOWED_SHARE * offers_count)))
    workloads_per_quarter = max(1, rows_count // len(QUARTERS))

    accelerators = pd.DataFrame(
        {
            "accelerator": [f"chip-{i}" for i in range(10)],
            "vendor": [VENDORS[i % len(VENDORS)] for i in range(10)],
        }
    )
    regions = [(p, f"{p}-{g}-{k}", g) for p in PROVIDERS for g in GEOGRAPHIES for k in range(2)]
    picks = rng.integers(0, len(regions), offers_count)
    chips = rng.integers(0, len(accelerators), offers_count)
    speed = 0.5 + chips / 6.0  # faster chips cost more per hour, and a little more per token
    offers = pd.DataFrame(
        {
            "offer": [f"offer-{i}" for i in range(offers_count)],
            "provider": [regions[k][0] for k in picks],
            "region": [regions[k][1] for k in picks],
            "accelerator": accelerators["accelerator"].to_numpy()[chips],
            "usd_per_chip_hour": np.round(speed * rng.uniform(1.5, 3.5, offers_count), 4),
            "max_chips": np.round(rng.uniform(2_000, 20_000, offers_count) * 3000 / offers_count * 8),
        }
    )
    offers["available_from"] = np.where(rng.random(offers_count) < 0.15, "2027Q1", "")

    performance = []
    for model, (base, ttft) in MODELS.items():
        for i, accelerator in enumerate(accelerators["accelerator"]):
            if model == "large" and i % 5 == 4:
                continue  # too little memory for the large model
            performance.append(
                (
                    model,
                    accelerator,
                    round(base * (0.5 + i / 6.0) * rng.uniform(0.8, 1.2), 2),
                    round(ttft * rng.uniform(0.7, 1.3), 1),
                )
            )
    performance = pd.DataFrame(performance, columns=["model", "accelerator", "tokens_per_s_per_chip", "ttft_ms"])

    latency = []
    for geography in GEOGRAPHIES:
        for _, region, home in regions:
            near = home == geography
            latency.append((geography, region, round(rng.uniform(8, 40) if near else rng.uniform(60, 260), 1)))
    latency = pd.DataFrame(latency, columns=["geography", "region", "rtt_ms"])
    latency = latency[latency["region"].isin(offers["region"])]

    workloads = []
    names = list(MODELS)
    for k in range(workloads_per_quarter):
        model = names[k % len(names)]
        geography = GEOGRAPHIES[(k // len(names)) % len(GEOGRAPHIES)]
        slo = MODELS[model][1] * 1.3 + rng.uniform(40, 260)
        start = rng.uniform(2_000, 40_000) * (10 if model == "small" else 1)
        growth = rng.uniform(1.03, 1.15)
        for q, quarter in enumerate(QUARTERS):
            workloads.append(
                (
                    f"w{k}",
                    model,
                    geography,
                    quarter,
                    round(start * growth**q, 1),
                    round(slo, 1),
                    round(rng.uniform(0.55, 0.85), 2),
                )
            )
    workloads = pd.DataFrame(
        workloads,
        columns=["workload", "model", "geography", "quarter", "tokens_per_s", "latency_slo_ms", "utilization"],
    )
    for name, frame in (
        ("accelerators", accelerators),
        ("offers", offers),
        ("performance", performance),
        ("latency", latency),
        ("workloads", workloads),
    ):
        frame.to_csv(folder / f"{name}.csv", index=False)
    (folder / "policy.yaml").write_text(POLICY[family], encoding="utf-8")


def one_offer(folder: Path) -> None:
    """The smallest instance: one offer, one workload row (measures process start-up)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "accelerators.csv").write_text("accelerator,vendor\nchip,nvidia\n")
    (folder / "offers.csv").write_text(
        "offer,provider,region,accelerator,usd_per_chip_hour,max_chips\no,aws,r,chip,2,100\n"
    )
    (folder / "performance.csv").write_text("model,accelerator,tokens_per_s_per_chip,ttft_ms\nm,chip,100,200\n")
    (folder / "workloads.csv").write_text(
        "workload,model,geography,quarter,tokens_per_s,latency_slo_ms\nw,m,g,2026Q1,1000,500\n"
    )
    (folder / "latency.csv").write_text("geography,region,rtt_ms\ng,r,20\n")
    (folder / "policy.yaml").write_text("{}\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", type=int, help="target number of allowed pairs (0: the one-offer instance)")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--family", choices=FAMILIES, default="square")
    arguments = parser.parse_args()
    if arguments.pairs == 0:
        one_offer(arguments.folder)
    else:
        generate(arguments.pairs, arguments.folder, arguments.seed, arguments.family)
