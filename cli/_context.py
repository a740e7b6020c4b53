"""What every command needs: the config, the database, a console, the options of the run.

Built once per invocation by the root callback and handed to commands through
``typer.Context.obj`` — no module-level globals.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import Engine, select

from cli._config import Config, StoreConfig, database_url, default_database_url, load_config
from connector import ConfigError, open_database
from connector._schema import stores


@dataclass
class AppContext:
    config_path: Path
    debug: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    #: The path was named by --config or BAZGASHT_CONFIG: it must exist (a typo is not "no
    #: stores"). The default path may be missing: that is a new installation.
    config_explicit: bool = False
    _config: Config | None = None
    _engine: Engine | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            if self.config_explicit and not self.config_path.exists():
                raise ConfigError(
                    f"the config file {self.config_path} does not exist (named by --config or "
                    "BAZGASHT_CONFIG). Fix the path, or create it with "
                    f"`bazgasht --config {self.config_path} init`."
                )
            self._config = load_config(self.config_path)
        return self._config

    @property
    def database_url(self) -> str:
        return database_url(self.config, self.environ)

    def engine(self) -> Engine:
        if self._engine is None:
            url = self.database_url
            # The default data folder is Bazgasht's own: it is kept private too.
            self._engine = open_database(url, own_folder=url == default_database_url())
        return self._engine

    def store(self, name: str) -> StoreConfig:
        try:
            return self.config.stores[name]
        except KeyError:
            known = ", ".join(sorted(self.config.stores)) or "none yet"
            raise ConfigError(
                f"no store named {name!r} in {self.config_path} (configured: {known}). "
                f"Add it with `bazgasht store add {name} --url URL`."
            ) from None

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
        with self.engine().connect() as conn:
            found = conn.execute(select(stores.c.id).where(stores.c.name == name)).scalar()
        if found is None:
            raise ConfigError(
                f"store {name!r} has no data yet: run `bazgasht sync --store {name}` first."
            )
        return int(found)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppContext), "the root callback sets the context"
    return obj


def invocation(argv0: str | None = None, cwd: Path | None = None) -> str:
    """How this run of Bazgasht was started, as a command the owner can type back: hints
    printed with it run as printed. ``bazgasht`` when that is what the shell finds;
    ``.venv/bin/bazgasht`` after ``python3 dev.py`` (not on the PATH); ``python -m cli``."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    here = Path.cwd() if cwd is None else cwd
    path = Path(argv0)
    if path.name == "__main__.py" or argv0 in ("-m", "-c", ""):
        return f"{shlex.quote(sys.executable)} -m cli"
    if os.sep not in argv0:  # found on the PATH by the shell
        return argv0
    found = shutil.which("bazgasht")
    absolute = Path(os.path.abspath(argv0))
    if found and absolute.exists() and os.path.samefile(found, absolute):
        return "bazgasht"
    relative = os.path.relpath(absolute, here)
    if not relative.startswith(".."):
        return shlex.quote(relative if os.sep in relative else f".{os.sep}{relative}")
    return shlex.quote(str(absolute))


def stdout_console() -> Console:
    # Created per command so tests that capture sys.stdout see the output.
    return Console(file=sys.stdout, soft_wrap=True)


def stderr_console() -> Console:
    return Console(file=sys.stderr, soft_wrap=True)
