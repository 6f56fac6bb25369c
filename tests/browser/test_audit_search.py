"""Audit search in Chromium: searchable multi-selects with friendly names, the Result filter
behind the home page's "refused attempts" link, friendly history and labelled diagnostics."""

import pytest
from playwright.sync_api import expect

from lockbox_site.errors import NotAllowed
from requests_app import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_refused_attempts_link_opens_the_search_on_refusals(
    world, page, live_server, sign_in, make_request
):
    make_request(stage="approved")
    with pytest.raises(NotAllowed):
        services.cloud_pc_operate(
            actor=world.engineer, cloud_pc_id=world.contoso_pcs[1].pk, action="view"
        )
    sign_in("admin@contoso.example")
    page.get_by_role("link", name="1 refused attempt(s) in the last 24 hours").click()
    expect(page.get_by_label("Result")).to_have_value("failure")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Engineer action on a Cloud PC")
    expect(rows).to_contain_text(f"Cloud PC {world.contoso_pcs[1].name}")
    expect(page.get_by_text("1 record matches, newest first.")).to_be_visible()


def test_operations_are_a_searchable_multi_select_with_friendly_names(
    world, page, live_server, sign_in, make_request
):
    access_request = make_request(stage="approved")
    sign_in("admin@contoso.example")
    page.goto(f"{live_server.url}/audit/")
    page.get_by_text("Operations: All").click()
    page.get_by_label("Search operations").fill("approved")
    options = page.locator("details.multiselect .ms-opt:visible")
    expect(options.filter(has_text="Request created")).to_have_count(0)
    page.get_by_role("checkbox", name="Request approved RequestApproved").check()
    expect(page.get_by_text("Operations: 1 selected")).to_be_visible()
    page.get_by_label("Search operations").press("Enter")  # narrows, never submits
    assert "operation=" not in page.url
    page.get_by_role("button", name="Search").click()
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.get_by_text("RequestApproved", exact=True)).to_be_visible()
    expect(rows).to_contain_text("Request approved")
    rows.get_by_role("link", name=f"Request {access_request.pk}").click()
    expect(page).to_have_url(f"{live_server.url}/requests/{access_request.pk}/")

    # The request's history says the same words.
    history = page.locator("h2:has-text('History') + ul")  # on its own page: h2 under the h1
    expect(history).to_contain_text("Request created RequestCreated")
    expect(history).to_contain_text("Request approved RequestApproved")


def test_a_start_after_the_end_is_shown_on_the_form(world, page, live_server, sign_in):
    sign_in("auditor@contoso.example")
    page.goto(f"{live_server.url}/audit/")
    page.get_by_label("Start", exact=True).fill("2026-03-05T10:00:00")
    page.get_by_label("End", exact=True).fill("2026-03-01T10:00:00")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_have_text(
        "The start is after the end: swap them or change one."
    )


def test_diagnostics_read_as_labelled_values(world, page, live_server, sign_in, make_request):
    access_request = make_request(stage="approved")
    pc = access_request.cloud_pcs.get()
    sign_in("engineer@provider.example")
    page.goto(f"{live_server.url}/provider/cloud-pcs/{pc.pk}/?show=diagnostics")
    diagnostics = page.locator("h2:has-text('Diagnostics') + dl")
    expect(diagnostics.get_by_role("term").filter(has_text="CPU use")).to_be_visible()
    expect(diagnostics).to_contain_text("Free disk space87 GB")
    expect(diagnostics).not_to_contain_text("cpu_percent")
