"""The configuration schema, declared once.

Every section forbids unknown keys so that a typo stops the start instead of being ignored (the incumbent only
logs a warning). Field descriptions double as the generated configuration reference (`commonroom config docs`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from commonroom.auth import scopes as scope_rules
from commonroom.limits.sizes import parse_size

_HOSTPORT = re.compile(r"^(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(?P<port>\d{1,5})$")


def split_hostport(value: str) -> tuple[str, int]:
    """Split "HOST:PORT" (IPv6 hosts in brackets) into its parts."""
    match = _HOSTPORT.match(value)
    if not match or int(match["port"]) > 65535:
        raise ValueError(f"{value!r} is not HOST:PORT (for example 127.0.0.1:8000)")
    return match["host"].strip("[]"), int(match["port"])


# The async driver the hub uses for each database it runs on; URLs may name the database alone, as JupyterHub's do.
_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg", "postgres": "asyncpg"}
_TAKEN_OVER = {"", "pysqlite", "aiosqlite", "asyncpg"}


def database_url(value: str) -> str:
    """The URL with the hub's async driver: postgresql:// and sqlite:// as JupyterHub takes them, or the error."""
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError("is not a database URL; write postgresql://USER:PASSWORD@HOST/DB or leave it empty for SQLite") from None
    backend, _, driver = url.drivername.partition("+")
    if backend not in _DRIVERS:
        raise ValueError(f"{backend!r} is not supported: Commonroom runs on SQLite (leave it empty) or PostgreSQL (postgresql://…)")
    if driver not in _TAKEN_OVER:
        raise ValueError(f"Commonroom talks to {backend} through {_DRIVERS[backend]}, not {driver!r}: write {backend}://…")
    return url.set(drivername=f"{'postgresql' if backend == 'postgres' else backend}+{_DRIVERS[backend]}").render_as_string(
        hide_password=False
    )


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class HubConfig(Section):
    bind: str = Field("127.0.0.1:8000", description="Public address people open; the proxy listens here.")
    internal_bind: str = Field(
        "127.0.0.1:8081", description="Where the hub itself listens; only the proxy and servers reach it."
    )
    base_url: str = Field(
        "/", description="URL prefix of the whole site, e.g. /jupyter/ (kept percent-encoded, as it goes on the wire)."
    )
    data_dir: Path = Field(Path("commonroom-data"), description="Database, secrets and logs (mode 0700).")
    database_url: str = Field(
        "",
        description="Empty: SQLite file commonroom.sqlite in data_dir. Or PostgreSQL: postgresql://USER:PASSWORD@HOST/DB "
        "(driven by asyncpg), or another SQLite file: sqlite:////path/hub.sqlite.",
    )
    public_url: str = Field("", description="Public origin (https://hub.example.org) when behind TLS.")
    cookie_max_age_days: float = Field(14, gt=0, description="How long a sign-in lasts.")
    first_admin_link_minutes: int = Field(
        60, gt=0, description="How long the one-time link that creates the first administrator works."
    )
    concurrent_spawn_limit: int = Field(100, ge=0, description="Spawns under way at once; 0 means no limit.")
    active_server_limit: int = Field(
        0, ge=0, description="Servers running or starting at once; more starts answer 429. 0 means no limit."
    )
    slow_spawn_timeout: float = Field(
        10, ge=0, description="Seconds a start request waits for the server before answering 202 (still starting)."
    )
    slow_stop_timeout: float = Field(
        10, ge=0, description="Seconds a stop request waits for the server before answering 202 (still stopping)."
    )

    @field_validator("bind", "internal_bind")
    @classmethod
    def _hostport(cls, value: str) -> str:
        split_hostport(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return database_url(value) if value else value

    @field_validator("base_url")
    @classmethod
    def _slashes(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/', e.g. '/' or '/jupyter/'")
        encoded = quote(unquote(value), safe="/@")
        return encoded if encoded.endswith("/") else encoded + "/"


class ProxyConfig(Section):
    managed: bool = Field(True, description="Start the proxy as a child process (false: it runs on its own).")
    api_url: str = Field("http://127.0.0.1:8001", description="The proxy's REST API (configurable-http-proxy's).")
    auth_token: str = Field("", description="Token for the proxy API. Empty: generated into data_dir.")
    command: list[str] = Field(
        default_factory=list,
        description="Command that starts the proxy. Empty: the built-in `commonroom proxy`. "
        "configurable-http-proxy works too.",
    )


class ThrottleConfig(Section):
    max_failures: int = Field(5, ge=1, description="Failed sign-ins allowed per account in the window.")
    max_failures_per_address: int = Field(
        30, ge=1, description="Failed sign-ins allowed per address in the window (higher: a class may share one)."
    )
    window_seconds: int = Field(300, ge=1, description="Window in which failures are counted.")
    lockout_seconds: int = Field(300, ge=1, description="How long sign-in is refused once the limit is reached.")


class OIDCConfig(Section):
    issuer: str = Field("", description="The provider's issuer URL; its /.well-known/openid-configuration is read.")
    client_id: str = Field("", description="Client id registered with the provider.")
    client_secret: str = Field("", description="Client secret registered with the provider.")
    scopes: list[str] = Field(
        default_factory=lambda: ["openid", "profile", "email"], description="Scopes asked for at sign-in."
    )
    username_claim: str = Field("preferred_username", description="Claim that becomes the hub user name.")
    groups_claim: str = Field("groups", description="Claim holding the person's groups (a list), or empty for none.")
    userinfo: bool = Field(True, description="Also read the userinfo endpoint and merge its claims.")
    extra_params: dict[str, str] = Field(
        default_factory=dict, description="Extra query parameters for the authorization request, e.g. {hd = \"example.org\"}."
    )
    required_claims: dict[str, str] = Field(
        default_factory=dict, description="Claims that must have exactly these values, e.g. {hd = \"example.org\"}."
    )
    github_orgs: list[str] = Field(
        default_factory=list, description="GitHub preset: members of these organisations (or org:team) may sign in."
    )
    refresh_before_spawn: bool = Field(True, description="Refresh stored tokens (when expired) before a server starts.")
    timeout: float = Field(10, gt=0, description="Seconds for each request to the provider.")


class LDAPConfig(Section):
    server_url: str = Field("ldap://127.0.0.1:389", description="ldap:// or ldaps:// URL of the directory.")
    start_tls: bool = Field(False, description="Upgrade an ldap:// connection with StartTLS before binding.")
    tls_ca_file: str = Field("", description="CA bundle to verify the directory's certificate; empty: the system's.")
    bind_dn_template: str = Field(
        "", description="Direct bind: DN with {username}, e.g. uid={username},ou=people,dc=example,dc=org."
    )
    search_base: str = Field("", description="Search-then-bind: where people are looked up.")
    search_filter: str = Field(
        "(uid={username})", description="Search-then-bind filter; {username} is escaped (RFC 4515) first."
    )
    service_dn: str = Field("", description="Search-then-bind: the service account's DN (empty: anonymous search).")
    service_password: str = Field("", description="Search-then-bind: the service account's password.")
    username_attribute: str = Field("uid", description="Attribute whose value becomes the hub user name.")
    group_search_base: str = Field("", description="Where groups are looked up; empty: no groups.")
    group_filter: str = Field(
        "(|(member={dn})(uniqueMember={dn})(memberUid={username}))",
        description="Filter for the person's groups; {dn} and {username} are escaped first.",
    )
    group_name_attribute: str = Field("cn", description="Attribute that names a group.")
    timeout: float = Field(10, gt=0, description="Seconds for connecting and for each operation.")


class MFAConfig(Section):
    required: bool = Field(False, description="Everyone with a native account must set up a one-time-code app.")
    issuer_name: str = Field("Commonroom", description="Name shown in the person's authenticator app.")
    pending_minutes: int = Field(5, ge=1, le=60, description="How long the code step may take after the password.")


class AuthConfig(Section):
    authenticator: str = Field("native", description="Authenticator by entry-point name (commonroom.authenticators).")
    open_signup: bool = Field(False, description="New sign-ups may sign in at once, without an admin's approval.")
    min_password_length: int = Field(10, ge=8, le=1024, description="Shortest password accepted at sign-up.")
    admin_users: list[str] = Field(default_factory=list, description="Users who are always administrators.")
    allowed_users: list[str] = Field(
        default_factory=list, description="Only these may sign in (with allowed_groups); both empty: anyone accepted."
    )
    allowed_groups: list[str] = Field(
        default_factory=list, description="Members of these groups (from the identity provider) may sign in."
    )
    blocked_users: list[str] = Field(default_factory=list, description="Never let these sign in, whatever else says.")
    admin_groups: list[str] = Field(default_factory=list, description="Members of these groups are administrators.")
    manage_groups: bool = Field(
        False, description="Sign-in sets the person's hub groups to the identity provider's groups (OIDC, LDAP)."
    )
    auth_state_env: dict[str, str] = Field(
        default_factory=dict,
        description="Environment for people's servers from their stored auth state: "
        '{"OIDC_ACCESS_TOKEN" = "access_token"} (variable = key).',
    )
    throttle: ThrottleConfig = Field(default_factory=ThrottleConfig)
    oidc: OIDCConfig = Field(default_factory=OIDCConfig)
    ldap: LDAPConfig = Field(default_factory=LDAPConfig)
    mfa: MFAConfig = Field(default_factory=MFAConfig)

    @model_validator(mode="after")
    def _provider_needs(self) -> AuthConfig:
        if self.authenticator == "entra" and not self.oidc.issuer.startswith("https://login.microsoftonline.com/"):
            raise ValueError(
                "Microsoft Entra ID needs your tenant's issuer: set auth.oidc.issuer = "
                '"https://login.microsoftonline.com/<tenant id>/v2.0"'
            )
        if self.authenticator == "oidc" and not (self.oidc.issuer and self.oidc.client_id):
            raise ValueError("OpenID Connect needs auth.oidc.issuer and auth.oidc.client_id (and usually client_secret)")
        if self.authenticator == "ldap" and not (self.ldap.bind_dn_template or self.ldap.search_base):
            raise ValueError("LDAP needs auth.ldap.bind_dn_template (direct bind) or auth.ldap.search_base (search)")
        return self


class LocalSpawnerConfig(Section):
    os_accounts: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Run each person's server as their own OS account: auto = when the hub runs as root.",
    )
    account_prefix: str = Field(
        "cr-",
        description="Prefix of the OS account names made for people: a lowercase letter or _ first, then "
        "[a-z0-9._-], at most 16 characters. Names longer than 32 characters are shortened with a hash.",
    )
    home_root: Path = Field(Path("/home"), description="Where OS-account homes are created (absolute).")
    uid_min: int = Field(
        1000, ge=1000, lt=2**31, description="Lowest uid given to a new OS account (below 1000 are system accounts)."
    )
    uid_max: int = Field(
        60000, ge=1000, lt=2**31, description="Highest uid given to a new OS account; a full range stops new spawns."
    )
    homes_dir: Path = Field(
        Path("homes"),
        description="Without OS accounts: each person's home is <homes_dir>/<user>. Absolute, or relative to "
        "hub.data_dir (the hub resolves it before it creates spawners).",
    )
    log_dir: Path = Field(
        Path("logs"),
        description="Where each server's output goes, one file per server, readable only by the hub. Absolute, "
        "or relative to hub.data_dir (the hub resolves it before it creates spawners).",
    )
    stop_grace_seconds: float = Field(
        5, ge=0, description="Seconds a server gets to exit after SIGTERM before it is killed."
    )
    preload: bool = Field(
        True,
        description="Fork servers from a launcher that imported JupyterLab once, so a start takes a fraction of "
        "a second; false: start each with its own process, as a custom spawner.cmd or profile cmd/venv always is.",
    )

    @field_validator("account_prefix")
    @classmethod
    def _account_prefix(cls, value: str) -> str:
        if value and not re.fullmatch(r"[a-z_][a-z0-9._-]{0,15}", value):
            raise ValueError(
                "must start with a lowercase letter or _, use only [a-z0-9._-] and have at most 16 characters, "
                "e.g. 'cr-'"
            )
        return value

    @model_validator(mode="after")
    def _uid_range(self) -> LocalSpawnerConfig:
        if self.uid_min > self.uid_max:
            raise ValueError(f"uid_min ({self.uid_min}) must not be above uid_max ({self.uid_max}), e.g. 20000 and 29999")
        return self

    @property
    def uids(self) -> range:
        return range(self.uid_min, self.uid_max + 1)


_PROFILE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class Profile(Section):
    """A kind of server people may choose: its limits, software and who may use it (spawner.profiles)."""

    name: str = Field(description="Short name the API takes as user_options.profile: [a-z0-9._-], e.g. 'small'.")
    display_name: str = Field("", description="Name shown on the start page; empty: the name.")
    description: str = Field("", description="One line on the start page saying what the profile is for.")
    default: bool = Field(False, description="Chosen when a start names no profile (at most one profile).")
    cpu: float | None = Field(None, gt=0, description="CPU cores the server may use, e.g. 1.5; empty: no limit.")
    memory: str = Field("", description="Memory for the server and its kernels, e.g. '2G'; empty: no limit.")
    max_processes: int | None = Field(
        None, ge=1, description="Processes (and threads) the server may have at once; empty: no limit."
    )
    disk_quota: str = Field(
        "", description="Space in the person's home, e.g. '10G' (needs user quotas on its filesystem); empty: none."
    )
    environment: dict[str, str] = Field(default_factory=dict, description="Extra environment for these servers.")
    cmd: list[str] = Field(
        default_factory=list,
        description="Single-user command for this profile; empty: the venv's jupyterhub-singleuser, or spawner.cmd.",
    )
    venv: Path | None = Field(
        None, description="Virtual environment the server runs from (its bin/ leads PATH); empty: the hub's."
    )
    idle_timeout: float | None = Field(
        None, gt=0, description="Seconds of inactivity before the server is stopped; empty: the hub's default."
    )
    groups: list[str] = Field(
        default_factory=list, description="Groups whose members may use it; empty: everyone. Admins may use all."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _PROFILE_NAME.fullmatch(value):
            raise ValueError("a profile name uses only a-z, 0-9, '.', '_' and '-', starts with a letter or digit "
                             "and has at most 64 characters, e.g. 'small'")  # fmt: skip
        return value

    @field_validator("memory", "disk_quota")
    @classmethod
    def _size(cls, value: str) -> str:
        if value:
            parse_size(value)
        return value

    @field_validator("venv", mode="before")
    @classmethod
    def _no_venv(cls, value: object) -> object:
        return None if value == "" else value


class SpawnerConfig(Section):
    kind: str = Field("local", description="Spawner by entry-point name (commonroom.spawners).")
    cmd: list[str] = Field(
        default_factory=list,
        description="Single-user server command. Empty: Commonroom's JupyterLab launcher. "
        "['jupyterhub-singleuser'] runs a stock JupyterHub image's server.",
    )
    args: list[str] = Field(default_factory=list, description="Extra arguments for the command.")
    default_url: str = Field("/lab", description="Where a server opens, e.g. /lab/tree/Welcome.ipynb.")
    welcome_dir: Path | None = Field(None, description="Folder copied into each new home (welcome notebooks).")
    environment: dict[str, str] = Field(default_factory=dict, description="Extra environment for every server.")

    @field_validator("welcome_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value
    start_timeout: float = Field(60, gt=0, description="Seconds a server may take to start.")
    http_timeout: float = Field(30, gt=0, description="Seconds a started server may take to answer HTTP.")
    poll_interval: float = Field(10, gt=0, description="Seconds between checks that running servers are alive.")
    allow_named_servers: bool = Field(
        False, description="Let people run named servers besides their default one (/user/NAME/SERVER/)."
    )
    named_server_limit_per_user: int = Field(
        0, ge=0, description="Named servers one person may have (running or stopped); 0 means no limit."
    )
    consecutive_failure_limit: int = Field(
        0, ge=0, description="Spawn failures in a row after which the hub exits, so a supervisor (systemd, "
        "Kubernetes) restarts it or an operator looks; 0 means never."
    )
    profiles: list[Profile] = Field(
        default_factory=list, description="Kinds of server people choose from; empty: one kind, no limits."
    )
    enforcement: Literal["auto", "cgroup2", "cgroup1", "rlimit"] = Field(
        "auto", description="How profile limits are enforced; auto: cgroup v2, else cgroup v1, else rlimits."
    )
    local: LocalSpawnerConfig = Field(default_factory=LocalSpawnerConfig)

    def profile(self, name: object) -> Profile | None:
        """The profile called `name` (as user_options.profile records it); None when there is none."""
        return next((profile for profile in self.profiles if profile.name == name), None)

    @model_validator(mode="after")
    def _profiles(self) -> SpawnerConfig:
        names = [profile.name for profile in self.profiles]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"spawner.profiles: each name must be used once; repeated: {', '.join(repeated)}")
        defaults = [profile.name for profile in self.profiles if profile.default]
        if len(defaults) > 1:
            raise ValueError(f"spawner.profiles: at most one profile may be the default; these are: {', '.join(defaults)}")
        return self


class CullerConfig(Section):
    """The hub's own idle culler: busy kernels and running terminal jobs count as activity, silence alone does not."""

    enabled: bool = Field(True, description="Stop servers that are idle too long (or older than max_age).")
    idle_timeout: float = Field(
        3600, ge=0, description="Seconds without activity before a server is stopped, unless its profile sets "
        "idle_timeout; 0: never for inactivity."
    )
    max_age: float = Field(0, ge=0, description="Seconds after its start when a server is stopped even if active; 0: no limit.")
    check_interval: float = Field(60, gt=0, description="Seconds between the culler's checks of running servers.")
    warning_before: float = Field(
        600, ge=0, description="Seconds before a stop when its owner is warned (home page and JupyterLab) and may "
        "keep the server running with one click; at most half the timeout."
    )


_SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


def check_service_name(value: str) -> str:
    """A service name that is safe in /services/<name>/ and in an OAuth client id."""
    if not _SERVICE_NAME.fullmatch(value):
        raise ValueError("a service name uses only letters, digits, '.', '_' and '-', starts with a letter or "
                         "digit and has at most 255 characters, e.g. 'idle-culler'")  # fmt: skip
    return value


def check_service_url(value: str) -> str:
    if value and not re.fullmatch(r"https?://[^/\s]+(/\S*)?", value):
        raise ValueError("must be an http:// or https:// URL where the service listens, e.g. 'http://127.0.0.1:10101'")
    return value


class ServiceConfig(Section):
    """A program that uses the hub's API: external (it runs on its own) or managed (the hub runs it)."""

    name: str = Field(description="Name in the API and in the URL /services/<name>/: [A-Za-z0-9._-].")
    url: str = Field("", description="Where the service listens; the proxy routes /services/<name>/ there.")
    command: list[str] = Field(
        default_factory=list, description="Set: a managed service the hub starts, restarts and stops."
    )
    environment: dict[str, str] = Field(default_factory=dict, description="Extra environment of a managed service.")
    cwd: Path | None = Field(None, description="Working folder of a managed service; empty: hub.data_dir.")
    user: str = Field("", description="OS account a managed service runs as (hub as root); empty: the hub's.")
    api_token: str = Field(
        "", description="The service's API token (8-255 characters, stored hashed); empty: generated for a "
        "managed service, none for an external one.",
    )
    oauth_client_id: str = Field(
        "", description="OAuth client id for signing people in; must start with 'service-'. Empty: service-<name>."
    )
    oauth_redirect_uri: str = Field(
        "", description="Where the hub sends people back after sign-in; empty: /services/<name>/oauth_callback."
    )
    oauth_no_confirm: bool = Field(False, description="Accepted for JupyterHub configs; the hub never asks to confirm.")
    display: bool = Field(True, description="List it on the home page of people who may open it (when it has a url).")
    info: dict[str, str] = Field(default_factory=dict, description="Free-form facts shown with the service.")
    admin: bool = Field(False, description="Deprecated (JupyterHub): gives the admin role; prefer [[roles]].")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_service_name(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_service_url(value)

    @field_validator("cwd", mode="before")
    @classmethod
    def _no_cwd(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("api_token")
    @classmethod
    def _token(cls, value: str) -> str:
        if value and not 8 <= len(value) <= 255:
            raise ValueError("must have 8 to 255 characters; `openssl rand -hex 32` makes a good one")
        return value

    @field_validator("oauth_client_id")
    @classmethod
    def _client_id(cls, value: str) -> str:
        if value and not value.startswith("service-"):
            raise ValueError(f"must start with 'service-', e.g. 'service-{value}'")
        return value

    @property
    def client_id(self) -> str:
        return self.oauth_client_id or f"service-{self.name}"


class RoleSpec(Section):
    """A role from the config file (JupyterHub's load_roles entry); rewritten in the database at each start."""

    name: str = Field(description="3-255 characters: lowercase letters, digits and -_~. , e.g. 'teaching-assistant'.")
    description: str = Field("", description="What the role is for, shown in the API.")
    scopes: list[str] = Field(default_factory=list, description="JupyterHub scope names, e.g. 'servers!group=class-a'.")
    users: list[str] = Field(default_factory=list, description="Users who hold the role (created if missing).")
    groups: list[str] = Field(default_factory=list, description="Groups whose members hold it (created if missing).")
    services: list[str] = Field(default_factory=list, description="Services that hold it.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if value == "user":
            return value  # redefines the default role every user holds, as JupyterHub's load_roles allows
        problem = scope_rules.role_name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        bad = scope_rules.invalid(value, in_role=True)
        if bad:
            raise ValueError(f"unknown or malformed scopes {bad}; see the scope list in the README")
        return value

    @model_validator(mode="after")
    def _everyone(self) -> RoleSpec:
        if self.name == "user" and (self.users or self.groups or self.services):
            raise ValueError("every user holds the 'user' role: leave out its users, groups and services")
        return self


class Config(Section):
    hub: HubConfig = Field(default_factory=HubConfig)
    proxy: ProxyConfig = Field(default_factory=ProxyConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    spawner: SpawnerConfig = Field(default_factory=SpawnerConfig)
    culler: CullerConfig = Field(default_factory=CullerConfig)
    services: list[ServiceConfig] = Field(
        default_factory=list, description="Services: programs that use the hub's API; see \"Services\" in the README."
    )
    roles: list[RoleSpec] = Field(
        default_factory=list, description="Roles (named lists of scopes) for users, groups and services; see \"Roles\"."
    )

    @model_validator(mode="after")
    def _services(self) -> Config:
        for what, values in (("name", [s.name for s in self.services]), ("oauth_client_id", [s.client_id for s in self.services])):
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"services: each {what} must be used once; repeated: {', '.join(repeated)}")
        return self
