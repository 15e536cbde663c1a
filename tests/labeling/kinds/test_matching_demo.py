import csv
import io
import re

from datasets.importers import PairRow, pair_key, parse_pairs
from labeling.kinds.matching.demo import demo_pairs


def normalized(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def model_of(mpn: str) -> str:
    """NP-5702-128GB -> np5702: the model number, without the capacity or size code."""
    return normalized(re.match(r"[A-Za-z]+-?\d+", mpn)[0])


def both_mpns(rows: list[dict], label: int) -> list[tuple[str, str]]:
    """(left, right) part numbers of the pairs with `label` where both offers give one."""
    chosen = [row for row in rows if row["label"] == label]
    return [(row["left_mpn"], row["right_mpn"]) for row in chosen if row["left_mpn"] and row["right_mpn"]]


def test_the_same_count_and_seed_give_the_same_rows():
    assert demo_pairs(count=60, seed=4) == demo_pairs(count=60, seed=4)


def test_another_seed_gives_other_rows():
    assert demo_pairs(count=60, seed=4) != demo_pairs(count=60, seed=5)


def test_half_the_pairs_are_matches():
    assert [row["label"] for row in demo_pairs(count=201, seed=1)].count(1) == 101
    assert [row["label"] for row in demo_pairs(count=200, seed=1)].count(1) == 100


def test_matches_share_the_part_number_and_every_title_holds_its_model_number():
    rows = demo_pairs(count=300, seed=2)
    pairs = both_mpns(rows, 1)
    assert len(pairs) > 50
    assert all(normalized(left) == normalized(right) for left, right in pairs)
    for row in rows:
        for side in ("left", "right"):
            if row[f"{side}_mpn"]:
                assert model_of(row[f"{side}_mpn"]) in normalized(row[f"{side}_title"])


def test_non_matches_differ_in_part_number_but_are_close_models_of_one_brand():
    rows = demo_pairs(count=300, seed=2)
    pairs = both_mpns(rows, 0)
    assert len(pairs) > 50
    assert all(normalized(left) != normalized(right) for left, right in pairs)
    # Hard negatives: one product line, whose model numbers differ in the last digit at most.
    assert all(model_of(left)[:-1] == model_of(right)[:-1] for left, right in pairs)
    branded = [row for row in rows if row["label"] == 0 and row["left_brand"] and row["right_brand"]]
    assert branded and all(row["left_brand"] == row["right_brand"] for row in branded)


def test_matching_offers_are_written_differently():
    rows = [row for row in demo_pairs(count=200, seed=3) if row["label"] == 1]
    assert sum(row["left_title"] != row["right_title"] for row in rows) > 0.9 * len(rows)


def test_no_pair_repeats_and_an_offer_keeps_its_fields_across_pairs():
    rows = demo_pairs(count=400, seed=6)
    keys = [pair_key(row["left_id"], row["right_id"]) for row in rows]
    assert len(set(keys)) == len(keys)
    offers: dict[str, tuple] = {}
    for row in rows:
        for side in ("left", "right"):
            fields = tuple(row[f"{side}_{name}"] for name in ("title", "brand", "price", "description", "mpn"))
            assert offers.setdefault(row[f"{side}_id"], fields) == fields
    assert len(offers) < 2 * len(rows)  # offers are reused


def test_the_rows_import_as_pairs_without_errors():
    rows = demo_pairs(count=100, seed=7)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    items = list(parse_pairs(io.BytesIO(buffer.getvalue().encode()), filename="demo.csv"))
    assert len(items) == 100 and all(isinstance(item, PairRow) for item in items)
    assert [item.label for item in items] == [row["label"] == 1 for row in rows]
