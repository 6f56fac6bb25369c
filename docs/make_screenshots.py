"""Regenerate the screenshots in docs/ (and the README's) from a running `make run` on a fresh
demo database:

rm -rf var/lockbox.sqlite3* && make run                  # in one terminal
.venv/bin/python docs/make_screenshots.py [BASE_URL]     # in another (default :8000)

Desktop shots are 1440x900 (the queue with its overlay panel, the confirmations, an error page),
the phone shot 390x844 (its first screen: the folded menu and a request's Approve and Deny).
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000").rstrip("/")
OUT = Path(__file__).resolve().parent
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def sign_in(page, username):
    page.context.clear_cookies()
    page.goto(BASE + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "lockbox-demo")
    page.click("button[type=submit]")
    page.wait_for_url(BASE + "/")


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Paris")
        page = context.new_page()

        def shot(name, full_page=True):
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)

        page.goto(BASE + "/login/")
        shot("login")
        sign_in(page, "engineer@provider.example")
        page.goto(BASE + "/provider/tickets/")
        page.select_option("#id_tenant", "contoso")
        page.fill("#id_title", "Outlook crashes on start")
        page.click("text=Open ticket")
        page.click("main a:has-text('Request access')")
        page.check("text=CPC-CON-001 (westeurope)")
        page.fill("#id_reason", "Collect crash dumps from the Outlook profile")
        page.fill("#id_duration_minutes", "60")
        shot("request-access")
        page.click("text=Submit request")
        request_url = page.url
        sign_in(page, "manager@provider.example")
        page.goto(BASE + "/provider/pending-internal/")
        page.click("main table tbody tr td:nth-child(4)")  # anywhere on the row
        shot("pending-internal", full_page=False)
        page.click("aside button:has-text('Approve')")

        sign_in(page, "approver@contoso.example")
        shot("dashboard-approver")
        page.goto(BASE + "/support/lockbox-requests/")
        page.click("main table tbody tr td:nth-child(3)")
        shot("customer-lockbox-requests", full_page=False)  # the queue with its overlay panel

        phone = browser.new_context(viewport=PHONE, timezone_id="Europe/Paris").new_page()
        phone.context.add_cookies(context.cookies())
        phone.goto(page.url)
        phone.screenshot(path=str(OUT / "phone-request.png"))  # the first screen only
        phone.click("button:has-text('Menu')")
        phone.screenshot(path=str(OUT / "phone-menu.png"))
        phone.context.close()

        page.click("aside button:has-text('Approve')")
        shot("request-approved", full_page=False)

        sign_in(page, "engineer@provider.example")
        page.goto(request_url)
        page.click("button:has-text('Restart CPC-CON-001')")
        shot("confirm-restart", full_page=False)
        page.click("dialog button:has-text('Yes, restart')")
        shot("engineer-grant")
        cloud_pc_url = BASE + page.locator("a:has-text('View details')").first.get_attribute("href")

        sign_in(page, "approver@contoso.example")
        page.goto(request_url)
        page.fill("#id_comment_revoke", "The crash dumps are collected")
        page.click("button:has-text('Revoke')")
        shot("confirm-revoke", full_page=False)
        page.click("dialog button:has-text('Yes, revoke access')")

        sign_in(page, "engineer@provider.example")
        page.goto(cloud_pc_url)  # after the revoke: the 403 page says who revoked it and when
        shot("error-403", full_page=False)

        sign_in(page, "admin@contoso.example")
        page.goto(BASE + "/audit/")
        page.click("text=Operations: All")
        page.fill("input[aria-label='Search operations']", "request")
        shot("audit", full_page=False)
        page.goto(BASE + "/settings/org/security/customer-lockbox/")
        page.uncheck("#id_enabled")
        page.click("button:has-text('Save')")
        shot("confirm-lockbox-off", full_page=False)
        page.click("dialog button:has-text('Cancel')")
        page.check("#id_enabled")
        shot("customer-lockbox-setting")
        sign_in(page, "admin@fabrikam.example")
        page.goto(BASE + "/settings/org/security/customer-lockbox/")
        shot("customer-lockbox-unavailable")
        browser.close()


if __name__ == "__main__":
    main()
