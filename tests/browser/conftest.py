import shutil

import pytest

from tests.conftest import require_service


@pytest.fixture(autouse=True)
def _chromium():
    require_service(
        shutil.which("chromium") is not None or shutil.which("/usr/bin/chromium") is not None,
        "Chromium (/usr/bin/chromium)",
    )


@pytest.fixture
def sign_in(page, live_server):
    def _sign_in(username, password="lockbox-demo"):
        page.context.clear_cookies()
        page.goto(live_server.url + "/login/")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url(live_server.url + "/")

    return _sign_in
