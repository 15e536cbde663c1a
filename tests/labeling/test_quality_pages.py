"""The quality dashboard: every section from a report computed on a small team, the recompute and its poll."""

import json
import re

import pytest
from django.urls import reverse

from datasets.models import Role
from labeling.imports import imported_answers_write
from labeling.models import QualityReport, QualityStatus
from labeling.quality.report import quality_report_request, quality_report_run
from labeling.quality_display import DASH, day_chart_width, decimal, gold_text, percent
from labeling.services import annotation_submit
from tests.factories import DatasetFactory, MatchingDatasetFactory, ProductFactory, TaskFactory, member, pair_task
from tests.labeling.quality_team import quality_team

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def team():
    return quality_team()


def page_url(dataset) -> str:
    return reverse("labeling:quality", args=[dataset.pk])


def compute_url(dataset) -> str:
    return reverse("labeling:quality-compute", args=[dataset.pk])


def computed(dataset) -> QualityReport:
    return quality_report_run(report_id=quality_report_request(dataset=dataset, user=None).pk)


def lead_client(client, team):
    client.force_login(team.lead)
    return client


def section(html: str, element_id: str) -> str:
    """The HTML of the element with this id, up to the end of its section, without the space between tags."""
    start = html.index(f'id="{element_id}"')
    return re.sub(r">\s+<", "><", html[start : html.index("</section>", start)])


def chart_data(html: str) -> dict:
    match = re.search(r'<script id="quality-charts" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def test_figures_read_as_text_and_undefined_ones_as_a_dash():
    assert (percent(None), decimal(None), percent(0.8125, 1), decimal(0.81234)) == (DASH, DASH, "81.2%", "0.812")
    row = {"gold_items": 10, "gold_correct": 8, "gold_accuracy": 0.8, "gold_interval": [0.490, 0.943]}
    assert gold_text(row) == "80% (49-94%) of 10"
    assert gold_text({"gold_items": 0}) == DASH


def test_the_page_shows_the_summary_figures_of_the_latest_report(client, team):
    figures = computed(team.dataset).figures
    html = lead_client(client, team).get(page_url(team.dataset)).content.decode()
    summary = section(html, "summary")
    assert "<dd>96</dd>" in summary and "<dd>24</dd>" in summary  # answers, products (all with 2+ answers)
    assert percent(figures["percent_agreement"], 1) in summary
    assert decimal(figures["fleiss"]["kappa"]) in summary and "24 products with 4 answers each" in summary
    assert decimal(figures["alpha"]) in summary
    assert "<dt>Gold items</dt><dd>4</dd>" in summary
    assert 'id="answers-included">96<' in html and "It includes every answer given so far." in html


def test_agreement_per_level_is_shown_for_a_taxonomy_of_two_levels(client, team):
    levels = computed(team.dataset).figures["levels"]
    html = lead_client(client, team).get(page_url(team.dataset)).content.decode()
    table = html[html.index('id="levels"') :]
    assert [level["depth"] for level in levels] == [1, 2]
    for level in levels:
        agreement = percent(level["percent_agreement"], 1)
        assert f"<td>{level['depth']}</td><td>{level['ratings']}</td><td>{agreement}</td>" in table


def test_each_chart_has_its_data_and_a_table_of_its_numbers(client, team):
    figures = computed(team.dataset).figures
    html = lead_client(client, team).get(page_url(team.dataset)).content.decode()
    data = chart_data(html)
    for name in ("progress", "throughput", "distribution", "agreement"):
        assert f'id="chart-{name}"' in html and f'id="table-{name}"' in html
    days = [day["day"] for day in figures["activity"]]
    assert data["progress"] == {"labels": days, "values": [day["labeled_total"] for day in figures["activity"]]}
    assert data["throughput"]["values"] == [day["answers"] for day in figures["activity"]]
    assert sum(data["throughput"]["values"]) == 96 and data["progress"]["values"][-1] == 24
    # Kettles: 4 answers from each of the three careful annotators, one slip of ann3's and 24 from the lazy one.
    assert data["distribution"]["labels"][0] == "Home > Kettles" and data["distribution"]["values"][0] == 37
    assert "<td class=\"text\">Home &gt; Kettles</td><td>37</td>" in section(html, "table-distribution")
    assert data["agreement"]["values"] == sorted(data["agreement"]["values"])
    worst = min(figures["per_label"], key=lambda row: row["specific_agreement"])
    assert data["agreement"]["labels"][0] == worst["path"]
    assert percent(worst["specific_agreement"], 1) in section(html, "table-agreement")
    assert "js/quality_charts.js" in html and "chart.umd.min.js" in html


def test_the_annotators_table_shows_speed_agreement_gold_and_flags(client, team):
    figures = computed(team.dataset).figures
    html = lead_client(client, team).get(page_url(team.dataset)).content.decode()
    table = section(html, "annotators")
    lazy_row = table[table.index("<td class=\"text\">lazy</td>") :].split("</tr>")[0]
    lazy = next(row for row in figures["annotators"] if row["name"] == "lazy")
    assert "<td>24</td><td>1</td><td>3600.0</td><td>1.0</td>" in lazy_row  # labels, skips, per hour, median seconds
    assert "<td>17% of 24</td>" in lazy_row  # right only where the others' majority was Kettles: 4 of 24
    assert "<td>25% (5-70%) of 4</td>" in lazy_row
    assert f"<td>{decimal(lazy['distribution_distance'], 2)}</td>" in lazy_row
    assert all(f'<span class="badge flag">{flag}</span>' in lazy_row for flag in ("fast", "same label"))
    ann1_row = table[table.index("<td class=\"text\">ann1</td>") :].split("</tr>")[0]
    # Out of the majority count: two products where the others tie; against it: the last, where ann3 slipped to Kettles.
    assert "<td>95% of 22</td>" in ann1_row and "<td>100% (51-100%) of 4</td>" in ann1_row and "badge" not in ann1_row


def test_cohen_kappa_is_listed_per_pair_of_annotators(client, team):
    pairs = computed(team.dataset).figures["pairs"]
    html = lead_client(client, team).get(page_url(team.dataset)).content.decode()
    table = section(html, "pairs")
    assert len(pairs) == 6 and table.count("<tr>") == 7  # the header and one row per pair
    perfect = next(pair for pair in pairs if {pair["name_a"], pair["name_b"]} == {"ann1", "ann2"})
    assert '<td class="text">ann1</td><td class="text">ann2</td><td>24</td><td>100.0%</td><td>1.000</td>' in table
    assert perfect["kappa"] == 1.0


def test_the_confusion_between_annotators_is_a_shaded_heat_map(client, team):
    confusion = computed(team.dataset).figures["confusion"]
    html = lead_client(client, team).get(page_url(team.dataset)).content.decode()
    heatmap = section(html, "confusion")
    assert heatmap.count('<th scope="row"') == len(confusion["labels"]) == 6
    kettles = confusion["labels"].index("Home > Kettles")
    lamps = confusion["labels"].index("Home > Lamps")
    count = confusion["matrix"][kettles][lamps]
    assert count > 0 and f"Home &gt; Kettles with Home &gt; Lamps: {count} (" in heatmap
    assert "background-color: rgba(36, 86, 166, " in heatmap and "background-color: rgba(180, 35, 24, " in heatmap


def test_an_empty_report_shows_dashes_and_skips_the_empty_sections(client):
    dataset = DatasetFactory()
    client.force_login(member(dataset, "lead", Role.LEAD))
    computed(dataset)
    html = client.get(page_url(dataset)).content.decode()
    summary = section(html, "summary")
    assert f"<dt>Percent agreement</dt><dd>{DASH}</dd>" in summary
    assert f"<dt>Krippendorff&#x27;s alpha</dt><dd>{DASH}</dd>" in summary
    for absent in ('id="charts"', 'id="annotators"', 'id="pairs"', 'id="confusion"', 'id="levels"', "quality-charts"):
        assert absent not in html


def test_a_first_visit_queues_a_report_and_polls_its_status(client, django_capture_on_commit_callbacks):
    dataset = DatasetFactory()
    client.force_login(member(dataset, "lead", Role.LEAD))
    with django_capture_on_commit_callbacks() as callbacks:
        html = client.get(page_url(dataset)).content.decode()
        client.get(page_url(dataset))
    report = QualityReport.objects.get(dataset=dataset)
    assert report.status == QualityStatus.QUEUED and len(callbacks) == 1
    assert "No report is ready yet." in html and 'data-status="queued"' in html
    assert f'hx-get="{page_url(dataset)}?poll=1" hx-trigger="every 2s"' in html


def test_a_failed_computation_is_shown_and_not_requested_again(client, team):
    QualityReport.objects.create(dataset=team.dataset, status=QualityStatus.FAILED, message="Out of memory.")
    html = lead_client(client, team).get(page_url(team.dataset)).content.decode()
    assert "The last computation failed: Out of memory." in html
    assert QualityReport.objects.filter(dataset=team.dataset).count() == 1


def test_recompute_joins_the_report_already_waiting(client, team, django_capture_on_commit_callbacks):
    computed(team.dataset)
    lead_client(client, team)
    with django_capture_on_commit_callbacks():
        first = client.post(compute_url(team.dataset), follow=True).content.decode()
        second = client.post(compute_url(team.dataset), follow=True).content.decode()
    assert QualityReport.objects.filter(dataset=team.dataset, status=QualityStatus.QUEUED).count() == 1
    assert "A new report is queued" in first and "already waiting" in second
    assert 'data-status="queued"' in second and 'id="summary"' in second  # the old figures stay until then


def test_recompute_over_htmx_answers_with_the_status_partial(client, team, django_capture_on_commit_callbacks):
    computed(team.dataset)
    with django_capture_on_commit_callbacks():
        response = lead_client(client, team).post(compute_url(team.dataset), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="quality-status"')
    assert "<html" not in html and "every 2s" in html and "A new report is queued" in html


def test_the_poll_reloads_the_page_once_the_report_is_ready(client, team):
    report = quality_report_request(dataset=team.dataset, user=None)
    lead_client(client, team)
    waiting = client.get(page_url(team.dataset) + "?poll=1", headers=HTMX)
    assert "every 2s" in waiting.content.decode() and "HX-Refresh" not in waiting
    quality_report_run(report_id=report.pk)
    ready = client.get(page_url(team.dataset) + "?poll=1", headers=HTMX)
    assert ready["HX-Refresh"] == "true"


def test_answers_given_after_the_report_are_announced(client, team):
    computed(team.dataset)
    annotation_submit(task=TaskFactory(dataset=team.dataset), user=team.annotator, label=team.leaves[1])
    html = lead_client(client, team).get(page_url(team.dataset)).content.decode()
    assert "1 answer given or changed since this report; recompute to include it." in html


def test_a_changed_answer_is_announced_too(client, team):
    computed(team.dataset)
    annotation_submit(task=team.tasks[0], user=team.annotator, label=team.leaves[5])
    html = lead_client(client, team).get(page_url(team.dataset)).content.decode()
    assert 'id="newer-answers">1 answer given or changed' in html


def test_annotators_cannot_see_the_quality_page(client, team):
    client.force_login(team.annotator)
    response = client.get(page_url(team.dataset))
    assert response.status_code == 403 and "Annotators cannot see others&#x27; statistics." in response.content.decode()
    assert client.post(compute_url(team.dataset)).status_code == 403
    assert not QualityReport.objects.filter(dataset=team.dataset).exists()


def test_outsiders_do_not_find_the_quality_page(client, team):
    client.force_login(member(DatasetFactory(), "stranger", Role.LEAD))
    assert client.get(page_url(team.dataset)).status_code == 404
    assert client.post(compute_url(team.dataset)).status_code == 404


def test_the_dataset_page_links_to_quality_for_leads_only(client, team):
    detail = reverse("workspace:detail", args=[team.dataset.pk])
    assert page_url(team.dataset) in lead_client(client, team).get(detail).content.decode()
    client.force_login(team.annotator)
    assert page_url(team.dataset) not in client.get(detail).content.decode()


@pytest.fixture
def matching_team():
    """Ten pairs answered by three annotators (Cohen's kappa needs ten in common; ann3 says no match to two the
    others match), and an import labeling two."""
    dataset = MatchingDatasetFactory(name="Pairs", overlap=3)
    labels = {label.name: label for label in dataset.labels.all()}
    lead = member(dataset, "lead", Role.LEAD)
    users = [member(dataset, f"ann{n}") for n in (1, 2, 3)]
    pairs = [
        pair_task(dataset, ProductFactory(dataset=dataset), ProductFactory(dataset=dataset)) for _ in range(10)
    ]
    for n, pair in enumerate(pairs):
        for user in users:
            differs = user.username == "ann3" and n < 2
            annotation_submit(task=pair, user=user, label=labels["no match" if differs or n >= 6 else "match"])
    imported_answers_write(dataset=dataset, answers={pairs[0].pk: labels["match"], pairs[9].pk: labels["no match"]},
                           source_name="offers-feed")
    return dataset, lead


def test_a_matching_dataset_counts_pairs_and_shows_its_two_class_agreement(client, matching_team):
    dataset, lead = matching_team
    report = computed(dataset)
    client.force_login(lead)
    html = client.get(page_url(dataset)).content.decode()
    summary = section(html, "summary")
    assert "<dt>Pairs</dt><dd>10</dd>" in summary and "<dt>Pairs with 2+ answers</dt><dd>10</dd>" in summary
    assert "products" not in summary.lower()
    assert decimal(report.figures["fleiss"]["kappa"]) in summary and decimal(report.figures["alpha"]) in summary
    confusion = section(html, "confusion")
    assert 'title="match"' in confusion and 'title="no match"' in confusion
    assert "Pairs both answered" in section(html, "pairs")
    assert "offers-feed (2 pairs)" in section(html, "gold")


def test_gold_promoted_from_an_import_of_pairs_is_announced_as_pairs(client, matching_team):
    dataset, lead = matching_team
    client.force_login(lead)
    response = client.post(reverse("labeling:quality-gold", args=[dataset.pk]), {"source": "offers-feed"}, follow=True)
    assert "2 pairs from &#x27;offers-feed&#x27; are now gold items" in response.content.decode()


def test_a_few_days_of_charts_are_as_wide_as_their_points_need():
    assert day_chart_width({"progress": {"labels": ["2026-12-01"], "values": [3]}}) == "13rem"
    assert day_chart_width({"progress": {"labels": [f"d{i}" for i in range(30)], "values": [1] * 30}}) == "none"


def test_the_day_charts_carry_their_width(client, team):
    computed(team.dataset)
    html = lead_client(client, team).get(page_url(team.dataset)).content.decode()
    days = len(chart_data(html)["progress"]["labels"])
    assert html.count(f'class="chart-box days" style="max-width: {8 + 5 * days}rem"') == 2
