"""pandas' string dtypes: the tool gives the same answers whatever backs text columns.

pandas 3 reads text as its ``str`` dtype, backed by pyarrow where pyarrow is installed
(polars and many data tools pull it in) and by Python objects otherwise; pandas 2 reads
``object`` unless ``future.infer_string`` is set. An empty text column then has a type of
its own, so arithmetic on, say, the quarters of no commitment start fails in one backing
and not in another. The case below has no reserved terms, which is where that happened.

Hand-solved: 1,000 tok/s of model m in 2026Q1. Offer o1 sells chip a (100 tok/s per chip)
at 2 USD/chip-h with at most 4 chips; o2 sells chip b (200 tok/s) at 5 USD/chip-h. Per
token/s o1 costs 2/100 = 0.020 USD/h and o2 5/200 = 0.025 USD/h, so o1 is filled first:
4 chips serve 400 tok/s, and o2 serves the other 600 tok/s on 3 chips.
Cost: (4 x 2 + 3 x 5) x 2190 h = 23 x 2190 = 50,370 USD.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import offer, workload, write_folder
from typer.testing import CliRunner

import optimizer
from optimizer import cli

TABLES = {
    "accelerators": [{"accelerator": "a", "vendor": "nvidia"}, {"accelerator": "b", "vendor": "google"}],
    "performance": [
        {"model": "m", "accelerator": "a", "tokens_per_s_per_chip": 100, "ttft_ms": 100},
        {"model": "m", "accelerator": "b", "tokens_per_s_per_chip": 200, "ttft_ms": 100},
    ],
    "latency": [{"geography": "g", "region": "r1", "rtt_ms": 50}, {"geography": "g", "region": "r2", "rtt_ms": 50}],
    "offers": [offer("o1", "aws", "r1", "a", 2.0, 4), offer("o2", "gcp", "r2", "b", 5.0, 1000)],
    "workloads": [workload("w", "2026Q1", 1000)],
}
POLICY = "max_share:\n  provider: 0.9\n"  # a share rule, so the share rows are built too


def _string_options(storage: str) -> tuple:
    """pd.option_context arguments that turn on the ``str`` dtype with this backing."""
    if storage == "pyarrow":
        pytest.importorskip("pyarrow")
    if int(pd.__version__.split(".")[0]) >= 3:  # str is pandas 3's default; only the backing is chosen
        return ("mode.string_storage", storage)
    return ("future.infer_string", True, "mode.string_storage", storage)


@pytest.mark.parametrize("storage", ["python", "pyarrow"])
def test_plan_without_reserved_terms_under_string_dtype(tmp_path, storage):
    folder = write_folder(tmp_path / "case", policy=POLICY, **TABLES)
    with pd.option_context(*_string_options(storage)):
        plan = optimizer.solve(optimizer.load(folder))
    assert plan.totals["total_cost_usd"] == pytest.approx(50_370, rel=1e-9)
    chips = plan.purchases.groupby("offer")["chips"].sum()
    assert chips["o1"] == pytest.approx(4) and chips["o2"] == pytest.approx(3)


@pytest.mark.parametrize("command", ["plan", "leverage", "report"])
def test_commands_without_reserved_terms_under_string_dtype(tmp_path, command):
    folder = write_folder(tmp_path / "case", policy=POLICY, **TABLES)
    with pd.option_context(*_string_options("pyarrow" if _has_pyarrow() else "python")):
        result = CliRunner().invoke(cli.app, [command, "--data", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "internal error" not in result.output


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True
