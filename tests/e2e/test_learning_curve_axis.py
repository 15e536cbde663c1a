"""The models page's learning curve names its x-axis ticks, whatever range of labels its points span."""

import json

import pytest

SCRIPTS = ("/static/js/vendor/chart.umd.min.js", "/static/js/model_charts.js")


def tick_labels(page, points: list[list[float]]) -> list[str]:
    """Draw the curve of these points on a bare page of the app (its CSP applies) and read the x-axis labels."""
    page.goto("/login/")
    data = {"points": points, "curve": [], "target": 0.9}
    page.evaluate(
        """data => {
            const box = document.createElement("div");
            box.style.width = "800px"; box.style.height = "300px";
            const canvas = document.createElement("canvas"); canvas.id = "learning-curve"; box.append(canvas);
            const source = document.createElement("script"); source.type = "application/json"; source.id = "curve-data";
            source.textContent = JSON.stringify(data);
            document.body.append(box, source);
        }""",
        data,
    )
    for src in SCRIPTS:
        page.add_script_tag(url=src)
    page.wait_for_function("() => window.Chart && window.Chart.getChart('learning-curve')")
    labels = page.evaluate("() => window.Chart.getChart('learning-curve').scales.x.ticks.map(t => t.label)")
    return [label for label in labels if label]


@pytest.mark.browser
def test_points_within_one_decade_still_get_numbers(page):
    labels = tick_labels(page, [[310, 0.6, 0.5, 0.7], [420, 0.65, 0.55, 0.75], [580, 0.7, 0.6, 0.8]])
    assert len(labels) >= 2 and all(label.replace(",", "").isdigit() for label in labels), json.dumps(labels)


@pytest.mark.browser
def test_points_over_decades_are_labeled_at_round_numbers(page):
    labels = tick_labels(page, [[50, 0.5, 0.4, 0.6], [200, 0.6, 0.5, 0.7], [1000, 0.7, 0.6, 0.8]])
    assert {"100", "200", "500", "1,000"} <= set(labels), json.dumps(labels)
