"""The tab the browser tests share (tests/browser/conftest.py, KeptTab): what one test leaves in it, the
next test does not find."""

from __future__ import annotations

import pytest

from tests.browser.conftest import VIEWPORT

pytestmark = pytest.mark.browser


def test_what_a_test_leaves_in_the_kept_tab_is_gone_for_the_next(kept_tab, demo_server):
    url = demo_server.url
    tab = kept_tab.get()
    tab.goto(f"{url}/login")
    tab.evaluate("() => { sessionStorage.setItem('filters', 'hip'); localStorage.setItem('clinician', 'S-1'); }")
    tab.context.add_cookies([{"name": "session", "value": "someone", "url": url}])
    tab.route("**/routed", lambda route: route.fulfill(body="from the test before", content_type="text/plain"))
    tab.set_viewport_size({"width": 820, "height": 1180})

    kept_tab.forget()

    tab = kept_tab.get()
    assert tab.url == "about:blank"
    assert tab.context.cookies() == []
    assert tab.viewport_size == VIEWPORT
    assert tab.requests == [] and tab.console_errors == []
    tab.goto(f"{url}/login")
    assert tab.evaluate("() => [sessionStorage.length, localStorage.length]") == [0, 0]
    answer = tab.goto(f"{url}/routed")  # the server's own answer, not the route's
    assert "from the test before" not in answer.text()
    kept_tab.forget()
