"""bench.peer's pure parts: Label Studio's project from the catalog, its environment, the side-by-side table."""

import csv
import os
from pathlib import Path
from xml.etree import ElementTree

from bench.peer.labelstudio import environment
from bench.peer.table import catalog_tasks, choice_result, growth, label_config, ratio, side_by_side


def test_label_config_offers_each_category_once_and_escapes_quotes():
    config = ElementTree.fromstring(label_config(["TVs", 'Fridges "A"', "TVs", "CPUs"]))  # noqa: S314 (our own string)
    choices = config.find("Choices")
    assert choices.get("toName") == config.find("Text").get("name") == "title"
    assert [choice.get("value") for choice in choices] == ["CPUs", 'Fridges "A"', "TVs"]


def test_catalog_tasks_keep_every_column_of_each_row(tmp_path: Path):
    path = tmp_path / "products.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "title", "category"])
        writer.writerow(["p1", 'Apple iPhone 8, 64GB "gold"', "Mobile Phones"])
        writer.writerow(["p2", "Bosch KGN39", "Fridge Freezers"])
    tasks = list(catalog_tasks(path))
    assert tasks == [
        {"data": {"external_id": "p1", "title": 'Apple iPhone 8, 64GB "gold"', "category": "Mobile Phones"}},
        {"data": {"external_id": "p2", "title": "Bosch KGN39", "category": "Fridge Freezers"}},
    ]
    assert choice_result("TVs")[0]["value"] == {"choices": ["TVs"]}


def test_environment_turns_off_version_check_analytics_error_reporting_and_debug(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://someone:secret@db.example:6543/shelfmark")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings.production")
    env = environment(Path("/nowhere/label_studio"))
    assert env["LATEST_VERSION_CHECK"] == env["COLLECT_ANALYTICS"] == env["DEBUG"] == "false"
    assert env["SENTRY_DSN"] == env["FRONTEND_SENTRY_DSN"] == ""
    assert env["DJANGO_SETTINGS_MODULE"] == "label_studio.core.settings.label_studio"
    assert (env["POSTGRE_HOST"], env["POSTGRE_PORT"], env["POSTGRE_USER"]) == ("db.example", "6543", "someone")
    assert "DATABASE_URL" not in env
    assert env["PATH"] == os.environ["PATH"]


def test_ratio_says_how_many_times_shelfmark_is_ahead_for_rates_and_latencies():
    assert ratio("import_rows_per_s", 5000, 1000) == 5.0
    assert ratio("pair_p95_ms", 20, 80) == 4.0
    assert ratio("pairs_per_s", 10, 20) == 0.5
    assert ratio("export_rows_per_s", 100_000, None) is None


def test_side_by_side_has_a_row_per_figure_and_scale_and_the_latency_growth():
    scales = {
        "10000": {"shelfmark": {"pairs_per_s": 50.0, "pair_p95_ms": 40.0},
                  "label_studio": {"pairs_per_s": 10.0, "pair_p95_ms": 200.0}},
        "100000": {"shelfmark": {"pairs_per_s": 48.0, "pair_p95_ms": 42.0},
                   "label_studio": {"pairs_per_s": 5.0, "pair_p95_ms": 400.0}},
    }
    lines = side_by_side(scales)
    assert "| next + submit, pairs/s | 10,000 | 50.0 | 10.0 | 5.0x |" in lines
    assert "| next + submit, pair p95 ms | 100,000 | 42.0 | 400 | 9.5x |" in lines
    assert "| export, rows/s | 10,000 | n/a | n/a | n/a |" in lines
    assert growth(scales) == {"shelfmark": 1.05, "label_studio": 2.0}
