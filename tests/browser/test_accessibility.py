"""axe-core (vendored, tests/browser/vendor) finds no violation on any page any role can reach:
every link of the role's navigation, the request, ticket, Cloud PC and audit record pages, the
open confirmation dialog and the open multi-select, the error pages and the sign-in pages."""

from pathlib import Path

import pytest

from audit_app.models import AuditRecord
from audit_app.policies import retention_policy_create
from requests_app import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
ROLES = [
    "admin@contoso.example",
    "approver@contoso.example",
    "auditor@contoso.example",
    "engineer@provider.example",
    "manager@provider.example",
    "admin@fabrikam.example",
    "admin@tailspin.example",
]


@pytest.fixture
def browser_context_args(browser_context_args):
    # The app's CSP refuses an injected script; only these checks lift it.
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def scene(world, make_request):
    """Something on every page: a pending, an approved and a revoked request, a question
    thread, a retention policy and a webhook."""
    pending = make_request(stage="pending_customer")
    services.access_request_request_info(
        actor=world.approver, access_request_id=pending.pk, question="Which mailbox?"
    )
    approved = make_request(stage="approved")
    revoked = make_request(stage="approved")
    services.access_request_revoke(actor=world.approver, access_request_id=revoked.pk)
    make_request()  # pending internal approval
    retention_policy_create(
        actor=world.admin, data={"name": "Sign-ins", "duration": "P90D", "priority": 1}
    )
    services.webhook_create(actor=world.admin, url="http://127.0.0.1:9/hook")
    return {"pending": pending, "approved": approved}


def _violations(page):
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        "async () => { const r = await axe.run(); return [r.passes.length, r.violations]; }"
    )
    checked, found = results
    assert checked > 10, page.url  # axe really ran its rules on this page
    return [
        f"{page.url} {v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in found
    ]


def _check(page, url, problems):
    page.goto(url)
    problems.extend(_violations(page))


def _pages_of(page, live_server, username, scene):
    base = live_server.url
    page.goto(base + "/")
    links = {
        href
        for href in page.locator("nav.side a").evaluate_all("els => els.map(e => e.href)")
        if "/admin/" not in href
    }
    extra = [
        f"{base}/requests/{scene['pending'].pk}/",
        f"{base}/requests/{scene['approved'].pk}/",
        f"{base}/no/such/page/",
    ]
    for href in sorted(links):
        if "/support/lockbox-requests/" in href or "/provider/" in href and "requests" in href:
            extra.append(f"{href}?status=all&selected={scene['approved'].pk}")
    if username.startswith("engineer"):
        pc = scene["approved"].cloud_pcs.get()
        extra += [
            f"{base}/provider/cloud-pcs/{pc.pk}/?show=diagnostics",
            f"{base}/provider/tickets/{scene['approved'].ticket_id}/",
        ]
    if "admin@contoso" in username or "auditor" in username:
        record = AuditRecord.objects.filter(tenant=scene["approved"].tenant).first()
        extra += [f"{base}/audit/records/{record.pk}/", f"{base}/audit/?result=failure"]
    if username == "admin@contoso.example":
        extra.append(f"{base}/audit/retention-policies/new/")
    return sorted(links) + extra


@pytest.mark.parametrize("username", ROLES)
def test_no_page_of_the_role_has_an_accessibility_violation(
    username, world, scene, page, live_server, sign_in
):
    sign_in(username)
    problems = []
    pages = _pages_of(page, live_server, username, scene)
    for url in pages:
        _check(page, url, problems)
    assert len(pages) >= 4
    assert not problems, "\n".join(problems)


def test_the_open_dialog_the_open_multi_select_and_the_phone_menu_pass(
    world, scene, page, live_server, sign_in
):
    problems = []
    sign_in("admin@contoso.example")
    page.goto(f"{live_server.url}/audit/retention-policies/")
    page.get_by_role("button", name="Delete Sign-ins").click()
    problems += _violations(page)
    page.goto(f"{live_server.url}/audit/")
    page.get_by_text("Operations: All").click()
    problems += _violations(page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/support/lockbox-requests/?selected={scene['pending'].pk}")
    problems += _violations(page)
    page.get_by_role("button", name="Menu").click()
    problems += _violations(page)
    assert not problems, "\n".join(problems)


def test_the_signed_out_pages_pass(world, page, live_server):
    problems = []
    for path in ("/login/", "/no/such/page/"):
        _check(page, live_server.url + path, problems)
    assert not problems, "\n".join(problems)
