"""The OpenAPI document at {base_url}hub/api/openapi.json: FastAPI's, corrected to what goes on the wire.

FastAPI documents validation failures as 422; the hub answers 400 in JupyterHub's {status, message} shape,
and any authenticated call may answer 403 or 404. Reply schemas come from api/schemas.py through the table
below, since handlers return dicts whose fields depend on the caller's scopes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from commonroom.api import schemas
from commonroom.api.activity import ActivityReport

REF = "#/components/schemas/{model}"
TEXT = {"text/plain": {"schema": {"type": "string", "maxLength": 0}}}
EVENTS = {"text/event-stream": {"schema": {"type": "string"}}}

# (method, path under the API prefix) -> {status: model, list of models (one of), "text", "events" or None}
Reply = type[BaseModel] | list[Any] | dict[str, Any] | str | None
REPLIES: dict[tuple[str, str], dict[str, Reply]] = {
    ("get", "/"): {"200": schemas.Version},
    ("get", "/health"): {"200": None},
    ("head", "/health"): {"200": None},
    ("get", "/info"): {"200": schemas.HubInfo},
    ("get", "/user"): {"200": schemas.Identity},
    ("get", "/users"): {"200": [[schemas.UserModel], schemas.UserPage]},
    ("post", "/users"): {"201": [[schemas.UserModel]]},
    ("get", "/users/{name}"): {"200": schemas.UserModel},
    ("post", "/users/{name}"): {"201": schemas.UserModel},
    ("patch", "/users/{name}"): {"200": schemas.UserModel},
    ("delete", "/users/{name}"): {"204": None},
    ("post", "/users/{name}/activity"): {"200": None},
    ("get", "/users/{name}/server"): {"200": schemas.ServerModel},
    ("post", "/users/{name}/server"): {"201": "text", "202": "text"},
    ("delete", "/users/{name}/server"): {"202": None, "204": None},
    ("get", "/users/{name}/server/progress"): {"200": "events"},
    ("get", "/users/{name}/servers/{server}"): {"200": schemas.ServerModel},
    ("put", "/users/{name}/servers/{server}"): {"201": schemas.ServerModel},
    ("post", "/users/{name}/servers/{server}"): {"201": "text", "202": "text"},
    ("patch", "/users/{name}/servers/{server}"): {"200": schemas.ServerModel},
    ("delete", "/users/{name}/servers/{server}"): {"202": None, "204": None},
    ("get", "/users/{name}/servers/{server}/progress"): {"200": "events"},
    ("get", "/users/{name}/tokens"): {"200": schemas.TokenList},
    ("post", "/users/{name}/tokens"): {"201": schemas.NewToken},
    ("get", "/users/{name}/tokens/{token_id}"): {"200": schemas.TokenModel},
    ("delete", "/users/{name}/tokens/{token_id}"): {"204": None},
    ("get", "/proxy"): {"200": [{"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Route"}}, schemas.RoutePage]},
    ("post", "/proxy"): {"200": None},
    ("post", "/shutdown"): {"202": schemas.Message},
    ("get", "/authorizations/token/{token}"): {"200": schemas.UserModel},
    ("get", "/authorizations/cookie/{cookie_name}/{cookie_value}"): {"200": schemas.UserModel},
    ("patch", "/proxy"): {"200": None},
    ("post", "/users/{name}/admin-access"): {"200": None},
    ("get", "/users/{name}/server/cull"): {"200": schemas.CullStatus},
    ("post", "/users/{name}/server/cull"): {"200": schemas.CullStatus},
    ("get", "/users/{name}/servers/{server}/cull"): {"200": schemas.CullStatus},
    ("post", "/users/{name}/servers/{server}/cull"): {"200": schemas.CullStatus},
    ("get", "/services"): {"200": {"type": "object", "additionalProperties": {"$ref": REF.format(model="ServiceModel")}}},
    ("get", "/services/{name}"): {"200": schemas.ServiceModel},
    ("post", "/services/{name}"): {"201": schemas.NewService},
    ("delete", "/services/{name}"): {"200": None},
    ("get", "/groups"): {"200": [[schemas.GroupModel], schemas.GroupPage]},
    ("post", "/groups"): {"201": [schemas.GroupModel]},
    ("get", "/groups/{name}"): {"200": schemas.GroupModel},
    ("post", "/groups/{name}"): {"201": schemas.GroupModel},
    ("delete", "/groups/{name}"): {"204": None},
    ("post", "/groups/{name}/users"): {"200": schemas.GroupModel},
    ("delete", "/groups/{name}/users"): {"200": schemas.GroupModel},
    ("put", "/groups/{name}/properties"): {"200": schemas.GroupModel},
    ("get", "/roles"): {"200": [schemas.RoleModel]},
    ("get", "/roles/{name}"): {"200": schemas.RoleModel},
    ("put", "/roles/{name}"): {"200": schemas.RoleModel, "201": schemas.RoleModel},
    ("delete", "/roles/{name}"): {"204": None},
    ("post", "/roles/{name}/holders"): {"200": schemas.RoleModel},
    ("delete", "/roles/{name}/holders"): {"200": schemas.RoleModel},
    ("get", "/shares/{owner}"): {"200": schemas.SharePage},
    ("get", "/shares/{owner}/{server}"): {"200": schemas.SharePage},
    ("post", "/shares/{owner}/{server}"): {"200": schemas.ShareModel},
    ("patch", "/shares/{owner}/{server}"): {"200": [schemas.ShareModel, {"type": "object", "maxProperties": 0}]},
    ("delete", "/shares/{owner}/{server}"): {"204": None},
    ("get", "/share-codes/{owner}"): {"200": schemas.ShareCodePage},
    ("get", "/share-codes/{owner}/{server}"): {"200": schemas.ShareCodePage},
    ("post", "/share-codes/{owner}/{server}"): {"200": schemas.NewShareCode},
    ("delete", "/share-codes/{owner}/{server}"): {"204": None},
    ("get", "/users/{name}/shared"): {"200": schemas.SharePage},
    ("get", "/users/{name}/shared/{owner}/{server}"): {"200": schemas.ShareModel},
    ("delete", "/users/{name}/shared/{owner}/{server}"): {"204": None},
    ("get", "/groups/{name}/shared"): {"200": schemas.SharePage},
    ("get", "/groups/{name}/shared/{owner}/{server}"): {"200": schemas.ShareModel},
    ("delete", "/groups/{name}/shared/{owner}/{server}"): {"204": None},
}
# Bodies that handlers read raw (they accept an empty body, or JupyterHub's legacy forms).
REQUESTS: dict[tuple[str, str], type[BaseModel]] = {
    ("post", "/users/{name}/server"): schemas.ServerRequest,
    ("post", "/users/{name}/servers/{server}"): schemas.ServerRequest,
    ("put", "/users/{name}/servers/{server}"): schemas.ServerRequest,
    ("delete", "/users/{name}/servers/{server}"): schemas.ServerRemoval,
    ("post", "/users/{name}/activity"): ActivityReport,
}
MODELS: tuple[type[BaseModel], ...] = (
    *REQUESTS.values(), schemas.Error, schemas.Identity, schemas.UserPage, schemas.NewToken, schemas.TokenList,
    schemas.RoutePage, schemas.Version, schemas.HubInfo, schemas.Message, schemas.Route, schemas.CullStatus,
    schemas.ServiceModel, schemas.NewService,
    schemas.GroupPage, schemas.RoleModel, schemas.SharePage, schemas.NewShareCode, schemas.ShareCodePage,
)  # fmt: skip
ERROR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
NO_AUTH = {("get", "/"), ("get", "/health"), ("head", "/health")}


def _schema(reply: Any) -> dict[str, Any]:
    if isinstance(reply, type) and issubclass(reply, BaseModel):
        return {"$ref": REF.format(model=reply.__name__)}
    if isinstance(reply, list) and len(reply) == 1:
        return {"type": "array", "items": _schema(reply[0])}
    if isinstance(reply, list):
        return {"oneOf": [_schema(r) for r in reply]}
    assert isinstance(reply, dict)
    return reply


def _response(reply: Reply) -> dict[str, Any]:
    if reply is None:
        return {"description": "Done; no body"}
    if reply == "text":
        return {"description": "Empty text/plain body", "content": TEXT}
    if reply == "events":
        return {"description": "Server-sent events: data: {json} lines", "content": EVENTS}
    return {"description": "OK", "content": {"application/json": {"schema": _schema(reply)}}}


def _components() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for model in MODELS:
        schema = model.model_json_schema(ref_template=REF, by_alias=True, mode="serialization")
        found.update(schema.pop("$defs", {}))
        found[model.__name__] = schema
    return found


def _fix_operation(method: str, path: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = {}
    for status, reply in REPLIES.get((method, path), {}).items():
        responses[status] = _response(reply)
    if not responses:
        responses = {k: v for k, v in operation.get("responses", {}).items() if k != "422"}
    if (method, path) not in NO_AUTH:
        responses.update({"400": ERROR, "403": ERROR, "404": ERROR})
        operation["security"] = [{"token": []}]
    if method in ("post", "put", "patch", "delete") and (method, path) not in NO_AUTH:
        responses.setdefault("409", ERROR)
    if (method, path) == ("delete", "/services/{name}"):
        responses["405"] = ERROR  # defined in the config file
    if path.endswith("/server") or "/servers/" in path:
        responses.update({"429": ERROR, "500": ERROR})
    operation["responses"] = responses
    body = REQUESTS.get((method, path))
    if body is not None:
        schema = {"$ref": REF.format(model=body.__name__)}
        operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": schema}}}


def document(app: FastAPI, api_prefix: str) -> dict[str, Any]:
    spec = get_openapi(title=app.title, version=app.version, routes=app.routes, description=__doc__)
    schemas_found = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas_found.pop("HTTPValidationError", None)
    schemas_found.pop("ValidationError", None)
    schemas_found.update(_components())
    spec["components"]["securitySchemes"] = {
        "token": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "token <API token>"}
    }
    paths: dict[str, Any] = {}
    for path, item in spec.get("paths", {}).items():
        if not path.startswith(api_prefix):
            continue  # pages are for browsers, not part of the API's document
        local = path[len(api_prefix) :] or "/"
        for method, operation in item.items():
            _fix_operation(method, local, operation)
        paths[path] = item
    spec["paths"] = paths
    return spec


def install(app: FastAPI, api_prefix: str) -> None:
    """Serve the corrected document (built once, on first request)."""
    cache: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not cache:
            cache.update(document(app, api_prefix))
        return cache

    app.openapi = openapi  # type: ignore[method-assign]
