"""The banner's script tag goes into complete HTML pages only, with a correct Content-Length."""

from __future__ import annotations

from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

from commonroom.singleuser.cullbanner import hub_cull_url, injector

PAGE = b"<html><body><div>lab</div></body></html>"
TAG = b'<script src="/user/al%20ice/commonroom/cullbanner.js" defer></script></body>'


def transformed(status: int, headers: dict[str, str], chunk: bytes, finishing: bool = True) -> tuple[HTTPHeaders, bytes]:
    transform = injector("/user/al%20ice/")(HTTPServerRequest(
        start_line=RequestStartLine("GET", "/user/al%20ice/lab", "HTTP/1.1"), headers=HTTPHeaders({"Host": "h"})
    ))
    _, out_headers, out = transform.transform_first_chunk(status, HTTPHeaders(headers), chunk, finishing)
    return out_headers, out


def test_a_page_gets_the_script_before_its_body_ends() -> None:
    headers, body = transformed(200, {"Content-Type": "text/html; charset=UTF-8", "Content-Length": str(len(PAGE))}, PAGE)
    assert body == PAGE.replace(b"</body>", TAG)
    assert headers["Content-Length"] == str(len(body))


def test_everything_else_is_left_alone() -> None:
    html = {"Content-Type": "text/html"}
    for status, headers, chunk, finishing in [
        (200, {"Content-Type": "application/json"}, b'{"a": "</body>"}', True),
        (404, html, PAGE, True),
        (200, html, PAGE, False),
        (200, {**html, "Content-Encoding": "gzip"}, PAGE, True),
    ]:
        assert transformed(status, headers, chunk, finishing)[1] == chunk


class Env:
    api_url, user = "http://127.0.0.1:8081/hub/api", "al ice"
    server_name = ""


def test_the_hub_url_names_the_server() -> None:
    env = Env()
    assert hub_cull_url(env) == "http://127.0.0.1:8081/hub/api/users/al%20ice/server/cull"  # type: ignore[arg-type]
    env.server_name = "gpu 1"
    assert hub_cull_url(env) == "http://127.0.0.1:8081/hub/api/users/al%20ice/servers/gpu%201/cull"  # type: ignore[arg-type]
