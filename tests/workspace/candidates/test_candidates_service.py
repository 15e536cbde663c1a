"""Candidate generation on a small two-shop catalog: what it proposes, what it writes, what it reports."""

import numpy as np
import pytest

from config.errors import ApplicationError
from labeling.kinds.matching.blocking import BlockingConfig, pair_codes
from labeling.kinds.matching.candidates import candidates_generate, known_match_codes
from labeling.models import Task
from tests.factories import DatasetFactory, ProductFactory
from tests.workspace.candidates.conftest import label_match
from workspace.services.candidates import blocking_config_clean

pytestmark = pytest.mark.django_db


def task_pairs(dataset) -> set[frozenset[int]]:
    rows = Task.objects.filter(dataset=dataset).values_list("product_id", "other_product_id")
    return {frozenset((low, high)) for low, high in rows}


def pair_task_of(dataset, a, b) -> Task:
    return Task.objects.get(dataset=dataset, product_id=min(a.pk, b.pk), other_product_id=max(a.pk, b.pk))


def test_duplicates_across_shops_become_tasks_with_their_similarity(shops):
    config = BlockingConfig(k=3, source_field="shop")
    report = candidates_generate(dataset=shops.dataset, config=config)

    found = task_pairs(shops.dataset)
    assert all(frozenset((a.pk, b.pk)) in found for a, b in shops.pairs)
    assert report["products"] == 47 and report["sources"] == 2
    assert report["new_pairs"] == report["candidates"] == len(found) and report["existing_pairs"] == 0
    assert report["possible_pairs"] == 47 * 46 // 2
    assert report["reduction_ratio"] == pytest.approx(1 - len(found) / (47 * 46 // 2))
    assert set(report["timings"]) == {"read_s", "block_s", "write_s"} and report["peak_memory_mb"] > 0
    a, b = shops.pairs[5]
    task = pair_task_of(shops.dataset, a, b)
    assert 0.3 <= task.attributes["similarity"] <= 1 and task.attributes["by_key"] is True  # the model number
    # The lower id on the left, as every pair the dataset holds.
    assert (task.swapped, task.left_id, task.right_id) == (False, min(a.pk, b.pk), max(a.pk, b.pk))


def test_a_shared_gtin_is_proposed_by_key_whatever_the_titles(shops):
    report = candidates_generate(dataset=shops.dataset, config=BlockingConfig(source_field="shop"))
    a, b = shops.gtin_pair
    task = pair_task_of(shops.dataset, a, b)
    assert task.attributes["by_key"] is True
    assert report["by_key_only"] >= 1
    without_keys = BlockingConfig(source_field="shop", keys=())
    other = DatasetFactory(task_type="matching")
    assert candidates_generate(dataset=other, config=without_keys)["candidates"] == 0  # no products, no pairs


def test_pairs_within_one_shop_are_skipped_when_asked(shops):
    shop = {product.pk: product.attributes["shop"] for a, b in [*shops.pairs, *shops.twins] for product in (a, b)}
    candidates_generate(dataset=shops.dataset, config=BlockingConfig(k=3, source_field="shop", skip_same_source=True))
    found = task_pairs(shops.dataset)
    assert all(frozenset((a.pk, b.pk)) not in found for a, b in shops.twins)
    assert all(frozenset((a.pk, b.pk)) in found for a, b in shops.pairs)
    assert all(len({shop[pk] for pk in pair}) == 2 for pair in found if set(pair) <= set(shop))


def test_without_skipping_the_near_duplicates_of_one_shop_are_proposed_too(shops):
    candidates_generate(dataset=shops.dataset, config=BlockingConfig(k=3, source_field="shop"))
    found = task_pairs(shops.dataset)
    assert all(frozenset((a.pk, b.pk)) in found for a, b in shops.twins)


def test_a_second_run_adds_nothing_and_imported_pairs_keep_their_attributes(shops):
    a, b = shops.pairs[0]
    imported = label_match(shops.dataset, a, b, attributes={"split": "test"})
    config = BlockingConfig(k=3, source_field="shop", skip_same_source=True)
    first = candidates_generate(dataset=shops.dataset, config=config)
    tasks = Task.objects.filter(dataset=shops.dataset).count()

    again = candidates_generate(dataset=shops.dataset, config=config)

    assert again["new_pairs"] == 0 and again["existing_pairs"] == again["candidates"] == first["candidates"]
    assert first["existing_pairs"] == 1 and first["new_pairs"] == first["candidates"] - 1
    assert Task.objects.filter(dataset=shops.dataset).count() == tasks
    imported.refresh_from_db()
    assert imported.attributes == {"split": "test"}


def test_pair_completeness_is_the_share_of_labeled_matches_among_the_candidates(shops):
    assert candidates_generate(dataset=shops.dataset, config=BlockingConfig(k=3))["pair_completeness"] is None
    for a, b in (shops.pairs[1], shops.hidden_match):
        label_match(shops.dataset, a, b)
    no_match = shops.pairs[2]
    task = label_match(shops.dataset, *no_match)
    task.annotations.update(label=shops.dataset.labels.get(code="0"))
    known = known_match_codes(dataset=shops.dataset)
    assert np.array_equal(
        np.sort(known),
        np.sort(
            pair_codes(
                [shops.pairs[1][0].pk, shops.hidden_match[0].pk], [shops.pairs[1][1].pk, shops.hidden_match[1].pk]
            )
        ),
    )

    report = candidates_generate(dataset=shops.dataset, config=BlockingConfig(k=3, source_field="shop"))

    assert report["known_matches"] == 2
    assert report["pair_completeness"] == 0.5  # the hidden match has nothing in common blocking could see


def test_progress_goes_through_every_phase_and_check_can_stop_the_run(shops):
    seen: list[tuple[str, float]] = []
    candidates_generate(dataset=shops.dataset, config=BlockingConfig(), progress=lambda p, f: seen.append((p, f)))
    assert [phase for phase, _ in seen] == sorted((phase for phase, _ in seen), key=["read", "block", "write"].index)
    assert {phase for phase, fraction in seen if fraction == 1.0} == {"read", "block", "write"}

    class Stop(Exception):
        pass

    def stop() -> None:
        raise Stop

    Task.objects.filter(dataset=shops.dataset).delete()
    with pytest.raises(Stop):
        candidates_generate(dataset=shops.dataset, config=BlockingConfig(), check=stop)
    assert not Task.objects.filter(dataset=shops.dataset).exists()


def test_a_source_read_from_a_product_column(shops):
    for a, b in shops.pairs:
        ProductFactory._meta.model.objects.filter(pk=a.pk).update(currency="EUR")
        ProductFactory._meta.model.objects.filter(pk=b.pk).update(currency="USD")
    report = candidates_generate(
        dataset=shops.dataset, config=BlockingConfig(k=3, source_field="currency", skip_same_source=True)
    )
    assert report["sources"] == 3  # EUR, USD and the products with no currency ("")
    assert all(frozenset((a.pk, b.pk)) in task_pairs(shops.dataset) for a, b in shops.pairs)


def test_skipping_within_one_source_needs_two_sources(shops):
    with pytest.raises(ApplicationError, match="at least two sources") as error:
        candidates_generate(
            dataset=shops.dataset, config=BlockingConfig(source_field="merchant", skip_same_source=True)
        )
    assert error.value.extra["source_field"] == "merchant"
    assert not Task.objects.filter(dataset=shops.dataset).exists()


@pytest.mark.parametrize(
    ("settings", "field", "words"),
    [
        ({"k": 0}, "k", "k must be"),
        ({"k": "ten"}, "non_field_errors", "must be numbers"),
        ({"fields": "title,colour"}, "fields", "unknown: colour"),
        ({"min_similarity": 1.5}, "min_similarity", "below 1"),
        ({"keys": ["isbn"]}, "keys", "unknown: isbn"),
        ({"speed": 3}, "non_field_errors", "Unknown blocking setting"),
        ({"skip_same_source": True, "source_field": " "}, "source_field", "Name the source field"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(settings, field, words):
    with pytest.raises(ApplicationError, match=words) as error:
        blocking_config_clean(settings)
    assert list(error.value.extra["fields"]) == [field]


def test_a_categorization_dataset_is_refused():
    dataset = DatasetFactory()
    ProductFactory(dataset=dataset)
    with pytest.raises(ApplicationError, match="matching datasets"):
        candidates_generate(dataset=dataset, config=BlockingConfig())
