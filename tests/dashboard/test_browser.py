"""The dashboard in a real browser: every page of the small built world loads in headless Chromium without a
Streamlit exception, and the numbers it shows are the published database's."""

from __future__ import annotations

import os

import pytest

from tests.conftest import query
from tests.dashboard import browser

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pages(published_world, tmp_path_factory):
    if browser.chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver must be installed in CI (.ci/run runs `make browser`)")
        pytest.skip("chromium and chromedriver are not installed here: `make browser` (Debian packages, root)")
    env = published_world.env()
    return browser.view_all(env, out=tmp_path_factory.mktemp("screenshots"))


def test_every_page_loads_without_an_exception_and_draws_charts(pages):
    assert set(pages) == set(browser.PAGES)
    for path, page in pages.items():
        assert page.exceptions == [], f"/{path} shows a Streamlit exception: {page.exceptions}"
        assert "Traceback" not in page.text, f"/{path} shows a traceback"
        assert page.screenshot is not None and page.screenshot.stat().st_size > 10_000
    assert pages[""].charts >= 2  # the Empathy Score trend and the emotion mix
    assert pages["quality"].charts >= 3


def test_overview_counts_the_published_customers(pages, published_world):
    (customers,) = query(published_world.published, "select count(*) from marts.dim_customers")[0]
    assert pages[""].metrics["Customers"] == f"{customers:,}"


def test_quality_counts_the_latest_gate_runs_checks(pages, published_world):
    ((checks, failed),) = query(
        published_world.published,
        "select count(*), count(*) filter (where not success) from audit.gate_results"
        " where run_id = (select max(run_id) from audit.gate_results)",
    )
    assert pages["quality"].metrics["Checks in the latest gate run"] == f"{checks:,}"
    assert pages["quality"].metrics["Failed checks"] == f"{failed:,}"


@pytest.mark.parametrize(
    ("path", "mart", "metric"),
    [
        pytest.param("customers", "fct_churn_scores", "Scored customers", id="churn-scores"),
        pytest.param("models", "fct_model_backtests", None, id="backtests"),
    ],
)
def test_a_page_shows_its_mart_or_the_builds_reason_for_none(pages, published_world, path, mart, metric):
    (rows,) = query(published_world.published, f"select count(*) from marts.{mart}")[0]
    page = pages[path]
    if rows:
        assert page.charts >= 1
        if metric:
            (latest,) = query(
                published_world.published,
                f"select count(*) from marts.{mart} where score_date = (select max(score_date) from marts.{mart})",
            )[0]
            assert page.metrics[metric] == f"{latest:,}"
    else:
        ((reason,),) = query(
            published_world.published,
            "select reason from audit.mart_status where model = ? order by recorded_at desc limit 1",
            [mart],
        )
        assert f"marts.{mart} has no rows" in page.text
        assert reason and reason[:60] in " ".join(page.text.split())
