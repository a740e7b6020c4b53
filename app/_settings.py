"""The loyalty program's settings as data: showing them, changing them, importing the
config file's — each change previewed before it is applied (docs/loyalty.md, *Settings*).

Every entry point gets a store's program through ``program_for``: the settings stored in
the database (``loyalty.stored``), the same on every host; the config file's loyalty table
only makes a new program's first version.

A change is two steps: ``plan_change`` / ``plan_import`` compute what it would do
(``loyalty.preview``: points added and taken back, customers touched, liability before →
after) without writing; ``apply_change`` records the new version — refused if another
version was recorded since the plan — and reconciles the ledger at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from app._registry import Registry
from connector import BazgashtError, ConfigError, stores
from loyalty import Program, ReconcileResult, reconcile
from loyalty.preview import Effect, preview
from loyalty.program import load_program
from loyalty.stored import (
    CLI,
    TOML_IMPORT,
    SettingsNotImported,
    SettingsVersion,
    changes_between,
    config_differences,
    current_version,
    history,
    local_actor,
    record_version,
    setting_json,
    stored_program,
    values_of,
    with_value,
)


def actor_of(registry: Registry) -> str:
    """Who acts from this process, for the settings' history: ``user@host``."""
    return local_actor(registry.environ)


def program_for(registry: Registry, name: str, now: datetime, *, create: bool = True) -> Program:
    """The store's program under the settings in force (stored in the database)."""
    return stored_program(
        registry.engine(),
        name,
        now,
        config=registry.store(name).loyalty,
        actor=actor_of(registry),
        create=create,
    )


def ignored_config(registry: Registry, name: str) -> dict[str, list[Any]]:
    """What the config file's ``[stores.NAME.loyalty]`` says differently from the stored
    settings (``{setting: [file, database]}``): ignored, and worth saying so."""
    with registry.engine().connect() as conn:
        store_id = conn.execute(select(stores.c.id).where(stores.c.name == name)).scalar()
        found = None if store_id is None else current_version(conn, store_id)
    if found is None:
        return {}
    return _concrete(registry, name, config_differences(found.values, registry.store(name).loyalty))


def _concrete(
    registry: Registry, name: str, differences: dict[str, list[Any]]
) -> dict[str, list[Any]]:
    """The database side of ``differences`` as the value in force, defaults resolved."""
    if not any(db is None for _, db in differences.values()):
        return differences
    try:
        program = program_for(registry, name, datetime.now(UTC), create=False)
        values = {k: v for k, v, _ in program.as_table()}
    except BazgashtError:
        return differences
    return {k: [f, values.get(k, db) if db is None else db] for k, (f, db) in differences.items()}


@dataclass
class SettingsView:
    """``loyalty settings``: the values in force, their history, the config's leftovers."""

    store: str
    program: Program
    #: None before the settings are stored (the store was never synced, or not imported).
    versions: list[SettingsVersion]
    ignored: dict[str, list[Any]] = field(default_factory=dict)
    #: The settings are not stored and the ledger follows neither the file nor the defaults.
    not_imported: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """``loyalty settings --format json``: typed as every JSON output (``setting_json``)."""
        program, decimals = self.program, self.program.decimals
        rows = program.as_table()
        return {
            "store": self.store,
            "settings": {k: setting_json(k, v, decimals) for k, v, _ in rows},
            # "config" (set by the owner) or which default (docs/loyalty.md).
            "sources": {k: program.sources.get(k, "default") for k, _, _ in rows},
            "version": self.versions[-1].version if self.versions else None,
            "history": [v.as_dict(decimals) for v in self.versions],
            "ignored_config": {
                k: {
                    "config": setting_json(k, c, decimals),
                    "database": setting_json(k, d, decimals),
                }
                for k, (c, d) in self.ignored.items()
            },
            "not_imported": self.not_imported,
        }

    def changed(self, name: str) -> SettingsVersion | None:
        """The version that last changed ``name``."""
        found = None
        for version in self.versions:
            if name in version.changes:
                found = version
        return found


def settings_view(registry: Registry, name: str, now: datetime) -> SettingsView:
    """The settings of ``name`` in force and their history; writes only the first version of
    a program that existed before settings were stored (and only when that moves no point)."""
    registry.store(name)
    try:
        program = program_for(registry, name, now, create=False)
        not_imported = None
    except SettingsNotImported as exc:
        program = load_program(
            registry.engine(), name, values_of(name, registry.store(name).loyalty), now,
            create=False,
        )  # fmt: skip
        not_imported = str(exc)
    versions: list[SettingsVersion] = []
    with registry.engine().connect() as conn:
        store_id = conn.execute(select(stores.c.id).where(stores.c.name == name)).scalar()
        if store_id is not None:
            versions = history(conn, store_id)
    ignored = (
        _concrete(
            registry, name, config_differences(versions[-1].values, registry.store(name).loyalty)
        )
        if versions
        else {}
    )
    return SettingsView(name, program, versions, ignored, not_imported)


@dataclass
class SettingsChange:
    """A change of a store's settings, planned (with its effect) but not applied yet."""

    store: str
    source: str  # "cli" | "toml-import"
    before: dict[str, Any]
    after: dict[str, Any]
    #: The version the plan was made against (None: no version stored yet).
    base_version: int | None
    effect: Effect
    #: Settings the change touches: {name: [before, after]} (None: unset, i.e. the default).
    changes: dict[str, list[Any]] = field(default_factory=dict)
    #: The concrete values before → after of each changed setting (defaults resolved).
    resolved: dict[str, list[str]] = field(default_factory=dict)

    def _json(self, key: str, value: Any) -> Any:
        return setting_json(key, value, self.effect.decimals)

    @property
    def empty(self) -> bool:
        return not self.changes and self.base_version is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "source": self.source,
            "base_version": self.base_version,
            "changes": {
                k: {"from": self._json(k, v[0]), "to": self._json(k, v[1])}
                for k, v in self.changes.items()
            },
            "values": {
                k: {"from": self._json(k, v[0]), "to": self._json(k, v[1])}
                for k, v in self.resolved.items()
            },
            "effect": self.effect.as_dict(),
        }


@dataclass
class AppliedChange:
    change: SettingsChange
    version: SettingsVersion
    reconcile: ReconcileResult | None
    #: Why the ledger was not reconciled at once (the next sync does it).
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.change.as_dict(),
            "applied": True,
            "version": self.version.as_dict(self.change.effect.decimals),
            "reconcile": None if self.reconcile is None else self.reconcile.as_dict(),
            "problem": self.problem,
        }


def _current(registry: Registry, name: str, now: datetime) -> tuple[Program | None, int | None]:
    """The program in force and its version; (None, None) when no version can be adopted."""
    try:
        program = program_for(registry, name, now, create=False)
    except SettingsNotImported:
        return None, None
    if program.settings_version is None:
        raise ConfigError(
            f"store {name!r} has no data yet: run `bazgasht sync --store {name}` first "
            "(its first sync starts the program with the config file's settings)."
        )
    return program, program.settings_version


def _plan(
    registry: Registry,
    name: str,
    now: datetime,
    after: dict[str, Any],
    source: str,
) -> SettingsChange:
    current, base = _current(registry, name, now)
    with registry.engine().connect() as conn:
        store_id = conn.execute(select(stores.c.id).where(stores.c.name == name)).scalar()
        found = None if store_id is None or base is None else current_version(conn, store_id)
    before = found.values if found is not None else {}
    proposed = load_program(registry.engine(), name, after, now, create=False)
    changes = changes_between(before, after) if found is not None else changes_between({}, after)
    resolved: dict[str, list[str]] = {}
    if current is not None:
        old_rows = {k: v for k, v, _ in current.as_table()}
        for k, v, _ in proposed.as_table():
            if old_rows.get(k) != v:
                resolved[k] = [old_rows.get(k, ""), v]
    if current is not None and not changes:
        effect = Effect(False, proposed.currency, proposed.decimals)
    else:
        effect = preview(registry.engine(), current, proposed, now)
    return SettingsChange(name, source, before, after, base, effect, changes, resolved)


def plan_change(
    registry: Registry, name: str, key: str, value: str, now: datetime
) -> SettingsChange:
    """``loyalty settings set KEY VALUE``, planned: validated (``ConfigError``, exit 2, with
    what is allowed) and previewed. Writes nothing."""
    current, _base = _current(registry, name, now)
    if current is None:
        raise SettingsNotImported(
            f"store {name!r}: its settings are not in the database yet, so there is nothing to "
            f"change: import the config file's first (`bazgasht loyalty settings import "
            f"--store {name}`), then set {key}."
        )
    with registry.engine().connect() as conn:
        store_id = conn.execute(select(stores.c.id).where(stores.c.name == name)).scalar()
        assert store_id is not None
        found = current_version(conn, store_id)
    assert found is not None
    after = with_value(name, found.values, key, value)
    return _plan(registry, name, now, after, CLI)


def plan_import(registry: Registry, name: str, now: datetime) -> SettingsChange:
    """``loyalty settings import``: the config file's loyalty table as the new settings,
    previewed. Settings the file does not set go back to their defaults."""
    after = values_of(name, registry.store(name).loyalty)
    return _plan(registry, name, now, after, TOML_IMPORT)


def apply_change(registry: Registry, change: SettingsChange, now: datetime) -> AppliedChange:
    """Record the planned version (``SettingsChanged`` if another was recorded since the
    plan: its preview is stale) and reconcile the store's ledger under it at once."""
    engine = registry.engine()
    with engine.begin() as conn:
        store_id = conn.execute(select(stores.c.id).where(stores.c.name == change.store)).scalar()
        if store_id is None:
            raise ConfigError(f"store {change.store!r} has no data yet: sync it first.")
        version = record_version(
            conn,
            store_id,
            change.after,
            source=change.source,
            actor=actor_of(registry),
            now=now,
            after=change.base_version,
        )
    program = program_for(registry, change.store, now)
    try:
        result = reconcile(engine, program, now)
    except BazgashtError as exc:  # the version stands; the next sync reconciles under it
        return AppliedChange(change, version, None, str(exc))
    return AppliedChange(change, version, result)
