"""The configuration file: where it lives, what it holds, how it is read and written.

A TOML file in the user's config dir (``~/.config/bazgasht/config.toml`` on Linux), or the
path given by ``--config`` / ``BAZGASHT_CONFIG``::

    database_url = "postgresql://bazgasht@db.internal/bazgasht"   # optional; default: SQLite

    [stores.myshop]
    url = "https://myshop.example"
    consumer_key = "ck_…"
    consumer_secret_env = "MYSHOP_WC_SECRET"   # or consumer_secret = "cs_…" (file must be 0600)
    webhook_secret = "…"                       # `bazgasht webhooks install` writes it
    storefront_secret_env = "MYSHOP_STOREFRONT" # the plugin's shared secret (`storefront secret`)

Every secret — the consumer secret, the webhook secret, the storefront's shared secret and
its previous value during a rotation — is kept the same way: inline (``NAME = "…"``) or named
by an environment variable (``NAME_env = "VAR"``, read at each run, never written here).
``BAZGASHT_DATABASE_URL`` overrides ``database_url``. A file holding an inline secret must not
be readable by other users (like ssh keys): Bazgasht refuses it otherwise, and always writes
the file with mode 0600. Secrets never appear in ``repr``, logs, errors or JSON output.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import platformdirs
import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connector import ConfigError

if TYPE_CHECKING:  # the HTTP client: imported when a command talks to a store
    from connector import StoreCredentials

APP_NAME = "bazgasht"
ENV_CONFIG = "BAZGASHT_CONFIG"
ENV_DATABASE_URL = "BAZGASHT_DATABASE_URL"
STORE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_database_url() -> str:
    path = Path(platformdirs.user_data_dir(APP_NAME)) / "bazgasht.sqlite"
    return f"sqlite:///{path}"


#: What people paste after the shop's address: the REST API's own path.
_API_PATH = re.compile(r"/(wp-json|index\.php/wp-json)(/.*)?$", re.IGNORECASE)


def shop_address(url: str) -> str:
    """The shop's home address, as Bazgasht keeps it: ``https://myshop.example`` (with a
    sub-folder if WordPress lives in one). A pasted REST API address
    (``…/wp-json/wc/v3``) is cut back to the shop's address: Bazgasht adds that path itself.
    Anything else that is not a plain web address is a ``ValueError`` that says what to give.
    """
    value = url.strip()
    if not re.match(r"^https?://", value, re.IGNORECASE):
        example = "https://" + value.split("://", 1)[-1].lstrip("/") if value else ""
        hint = f" — {example}?" if example and "." in example else ""
        raise ValueError(
            f"{value!r} must start with https://{hint} (http:// only for a local test store)"
        )
    parts = urlsplit(value)
    if not parts.hostname:
        raise ValueError(f"{value!r} has no host name; give the shop's address, e.g. "
                         "https://myshop.example")  # fmt: skip
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"give only the shop's address, e.g. {parts.scheme}://{parts.hostname}"
            f"{parts.path.rstrip('/')}: no login, ?query or #fragment"
        )
    path = _API_PATH.sub("", parts.path.rstrip("/")).rstrip("/")
    return f"{parts.scheme.lower()}://{parts.netloc}{path}"


def validation_message(exc: ValidationError) -> str:
    """Pydantic's errors as one line a shop owner can act on."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors(include_input=False, include_url=False)
    )


#: What each secret of a store is for, in messages (never the secret itself).
SECRET_PURPOSES = {
    "consumer_secret": "its consumer secret",
    "webhook_secret": "its webhook secret",
    "storefront_secret": "the storefront's shared secret",
    "storefront_previous_secret": "the storefront's previous shared secret",
}


class StoreConfig(BaseModel):
    """One WooCommerce store. Each secret is inline or, better, named by an env variable."""

    model_config = ConfigDict(extra="forbid")

    url: str
    consumer_key: str
    consumer_secret: str | None = Field(default=None, repr=False)
    consumer_secret_env: str | None = None
    query_string_auth: bool = False
    verify_tls: bool = True
    #: Signs WooCommerce's webhook deliveries (``bazgasht webhooks install`` sets it).
    webhook_secret: str | None = Field(default=None, repr=False)
    webhook_secret_env: str | None = None
    #: The storefront API's shared secret, pasted into the WordPress plugin; the previous one
    #: is still accepted while a rotation is under way (docs/storefront-api.md).
    storefront_secret: str | None = Field(default=None, repr=False)
    storefront_secret_env: str | None = None
    storefront_previous_secret: str | None = Field(default=None, repr=False)
    storefront_previous_secret_env: str | None = None
    #: The loyalty program's settings (SPEC §4), validated by the loyalty package.
    loyalty: dict[str, Any] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return shop_address(value)

    def optional_secret(self, field: str, name: str, environ: Mapping[str, str]) -> str | None:
        """The secret ``field`` (``consumer_secret``, ``webhook_secret``, …): from the
        environment variable named by ``<field>_env`` if there is one (which must then be
        set), else inline, else None."""
        variable = getattr(self, f"{field}_env")
        if variable:
            found = environ.get(variable, "")
            if not found:
                raise ConfigError(
                    f"store {name!r}: the environment variable {variable} that should hold "
                    f"{SECRET_PURPOSES[field]} is not set."
                )
            return str(found)
        inline = getattr(self, field)
        return str(inline) if inline else None

    def secret(self, name: str, environ: Mapping[str, str]) -> str:
        found = self.optional_secret("consumer_secret", name, environ)
        if found:
            return found
        raise ConfigError(
            f"store {name!r} has no consumer secret: set consumer_secret_env in the config, "
            f"or run `bazgasht store add {name}` again."
        )

    def webhook_key(self, name: str, environ: Mapping[str, str]) -> str | None:
        """The secret WooCommerce signs this store's webhook deliveries with; None until
        ``bazgasht webhooks install``."""
        return self.optional_secret("webhook_secret", name, environ)

    def storefront_keys(self, name: str, environ: Mapping[str, str]) -> tuple[str, ...]:
        """The storefront secrets a request may be signed with: the current one, then the
        previous one while a rotation is under way. Empty when the storefront is not set up."""
        current = self.optional_secret("storefront_secret", name, environ)
        if current is None:
            return ()
        previous = self.optional_secret("storefront_previous_secret", name, environ)
        return (current, previous) if previous and previous != current else (current,)

    @property
    def inline_secrets(self) -> bool:
        """Whether this store keeps any secret in the config file itself."""
        return any(getattr(self, field) for field in SECRET_PURPOSES)

    def credentials(self, name: str, environ: Mapping[str, str]) -> StoreCredentials:
        from connector import StoreCredentials

        return StoreCredentials(
            name=name,
            url=self.url,
            consumer_key=self.consumer_key,
            consumer_secret=self.secret(name, environ),
            query_string_auth=self.query_string_auth,
            verify_tls=self.verify_tls,
        )


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database_url: str | None = None
    stores: dict[str, StoreConfig] = Field(default_factory=dict)


def config_path(explicit: Path | None, environ: Mapping[str, str]) -> Path:
    if explicit is not None:
        return explicit
    if environ.get(ENV_CONFIG):
        return Path(environ[ENV_CONFIG])
    return default_config_path()


def load_config(path: Path) -> Config:
    """Read and validate the file; a missing file is an empty config."""
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the config file {path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from exc
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"the config file {path} has errors: {validation_message(exc)}") from exc
    if any(s.inline_secrets for s in config.stores.values()):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"the config file {path} holds a secret but other users can read it "
                f"(mode {mode:o}). Run: chmod 600 {path}"
            )
    return config


def save_config(path: Path, config: Config) -> None:
    """Write atomically, mode 0600 from the first byte (never briefly world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = config.model_dump(exclude_none=True, exclude_defaults=False)
    for store in data.get("stores", {}).values():
        if not store.get("loyalty"):
            store.pop("loyalty", None)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            tomli_w.dump(data, handle)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def database_url(config: Config, environ: Mapping[str, str]) -> str:
    return environ.get(ENV_DATABASE_URL) or config.database_url or default_database_url()
