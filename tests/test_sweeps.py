"""Sweeps: grids, seeded Monte Carlo with a closed-form check, same results on every executor."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.sweeps import read_sweep, run_sweep
from test_scenarios import base  # noqa: F401  (fixture)

C0 = 43_800.0  # one quarter of 1000 tok/s on o1 alone: 10 chips x 2 USD x 2190 h (test_planner)


def write(tmp_path, text):
    path = tmp_path / "sweep.yaml"
    path.write_text(text, encoding="utf-8")
    return read_sweep(path)


def single_offer_base(tmp_path):
    from conftest import offer, workload, write_folder

    return write_folder(
        tmp_path / "single", accelerators=[{"accelerator": "a", "vendor": "nvidia"}],
        performance=[{"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100}],
        latency=[{"geography": "g", "region": "r1", "rtt_ms": 50}],
        offers=[offer("o1", "aws", "r1", "a", 2.0, 1_000_000)], workloads=[workload("w", "2026Q1", 1000)])


def base_scenario(tmp_path, folder):
    path = tmp_path / "b.yaml"
    path.write_text(f"name: b\nbase: {folder}\nchanges: []\n")
    return path.name


def test_grid_points_are_hand_computable(tmp_path):
    """Price of o1 from -50% to +50% in 25% steps: cost = 43,800 x (1 + pct/100)."""
    folder = single_offer_base(tmp_path)
    spec, base_ = write(tmp_path, f"name: g\nscenario: {base_scenario(tmp_path, folder)}\ngrid:\n"
                                  "  - table: offers\n    column: usd_per_chip_hour\n"
                                  "    change_pct: {from: -50, to: 50, step: 25}\n")
    points, _ = run_sweep(spec, base_, workers=1)
    pct = points["offers.usd_per_chip_hour change_pct"].to_numpy()
    assert pct.tolist() == [-50, -25, 0, 25, 50]
    assert points["total_cost_usd"].to_numpy() == pytest.approx(C0 * (1 + pct / 100))


def test_monte_carlo_matches_the_closed_form(tmp_path):
    """Demand x U(0.5, 1.5) on a single offer: cost = 43,800 x factor exactly, so the cost's
    percentiles are 43,800 x the uniform's quantiles (0.5 + p), up to sampling error
    (200 draws: the 5th and 95th percentiles are within +-0.04 of 0.55 and 1.45)."""
    folder = single_offer_base(tmp_path)
    spec, base_ = write(tmp_path, f"name: mc\nscenario: {base_scenario(tmp_path, folder)}\nsamples: 200\nseed: 7\n"
                                  "monte_carlo:\n  - table: workloads\n    column: tokens_per_s\n"
                                  "    factor: {distribution: uniform, low: 0.5, high: 1.5}\n")
    points, summary = run_sweep(spec, base_, workers=1)
    factor = points["workloads.tokens_per_s factor"].to_numpy()
    assert points["total_cost_usd"].to_numpy() == pytest.approx(C0 * factor)
    cost = summary.set_index("metric").loc["total_cost_usd"]
    for q in (5, 25, 50, 75, 95):
        assert cost[f"p{q}"] == pytest.approx(C0 * np.percentile(factor, q))
        assert cost[f"p{q}"] / C0 == pytest.approx(0.5 + q / 100, abs=0.04)
    assert summary.set_index("metric").loc["share_provider_aws", "used_fraction"] == 1.0


def test_same_seed_same_numbers(tmp_path, base):  # noqa: F811
    text = (f"name: mc\nscenario: {base_scenario(tmp_path, base)}\nsamples: 6\nseed: 11\nmonte_carlo:\n"
            "  - table: offers\n    where: {vendor: nvidia}\n    column: usd_per_chip_hour\n"
            "    factor: {distribution: lognormal, mu: 0.0, sigma: 0.3}\n"
            "  - table: workloads\n    column: tokens_per_s\n    from: 2026Q2\n"
            "    factor: {distribution: triangular, low: 0.8, mode: 1.0, high: 1.5}\n")
    spec, base_ = write(tmp_path, text)
    one, _ = run_sweep(spec, base_, workers=1)
    two, _ = run_sweep(spec, base_, workers=2)
    assert one.equals(two)
    other, _ = run_sweep(spec.model_copy(update={"seed": 12}), base_, workers=1)
    assert not one["total_cost_usd"].equals(other["total_cost_usd"])


def test_dask_cluster_gives_the_same_results(tmp_path, base):  # noqa: F811
    distributed = pytest.importorskip("distributed")
    text = (f"name: g\nscenario: {base_scenario(tmp_path, base)}\ngrid:\n"
            "  - table: offers\n    where: {offer: o2}\n    column: usd_per_chip_hour\n"
            "    change_pct: {from: -20, to: 20, step: 20}\n"
            "  - table: workloads\n    column: tokens_per_s\n    change_pct: {from: 0, to: 50, step: 50}\n")
    spec, base_ = write(tmp_path, text)
    local, _ = run_sweep(spec, base_, workers=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote, _ = run_sweep(spec, base_, client=client)
    assert len(local) == 6
    assert local.equals(remote)


@pytest.mark.parametrize("text,message", [
    ("name: x\n", "either grid or monte_carlo"),
    ("name: x\ngrid:\n  - table: offers\n    column: max_chips\n    factor: {distribution: uniform, low: 0, high: 1}\n",
     "give change_pct"),
    ("name: x\nmonte_carlo:\n  - table: offers\n    column: max_chips\n    factor: {distribution: poisson, lam: 1}\n",
     "poisson"),
])
def test_invalid_sweep_files(tmp_path, text, message):
    import optimizer

    with pytest.raises(optimizer.InputError) as caught:
        write(tmp_path, text)
    assert message in str(caught.value)
