"""Regenerate the screenshots in docs/ from a running `make run` on a fresh demo database.

rm -f var/lockbox.sqlite3* && make run    # in one terminal
.venv/bin/python docs/make_screenshots.py  # in another
"""

from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def sign_in(page, username):
    page.context.clear_cookies()
    page.goto(BASE + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "lockbox-demo")
    page.click("button[type=submit]")


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        shot = lambda name: page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)  # noqa: E731
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
        page.click("main table a")
        shot("pending-internal")
        page.click("aside button:has-text('Approve')")
        sign_in(page, "approver@contoso.example")
        shot("dashboard-approver")
        page.goto(BASE + "/support/lockbox-requests/")
        page.click("main table a")
        shot("customer-lockbox-requests")
        page.click("aside button:has-text('Approve')")
        shot("request-approved")
        sign_in(page, "engineer@provider.example")
        page.goto(request_url)
        page.click("button:has-text('Restart CPC-CON-001')")
        page.click("dialog button:has-text('Yes, restart')")
        shot("engineer-grant")
        sign_in(page, "admin@contoso.example")
        page.goto(BASE + "/audit/")
        shot("audit")
        page.goto(BASE + "/settings/org/security/customer-lockbox/")
        shot("customer-lockbox-setting")
        sign_in(page, "admin@fabrikam.example")
        page.goto(BASE + "/settings/org/security/customer-lockbox/")
        shot("customer-lockbox-unavailable")
        browser.close()


if __name__ == "__main__":
    main()
