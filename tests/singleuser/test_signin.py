"""Browser sign-in through the hub's OAuth, tokens in headers, and who may use the server."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import httpx

from .browser import Browser
from .hubstandin import HubStandIn
from .singleuserprocess import CLIENT_ID, PREFIX, USER, SingleUserProcess


def test_page_without_cookie_is_sent_to_authorize_with_pkce(browser: Browser) -> None:
    response = browser.get(PREFIX + "lab")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/hub/api/oauth2/authorize"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == PREFIX + "oauth_callback"
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    cookies = {c.name: c for c in browser.client.cookies.jar}
    assert cookies[f"{CLIENT_ID}-oauth-state"].path == PREFIX
    assert cookies[f"{CLIENT_ID}-oauth-state"].has_nonstandard_attr("HttpOnly")


def test_oauth_dance_ends_on_jupyterlab_with_a_cookie(browser: Browser) -> None:
    lab = browser.sign_in(PREFIX)
    assert lab.status_code == 200, lab.text[:500]
    config = json.loads(
        re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', lab.text, re.DOTALL).group(1)
    )
    assert (config["hubUser"], config["hubPrefix"], config["token"]) == (USER, "/hub/", "")
    cookies = {c.name: c for c in browser.client.cookies.jar}
    assert cookies[CLIENT_ID].path == PREFIX and cookies[CLIENT_ID].has_nonstandard_attr("HttpOnly")
    assert f"{CLIENT_ID}-oauth-state" not in cookies


def test_cookie_sessions_need_the_xsrf_token_jupyterlab_sends(browser: Browser) -> None:
    browser.sign_in(PREFIX)
    without = browser.post(PREFIX + "api/contents", json={"type": "file"})
    assert without.status_code == 403
    xsrf = browser.client.cookies.get("_xsrf", path=PREFIX)
    with_token = browser.post(PREFIX + "api/contents", json={"type": "file"}, headers={"X-XSRFToken": xsrf})
    assert with_token.status_code == 201, with_token.text


def test_identities_are_cached(browser: Browser, hub: HubStandIn) -> None:
    browser.sign_in(PREFIX)
    asked = hub.state.whoami_calls
    for _ in range(5):
        assert browser.get(PREFIX + "api/contents").status_code == 200
    assert hub.state.whoami_calls == asked


def test_logout_clears_the_cookie_and_signs_out_of_the_hub(browser: Browser) -> None:
    browser.sign_in(PREFIX)
    response = browser.get(PREFIX + "logout")
    assert (response.status_code, response.headers["Location"]) == (302, "/hub/logout")
    assert CLIENT_ID not in {c.name for c in browser.client.cookies.jar}
    assert browser.get(PREFIX + "lab").status_code == 302


def test_callback_refuses_a_state_this_browser_did_not_start(
    browser: Browser, server: SingleUserProcess
) -> None:
    to_hub = browser.get(PREFIX + "lab")
    to_callback = browser.follow(to_hub)
    with Browser(browser.hub_origin, browser.server_origin) as other:
        assert other.follow(to_callback).status_code == 403
    assert browser.follow(to_callback).status_code == 302, "a refused attempt must not spoil the real one"
    assert browser.follow(to_callback).status_code == 403, "a state must not be usable twice"


def test_callback_refuses_a_mismatched_state(browser: Browser) -> None:
    browser.get(PREFIX + "lab")
    callback = browser.get(PREFIX + "oauth_callback?code=x&state=forged")
    assert callback.status_code == 403


def test_api_without_credentials_is_403_json(server: SingleUserProcess) -> None:
    response = httpx.get(server.url + "api/contents", timeout=10)
    assert response.status_code == 403
    assert "sign in" in response.json()["message"].lower()


def test_token_header_works_for_the_rest_api(server: SingleUserProcess, owner_token: str) -> None:
    for scheme in ("token", "Bearer"):
        response = httpx.get(
            server.url + "api/contents", headers={"Authorization": f"{scheme} {owner_token}"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["type"] == "directory"


def test_a_url_token_is_only_for_websockets(server: SingleUserProcess, owner_token: str) -> None:
    response = httpx.get(server.url + f"api/contents?token={owner_token}", timeout=10)
    assert response.status_code == 403
    assert owner_token not in server.log.read_text(), "a token in a URL must not reach the log"


def test_wrong_scopes_are_refused(server: SingleUserProcess, hub: HubStandIn) -> None:
    token = hub.add_token("mallory", ["access:servers!user=mallory", "read:users!user=mallory"])
    headers = {"Authorization": f"token {token}"}
    api = httpx.get(server.url + "api/contents", headers=headers, timeout=10)
    assert api.status_code == 403
    page = httpx.get(server.url + "lab", headers={**headers, "Accept": "text/html"}, timeout=10)
    assert page.status_code == 403
    assert "zoë x&#39;s server" in page.text or "zoë x's server" in page.text
    assert "/hub/home" in page.text
