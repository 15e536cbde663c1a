"""The "fast" flag of the annotators table: implausibly fast, as the README promises."""

import numpy as np

from labeling.quality.annotators import annotator_stats


def team(*members: tuple[int, int, float]) -> dict[int, dict]:
    """(rater, labels, seconds a label) -> annotator_stats rows by rater; every rater labels items 0.. at random."""
    rng = np.random.default_rng(0)
    ratings, seconds = [], []
    for rater, count, each in members:
        ratings += [(item, rater, int(rng.integers(0, 5))) for item in range(count)]
        seconds += [each] * count
    rows = annotator_stats(np.array(ratings), np.array(seconds), gold={})
    return {row["rater"]: row for row in rows}


def test_a_median_of_0_8_seconds_is_fast_even_in_a_quick_team():
    # The team's median is 1.4 s: a third of it (0.46 s) would let 0.8 s pass.
    rows = team((1, 30, 0.8), (2, 30, 2.0))
    assert "fast" in rows[1]["flags"]


def test_a_quick_but_plausible_annotator_is_not_fast():
    rows = team((1, 30, 0.8), (2, 30, 2.0))
    assert "fast" not in rows[2]["flags"]


def test_a_prolific_fast_annotator_is_judged_against_the_others():
    # 200 labels at 2.5 s make the team's median 2.5 s; the others take 9 s.
    rows = team((1, 200, 2.5), (2, 20, 9.0), (3, 20, 9.0))
    assert "fast" in rows[1]["flags"]


def test_an_annotator_at_the_teams_pace_is_not_fast():
    rows = team((1, 30, 6.0), (2, 30, 7.0), (3, 30, 8.0))
    assert all("fast" not in row["flags"] for row in rows.values())


def test_fewer_labels_than_needed_to_judge_are_not_flagged():
    rows = team((1, 19, 0.5), (2, 30, 6.0))
    assert rows[1]["flags"] == []
