from bench.p11_span_learning import reached, report, summary


def _curve(*f1s: float | None) -> list[dict]:
    return [{"labels": 50 * (i + 1), "f1": f1, "macro_f1": f1, "precision": f1, "recall": f1}
            for i, f1 in enumerate(f1s)]


def test_reached_is_the_first_checkpoint_the_curve_stays_at_the_bar():
    assert reached(_curve(0.5, 0.8, 0.7, 0.8, 0.9), 0.8) == 200


def test_reached_ignores_an_early_touch_and_a_failed_training():
    assert reached(_curve(0.8, None, 0.7), 0.8) is None


def test_summary_counts_a_seed_that_never_matches_as_the_labels():
    runs = {"1": {"labels_to_match_random": {"margin": 100}}, "2": {"labels_to_match_random": {"margin": None}}}
    assert summary(runs, ["margin"], 400) == {"margin": {"per_seed": [100, None], "mean": 250}}


def test_report_has_a_row_per_checkpoint_and_the_mean():
    totals = {"label_s": 1, "train_s": 2, "rescore_s": 3, "eval_s": 4, "wall_s": 10}
    run = {"seed": 1, "pool": 80, "heldout": 20, "heldout_spans": 60, "random_f1_at_end": 0.8,
           "labels_to_match_random": {"margin": 100},
           "runs": {"random": {"curve": _curve(0.6, 0.8), "totals": totals, "seconds": 11},
                    "margin": {"curve": _curve(0.7, 0.85), "totals": totals, "seconds": 12}}}
    result = {"measured": "now", "products": 100, "labels": 100, "batch": 50, "strategies": ["margin"],
              "seeds": {"1": run}, "labels_to_match_random": summary({"1": run}, ["margin"], 100)}

    page = report(result)

    assert "| 50 | 0.6 | 0.7 | 0.6 | 0.7 |" in page
    assert "| margin | 100 | **100** |" in page
