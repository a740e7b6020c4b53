"""Use cases of the store registry: add, list, remove, check and repoint a store.

The entry point asks for what it must (a key, a secret at a hidden prompt) and renders; the
checks of what the owner typed, the saving and the talking to the shop are here. Each raises
``ConfigError`` with a message that says how to fix it; nothing is saved when one is raised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from app._config import (
    STORE_NAME_PATTERN,
    StoreConfig,
    save_config,
    shop_address,
    validation_message,
)
from app._registry import Registry
from connector import (
    ConfigError,
    StoreCheck,
    WooClient,
    archive_store,
    check_store,
    remember_facts,
    store_lock,
    verify_identity,
)

#: Words `bazgasht sync` reads as subcommands, so no store may be called that.
RESERVED_NAMES = frozenset({"status"})

#: WooCommerce makes keys as "ck_"/"cs_" and a 40-digit hexadecimal hash (wc_rand_hash).
_KEY = re.compile(r"ck_[0-9a-f]{40}")
_SECRET = re.compile(r"cs_[0-9a-f]{40}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WHERE = "WooCommerce → Settings → Advanced → REST API"


def new_store_address(name: str, url: str) -> str:
    """The shop's address for a store about to be added, once ``name`` is a valid name: said
    before any key is asked for, so a wrong address is said at once."""
    if not re.match(STORE_NAME_PATTERN, name) or name in RESERVED_NAMES:
        raise ConfigError(
            f"{name!r} cannot be a store name: use letters, digits, '-', '_' or '.', "
            f"not {', '.join(sorted(RESERVED_NAMES))}."
        )
    try:
        return shop_address(url)
    except ValueError as exc:
        raise ConfigError(f"--url: {exc}") from None


def checked_key(key: str) -> str:
    """A consumer key as WooCommerce makes them; never echoes what was given (it may be the
    secret, pasted in the wrong place)."""
    if _SECRET.fullmatch(key):
        raise ConfigError(
            "--key: that is the consumer secret (cs_…); give the consumer key (ck_…) here, "
            "and the secret with --secret-env, --secret-stdin or at the prompt."
        )
    if not _KEY.fullmatch(key):
        raise ConfigError(
            f"--key: not a WooCommerce consumer key: those are ck_ and 40 letters and digits "
            f"(0-9, a-f), shown once when the key is made in {_WHERE}. Copy it whole."
        )
    return key


def checked_secret_env(variable: str, environ: Mapping[str, str]) -> str:
    """The secret held by the environment variable ``variable``, checked."""
    if not _ENV_NAME.fullmatch(variable):
        raise ConfigError(
            f"--secret-env: {variable!r} is not an environment variable name "
            "(letters, digits and _, e.g. MYSHOP_SECRET)."
        )
    value = environ.get(variable, "").strip()
    if not value:
        raise ConfigError(
            f"--secret-env: the environment variable {variable} is not set here. Set it "
            f"first (export {variable}=cs_…) — and wherever Bazgasht runs, e.g. on the cron "
            "line — then add the store again. Nothing was saved."
        )
    checked_secret(value, f"the variable {variable}")
    return value


def checked_secret(secret: str, what: str) -> str:
    """A consumer secret as WooCommerce makes them; ``what`` names where it came from."""
    if not secret:
        raise ConfigError(f"{what} is empty. Nothing was saved.")
    if _KEY.fullmatch(secret):
        raise ConfigError(
            f"{what} is the consumer key (ck_…); the secret is the one that starts with cs_."
        )
    if not _SECRET.fullmatch(secret):
        raise ConfigError(
            f"{what} is not a WooCommerce consumer secret: those are cs_ and 40 letters and "
            f"digits (0-9, a-f), shown once when the key is made in {_WHERE}. Nothing was "
            "saved."
        )
    return secret


def add_store(
    registry: Registry,
    name: str,
    address: str,
    key: str,
    *,
    secret: str | None,
    secret_env: str | None,
    query_string_auth: bool,
    verify_tls: bool,
) -> StoreConfig:
    """Save the store ``name`` (replacing its connection settings, keeping its program's)."""
    config = registry.config.model_copy(deep=True)
    try:
        store = StoreConfig(
            url=address,
            consumer_key=key,
            consumer_secret=secret,
            consumer_secret_env=secret_env,
            query_string_auth=query_string_auth,
            verify_tls=verify_tls,
            loyalty=config.stores[name].loyalty if name in config.stores else {},
        )
    except ValidationError as exc:
        raise ConfigError(f"store {name!r}: {validation_message(exc)}") from None
    config.stores[name] = store
    save_config(registry.config_path, config)
    return store


def store_rows(registry: Registry) -> list[dict[str, str]]:
    """The configured stores, secrets never shown: name, url, masked key, where the secret
    comes from."""
    return [
        {
            "store": name,
            "url": store.url,
            "consumer_key": _mask(store.consumer_key),
            "secret_from": f"${store.consumer_secret_env}"
            if store.consumer_secret_env
            else "config file",
        }
        for name, store in sorted(registry.config.stores.items())
    ]


def remove_store(registry: Registry, name: str) -> None:
    """Remove the store from the config; its data stays in the database."""
    registry.store(name)
    config = registry.config.model_copy(deep=True)
    del config.stores[name]
    save_config(registry.config_path, config)


def check_store_now(registry: Registry, name: str) -> StoreCheck:
    """Check the store, and remember what it told about itself (currency, timezone…) when
    the shop is the one mirrored under this name (else ``StoreIdentityChanged``)."""
    creds = registry.store(name).credentials(name, registry.environ)
    with WooClient(creds) as client:
        report = check_store(client)
        if report.facts is not None:
            engine = registry.engine()
            verify_identity(engine, client, name)
            remember_facts(engine, name, creds.url, report.facts)
    return report


@dataclass(frozen=True)
class Repointed:
    store: StoreConfig
    archived: str | None  # the name the previous mirror is kept under, if there was one


def repoint_store(
    registry: Registry, name: str, url: str | None, now: datetime, *, yes: bool
) -> Repointed:
    """Start a fresh mirror for ``name``: the old one is kept under an archive name."""
    store = registry.store(name)
    if not yes:
        raise ConfigError(
            f"`store repoint {name}` starts a fresh mirror for {name!r} (the old data is kept "
            "under an archive name); run it again with --yes to do it."
        )
    config = registry.config.model_copy(deep=True)
    if url is not None:
        try:
            store = store.model_copy(update={"url": shop_address(url)})
        except ValueError as exc:
            raise ConfigError(f"--url: {exc}") from None
    engine = registry.engine()
    with store_lock(engine, name):  # no sync of this name meanwhile
        archived = archive_store(engine, name, now)
        config.stores[name] = store
        save_config(registry.config_path, config)
    return Repointed(store, archived)


def _mask(key: str) -> str:
    return key[:3] + "…" + key[-4:] if len(key) > 10 else "…"
