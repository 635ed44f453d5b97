"""The front table's "choice" column: the spread the front offers within a channel-use budget, by hand."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from front_table import choice_spread  # noqa: E402

from semcom_ros.core.fronts.front_file import Configuration, Front  # noqa: E402


def conf(name, uses, acc_at_5db):
    return Configuration(name, [0.0], None, 0.5, {5.0: 0.5}, 0.1, uses, 10.0, rate=2,
                         accuracy_by_channel={"rayleigh": {0.0: 0.1, 5.0: acc_at_5db}})


def test_the_spread_counts_only_configurations_within_the_factor_of_the_cheapest():
    front = Front("m", None, 1, [conf("cheap", 10, 0.30), conf("mid", 50, 0.45), conf("dear", 51, 0.90)],
                  {}, {})
    spread = choice_spread(front, snr_db=5.0, factor=5.0)["rayleigh"]
    assert spread["configurations"] == 2                       # "dear" costs 5.1x the cheapest
    assert (spread["best"], spread["worst"]) == ("mid", "cheap")
    assert spread["spread_points"] == 15.0
    assert choice_spread(front, snr_db=5.0, factor=6.0)["rayleigh"]["spread_points"] == 60.0
