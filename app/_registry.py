"""The store registry: the config file, the environment its secrets may come from, and the
database — what every entry point (the CLI, the server) needs before any use case.

Built once per command or per server process and passed in; no module-level globals.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select

from app._config import Config, StoreConfig, database_url, default_database_url, load_config
from connector import ConfigError, open_database, stores

if TYPE_CHECKING:  # the HTTP client and the inbox: imported when a command uses them
    from connector import StoreCredentials, WooClient


@dataclass
class Registry:
    """The configured stores, their secrets and the database, opened lazily."""

    config_path: Path
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    #: The path was named by --config or BAZGASHT_CONFIG: it must exist (a typo is not "no
    #: stores"). The default path may be missing: that is a new installation.
    config_explicit: bool = False
    _config: Config | None = None
    _engine: Engine | None = None
    _inbox: Engine | None = None
    _config_stamp: tuple[int, int] | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            if self.config_explicit and not self.config_path.exists():
                raise ConfigError(
                    f"the config file {self.config_path} does not exist (named by --config or "
                    "BAZGASHT_CONFIG). Fix the path, or create it with "
                    f"`bazgasht --config {self.config_path} init`."
                )
            self._config_stamp = self._stamp()
            self._config = load_config(self.config_path)
        return self._config

    def _stamp(self) -> tuple[int, int] | None:
        try:
            info = self.config_path.stat()
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def reload(self) -> Config:
        """Read the config file again (after a command saved it)."""
        self._config = None
        return self.config

    def refresh(self) -> bool:
        """Read the config file again if it changed since it was read, so that a long-running
        server sees what ``webhooks install`` or ``storefront secret`` saved; True if it did.
        A file broken meanwhile raises ``ConfigError`` and the config read before stays."""
        if self._config is None or self._stamp() == self._config_stamp:
            return False
        stamp = self._stamp()
        fresh = load_config(self.config_path)
        self._config, self._config_stamp = fresh, stamp
        return True

    @property
    def database_url(self) -> str:
        return database_url(self.config, self.environ)

    def engine(self) -> Engine:
        if self._engine is None:
            url = self.database_url
            # The default data folder is Bazgasht's own: it is kept private too.
            self._engine = open_database(url, own_folder=url == default_database_url())
        return self._engine

    def inbox(self) -> Engine:
        """The webhook inbox's database: the mirror's, or on SQLite a file of its own
        (``app.open_inbox``)."""
        if self._inbox is None:
            from app._webhooks import open_inbox

            self._inbox = open_inbox(self.engine())
        return self._inbox

    def store(self, name: str) -> StoreConfig:
        try:
            return self.config.stores[name]
        except KeyError:
            known = ", ".join(sorted(self.config.stores)) or "none yet"
            raise ConfigError(
                f"no store named {name!r} in {self.config_path} (configured: {known}). "
                f"Add it with `bazgasht store add {name} --url URL`."
            ) from None

    def has_store(self, name: str) -> bool:
        return name in self.config.stores

    def pick_stores(self, names: list[str] | None, all_stores: bool) -> list[str]:
        """The stores a command acts on: those named, all, or the only one configured."""
        if names:
            for name in names:
                self.store(name)
            return names
        configured = sorted(self.config.stores)
        if all_stores or len(configured) == 1:
            if not configured:
                raise ConfigError("no store is configured yet: run `bazgasht store add NAME`.")
            return configured
        if not configured:
            raise ConfigError(
                "no store is configured yet: run `bazgasht store add NAME --url URL`, "
                "or try everything on the built-in sample store with `bazgasht demo`."
            )
        raise ConfigError(
            f"several stores are configured ({', '.join(configured)}): name one, or use --all."
        )

    def store_id(self, name: str) -> int:
        """The database id of a store that has been synced at least once."""
        found = self.known_store_id(name)
        if found is None:
            raise ConfigError(
                f"store {name!r} has no data yet: run `bazgasht sync --store {name}` first."
            )
        return found

    def known_store_id(self, name: str) -> int | None:
        """The database id of the store, None before its first sync."""
        with self.engine().connect() as conn:
            found = conn.execute(select(stores.c.id).where(stores.c.name == name)).scalar()
        return None if found is None else int(found)

    def credentials(self, name: str) -> StoreCredentials:
        return self.store(name).credentials(name, self.environ)

    def client(self, name: str, **options: Any) -> WooClient:
        """A client of the store's REST API (``options``: ``WooClient``'s keywords)."""
        from connector import WooClient

        return WooClient(self.credentials(name), **options)

    def close(self) -> None:
        if self._inbox is not None and self._inbox is not self._engine:
            self._inbox.dispose()
        self._inbox = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
