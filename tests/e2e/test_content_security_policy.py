"""Under the Content-Security-Policy every page's scripts still run, and nothing is blocked on the way."""

import pytest
from django.conf import settings

from labeling.quality.report import quality_report_request, quality_report_run
from tests.conftest import log_in
from tests.factories import UserFactory
from tests.labeling.quality_team import quality_team

pytestmark = pytest.mark.browser

# Records what the browser refused, before any script of the page runs.
LISTEN = """
window.__blocked = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__blocked.push(`${e.violatedDirective} ${e.blockedURI} ${location.pathname}`);
});
"""


class Watch:
    """Every CSP violation seen by the page: the DOM event and the console's report of it."""

    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        page.context.add_init_script(LISTEN)
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(message.text)

    def visit(self, path: str) -> None:
        response = self.page.goto(path)
        assert response.ok, f"{path} answered {response.status}"
        assert "script-src 'self'" in response.headers["content-security-policy"]
        self.page.wait_for_load_state("load")
        assert self.blocked() == [], path

    def blocked(self) -> list[str]:
        return self.page.evaluate("window.__blocked") + self.console


@pytest.fixture
def watch(page):
    return Watch(page)


def chart_drawn(page, canvas_id: str) -> bool:
    page.wait_for_function("() => typeof Chart !== 'undefined'")
    return page.evaluate(f"() => !!Chart.getChart(document.getElementById('{canvas_id}'))")


def test_an_inline_script_is_refused_and_reported(watch, transactional_db):
    UserFactory(username="lead")
    log_in(watch.page, "lead")
    watch.visit("/datasets/")
    watch.page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.ran = true";
                   document.body.append(s); }"""
    )
    watch.page.wait_for_function("() => window.__blocked.length > 0")
    assert watch.page.evaluate("window.ran") is None
    assert any(entry.startswith("script-src") for entry in watch.page.evaluate("window.__blocked"))


def test_every_page_of_a_lead_runs_its_scripts_under_the_policy(watch, transactional_db):
    team = quality_team()
    dataset, task = team.dataset, team.tasks[0]
    quality_report_run(report_id=quality_report_request(dataset=dataset, user=None, enqueue=False).pk)
    page = watch.page
    log_in(page, "lead")

    watch.visit("/datasets/")
    assert page.evaluate("() => [htmx.config.allowEval, htmx.config.includeIndicatorStyles]") == [False, False]
    assert page.locator("head style").count() == 0
    for path in ("/datasets/new/", f"/datasets/{dataset.pk}/exports/", f"/datasets/{dataset.pk}/experiments/"):
        watch.visit(path)
    watch.visit(f"/datasets/{dataset.pk}/tasks/{task.pk}/history/")

    watch.visit(f"/datasets/{dataset.pk}/")
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true", timeout=8_000):
        pass  # the progress card polls through htmx every 5 s

    watch.visit(f"/datasets/{dataset.pk}/quality/")
    assert chart_drawn(page, "chart-distribution") and chart_drawn(page, "chart-agreement")

    watch.visit(f"/datasets/{dataset.pk}/models/")
    if page.locator("#curve-data").count():
        assert chart_drawn(page, "learning-curve")

    watch.visit(f"/datasets/{dataset.pk}/review/")
    watch.visit(f"/datasets/{dataset.pk}/annotate/")
    page.wait_for_selector("#task-panel[data-ready='true']")
    page.fill("#label-search", "Lamps")
    page.wait_for_selector("#label-results :text('Home > Lamps')")
    assert watch.blocked() == []


def test_the_api_docs_and_the_admin_run_their_scripts_under_the_policy(watch, transactional_db):
    UserFactory(username="root", is_superuser=True, is_staff=True)
    page = watch.page
    log_in(page, "root")
    watch.visit("/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert watch.blocked() == []
    watch.visit("/admin/")
    watch.visit("/admin/datasets/dataset/add/")
    watch.visit("/admin/datasets/dataset/")
    assert page.evaluate("() => typeof django !== 'undefined' && typeof django.jQuery") == "function"
    watch.visit("/api/datasets/")
    assert watch.blocked() == []


def test_a_person_locked_out_is_told_when_to_try_again(watch, transactional_db):
    UserFactory(username="ann")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(watch.page, "ann", "wrong")
    log_in(watch.page, "ann")
    watch.page.wait_for_selector("h1:text('Too many login attempts')")
    assert "Try again in 15 minutes" in watch.page.inner_text("main")
    assert watch.blocked() == []
