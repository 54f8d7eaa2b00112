"""Sharing a running JupyterLab for real: a share link accepted in the hub lets a second person into the owner's
server through the proxy and the server's own OAuth, with full (read and write) access as JupyterHub's
access:servers gives; revoking the share shuts them out on their very next request."""

from __future__ import annotations

import httpx

from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess, wait_for

PASSWORD = "pelican-reads-the-map"


def test_share_link_opens_the_owners_lab_until_revoked(hub: HubProcess) -> None:
    admin = hub.add_user("share-boss", admin=True)
    owner = hub.add_user("ava")
    assert hub.cli("user", "add", "ben", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    with hub.api(admin) as api:
        assert api.put("/roles/code-sharers", json={"scopes": ["shares!user"]}).status_code == 201
        assert api.post("/roles/code-sharers/holders", json={"users": ["ava"]}).status_code == 200
    with hub.api(owner) as api:
        assert api.post("/users/ava/server").status_code in (201, 202)
        wait_for(lambda: api.get("/users/ava").json().get("server"), 90, "ava's server to be ready", 0.2)
        code = api.post("/share-codes/ava/", json={"expires_in": 600}).json()

    ben = Person(hub.origin)
    try:
        assert ben.sign_in("ben", PASSWORD).status_code == 302
        refused = ben.follow("/user/ava/lab")
        assert refused.status_code == 403, "before the share ben cannot open ava's server"

        accepted = ben.post_form("/hub/accept-share", {"code": code["code"]}, form_page=code["accept_url"])
        assert accepted.status_code == 302 and accepted.headers["location"] == "/user/ava/"
        lab = ben.follow("/user/ava/lab")
        assert lab.status_code == 200 and "JupyterLab" in lab.text, lab.text[:300]
        assert 'href="/user/ava/"' in ben.client.get("/hub/home").text, "listed under Shared with me"

        xsrf = next(c.value for c in ben.client.cookies.jar if c.name == "_xsrf" and c.path.startswith("/user/ava"))
        wrote = ben.client.put("/user/ava/api/contents/from-ben.txt", headers={"X-XSRFToken": xsrf},
                               json={"type": "file", "format": "text", "content": "hello from ben"})  # fmt: skip
        assert wrote.status_code in (200, 201), wrote.text
        mine = httpx.get(f"{hub.origin}/user/ava/api/contents/from-ben.txt", headers={"Authorization": f"token {owner}"})
        assert mine.json()["content"] == "hello from ben"

        with hub.api(owner) as api:
            assert api.patch("/shares/ava/", json={"user": "ben"}).json() == {}
        after = ben.client.get("/user/ava/api/contents")
        assert after.status_code in (302, 403), "the very next request after the revoke is refused"
        assert ben.follow("/user/ava/lab").status_code == 403
    finally:
        ben.close()
