"""The API's reply shapes, for the OpenAPI document only (handlers build plain dicts whose fields depend on
the caller's scopes, so every field but kind and name is optional here)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class Error(BaseModel):
    """Every error: the HTTP status again and what went wrong, with what to do next."""

    model_config = ConfigDict(extra="forbid")
    status: int
    message: str


class ServerModel(Loose):
    name: str
    display_name: str | None = None
    full_name: str | None = None
    ready: bool
    pending: str | None = Field(None, description="spawn, stop, check, rename or null")
    stopped: bool
    url: str
    progress_url: str
    full_url: str | None = None
    full_progress_url: str | None = None
    started: str | None = None
    last_activity: str | None = None
    user_options: dict[str, Any] | None = None
    state: dict[str, Any] | None = None


class UserModel(Loose):
    kind: str
    name: str
    admin: bool | None = None
    roles: list[str] | None = None
    groups: list[str] | None = None
    server: str | None = None
    pending: str | None = None
    created: str | None = None
    last_activity: str | None = None
    user_info: dict[str, Any] | None = None
    auth_state: dict[str, Any] | None = None
    servers: dict[str, ServerModel] | None = None


class Identity(UserModel):
    scopes: list[str]
    token_id: str | None = None
    session_id: str | None = None


class NextPage(BaseModel):
    offset: int
    limit: int
    url: str


class Pagination(BaseModel):
    offset: int
    limit: int
    total: int
    next: NextPage | None = None


class UserPage(BaseModel):
    items: list[UserModel]
    pagination: Pagination = Field(alias="_pagination")


class TokenModel(Loose):
    kind: str
    id: str = Field(description='"a" and the number, e.g. a42')
    user: str
    roles: list[str]
    scopes: list[str]
    note: str | None = None
    created: str | None = None
    last_activity: str | None = None
    expires_at: str | None = None
    session_id: str | None = None
    oauth_client: str | None = None


class NewToken(TokenModel):
    token: str = Field(description="The token itself; shown only now.")


class TokenList(BaseModel):
    api_tokens: list[TokenModel]


class CullStatus(BaseModel):
    """When the culler will stop a server if nothing happens, and the warning to show until then."""

    action: str = Field(description="keep, warn (the warning is due) or cull (the stop is due at the next check)")
    cause: str | None = Field(None, description="idle or max_age: what sets cull_at; null when nothing would stop it")
    cull_at: str | None = None
    seconds_left: float | None = None
    warning: str = Field(description="What to tell the person now; empty unless action is warn")
    poll_seconds: float = Field(description="How soon a page showing this should ask again")


class ServiceModel(Loose):
    kind: str
    name: str
    admin: bool
    roles: list[str] | None = None
    url: str | None = None
    prefix: str | None = Field(None, description="/services/<name>/ when it has a url, else empty")
    command: list[str] | None = None
    pid: int | None = Field(None, description="Its process when the hub runs it, else 0")
    info: dict[str, Any] | None = None
    display: bool | None = None


class NewService(ServiceModel):
    api_token: str = Field(description="The service's token; shown only now.")


class Route(BaseModel):
    routespec: str
    target: str | None = None
    data: dict[str, Any]


class RoutePage(BaseModel):
    items: dict[str, Route]
    pagination: Pagination = Field(alias="_pagination")


class Version(Loose):
    version: str


class HubInfo(Loose):
    version: str
    python: str
    sys_executable: str
    spawner: dict[str, str]
    authenticator: dict[str, str]
    resource_limits: dict[str, str] | None = None
    """How profile limits are enforced ({"enforcement", "description"}); null on a hub without profiles."""


class Message(BaseModel):
    message: str


class ServerRequest(Loose):
    """Start options: {display_name?, user_options?} (JupyterHub 6), or any object taken whole as user_options."""

    display_name: str | None = None
    user_options: dict[str, Any] | None = None


class ServerRemoval(BaseModel):
    remove: bool = Field(False, description="Forget the named server once stopped.")



class GroupModel(Loose):
    kind: str
    name: str
    users: list[str] | None = None
    properties: dict[str, Any] | None = None
    roles: list[str] | None = None


class GroupPage(BaseModel):
    items: list[GroupModel]
    pagination: Pagination = Field(alias="_pagination")


class RoleModel(BaseModel):
    kind: str
    name: str
    description: str
    scopes: list[str]
    managed_by: str = Field(description='"config" (read-only here: edit the config file) or "api"')
    users: list[str]
    groups: list[str]
    services: list[str]


class SharedServer(BaseModel):
    user: dict[str, str]
    name: str
    url: str
    full_url: str | None = None
    ready: bool


class ShareModel(BaseModel):
    server: SharedServer
    scopes: list[str]
    user: dict[str, str] | None = None
    group: dict[str, str] | None = None
    kind: str = Field(description="user or group")
    created_at: str | None = None


class SharePage(BaseModel):
    items: list[ShareModel]
    pagination: Pagination = Field(alias="_pagination")


class ShareCodeModel(BaseModel):
    server: SharedServer
    scopes: list[str]
    id: str = Field(description='"sc_" and the number')
    created_at: str | None = None
    expires_at: str | None = None
    exchange_count: int
    last_exchanged_at: str | None = None


class NewShareCode(ShareCodeModel):
    code: str = Field(description="The code itself; shown only now.")
    accept_url: str
    full_accept_url: str | None = None


class ShareCodePage(BaseModel):
    items: list[ShareCodeModel]
    pagination: Pagination = Field(alias="_pagination")
