"""The program's settings as data in the database: versioned, the same on every host.

Every run of a store's program — a ``sync`` on any cron host, ``loyalty reconcile``, a
redemption, a report — resolves the settings of the highest version in ``loyalty_settings``,
never the host's config file: hosts sharing one database derive the same ledger. A version
records the values the owner set (unset keys take their defaults, ``loyalty.settings``),
what it changed, when, by whom (``user@host``) and how (``default``, ``toml-import``,
``cli``). Versions are only ever added.

Where the first version comes from (``stored_program``):

* a **new program** (a store's first sync) takes the config file's ``[stores.NAME.loyalty]``
  as it is (``toml-import``; ``default`` when the table is empty): nothing has been credited
  yet, so nothing changes behind anyone's back;
* a program that existed **before settings were stored** (migration 0010_settings) adopts the
  settings its ledger already follows — the config file's, else the defaults — judged by the
  rules fingerprint of its last reconciliation, so adopting them moves no point;
* when the ledger follows neither (the config file was edited since the last
  reconciliation, or another host's file differs), nothing is adopted: ``SettingsNotImported``
  until the owner has seen the preview and ran ``bazgasht loyalty settings import --yes``.

From then on the config file's loyalty table is *ignored*; where it says something else than
the database, commands say so (``config_differences``) and point to ``loyalty settings``.
"""

from __future__ import annotations

import difflib
import getpass
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from connector import BazgashtError, ConfigError, dialect_insert, host_name, price_json, stores
from loyalty._schema import loyalty_programs, loyalty_settings
from loyalty.program import load_program
from loyalty.settings import Program, ProgramSettings, parse_settings

#: How a version came about.
DEFAULT, TOML_IMPORT, CLI = "default", "toml-import", "cli"
#: The settings a command may change, in the order ``loyalty settings`` shows them.
SETTING_NAMES = tuple(ProgramSettings.model_fields)
#: Settings whose value may be "none" (off).
OPTIONAL = frozenset({"expiry_months", "inactivity_expiry_months"})


def local_actor(environ: Mapping[str, str] | None = None) -> str:
    """Who changes the settings from this process: ``user@host``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (a container)
        user = f"uid{os.getuid()}"
    return f"{user}@{host_name(environ)}"


class SettingsNotImported(ConfigError):
    """The program existed before its settings were stored, and its ledger follows neither
    the config file's settings nor the defaults: the owner must see the preview first."""


class SettingsChanged(BazgashtError):
    """Another process recorded a new version of the settings meanwhile; nothing written."""


@dataclass(frozen=True)
class SettingsVersion:
    """One version of a store's program settings."""

    version: int
    values: dict[str, Any]
    changes: dict[str, list[Any]]
    source: str
    changed_by: str
    changed_at: datetime
    note: str | None = None

    def as_dict(self, decimals: int) -> dict[str, Any]:
        """For ``--format json`` (``setting_json``: the store's currency has ``decimals``)."""
        return {
            "version": self.version,
            "source": self.source,
            "changed_by": self.changed_by,
            "changed_at": self.changed_at.isoformat(),
            "changes": {
                k: {"from": setting_json(k, v[0], decimals), "to": setting_json(k, v[1], decimals)}
                for k, v in sorted(self.changes.items())
            },
            "settings": {k: setting_json(k, v, decimals) for k, v in sorted(self.values.items())},
            "note": self.note,
        }


#: Settings that are whole numbers, and those that are true or false.
_INTEGERS = frozenset(
    name
    for name, info in ProgramSettings.model_fields.items()
    if int in getattr(info.annotation, "__args__", (info.annotation,))
)
_BOOLEANS = frozenset(
    name for name, info in ProgramSettings.model_fields.items() if info.annotation is bool
)


def setting_json(key: str, value: Any, decimals: int) -> Any:
    """A setting's value for ``--format json``, whatever form it comes in (a stored version's
    JSON value, ``Program.as_table``'s text, a resolved value): the JSON conventions of every
    output (docs/cli.md) — whole numbers and booleans as JSON ones, the point's value as a
    decimal string with at least the currency's ``decimals`` (``price_json``), the cashback
    percentage as a number, statuses as a list, an instant as ISO text; ``None`` for unset
    ("none", no expiry)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "")):
        return None
    if key == "point_value":
        return price_json(Decimal(str(value)), decimals)
    if key == "cashback_percent":
        number = Decimal(str(value))
        return int(number) if number == number.to_integral_value() else float(number)
    if key in _BOOLEANS:
        return value if isinstance(value, bool) else str(value).strip().lower() == "true"
    if key in _INTEGERS:
        return int(value)
    if key == "earn_statuses":
        items = value.split(",") if isinstance(value, str) else value
        return sorted(str(s).strip() for s in items if str(s).strip())
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def values_of(store: str, raw: dict[str, Any] | None) -> dict[str, Any]:
    """The owner's settings, validated (``ConfigError`` otherwise) and normalised to JSON
    values — the form versions hold and compare: ``{"cashback_percent": "2.5", …}``."""
    parsed = parse_settings(store, raw)
    values: dict[str, Any] = parsed.model_dump(mode="json", exclude_unset=True)
    return values


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{setting: [before, after]}`` for every setting whose value differs (None: unset)."""
    return {
        k: [before.get(k), after.get(k)]
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }


def _row(row: Any) -> SettingsVersion:
    return SettingsVersion(
        version=int(row.version),
        values=json.loads(row.settings),
        changes=json.loads(row.changes),
        source=row.source,
        changed_by=row.changed_by,
        changed_at=row.changed_at,
        note=row.note,
    )


def history(conn: Connection, store_id: int) -> list[SettingsVersion]:
    """Every version of the store's settings, oldest first."""
    rows = conn.execute(
        select(loyalty_settings)
        .where(loyalty_settings.c.store_id == store_id)
        .order_by(loyalty_settings.c.version)
    )
    return [_row(r) for r in rows]


def current_version(conn: Connection, store_id: int) -> SettingsVersion | None:
    """The version in force (the highest), None before the first."""
    row = conn.execute(
        select(loyalty_settings)
        .where(loyalty_settings.c.store_id == store_id)
        .order_by(loyalty_settings.c.version.desc())
        .limit(1)
    ).first()
    return None if row is None else _row(row)


def record_version(
    conn: Connection,
    store_id: int,
    values: dict[str, Any],
    *,
    source: str,
    actor: str,
    now: datetime,
    after: int | None,
    note: str | None = None,
) -> SettingsVersion:
    """Append the version after ``after`` (None: the first). Raises ``SettingsChanged`` when
    another process wrote that version meanwhile (the caller's preview is then stale)."""
    before = current_version(conn, store_id)
    if (before.version if before else None) != after:
        raise SettingsChanged(_changed_meanwhile(before))
    version = SettingsVersion(
        version=(after or 0) + 1,
        values=dict(sorted(values.items())),
        changes=changes_between(before.values if before else {}, values),
        source=source,
        changed_by=actor,
        changed_at=now,
        note=note,
    )
    row = {
        "store_id": store_id,
        "version": version.version,
        "settings": json.dumps(version.values, sort_keys=True),
        "changes": json.dumps(version.changes, sort_keys=True),
        "source": source,
        "changed_by": actor[:300],
        "changed_at": now,
        "note": note,
    }
    try:
        conn.execute(insert(loyalty_settings).values(**row))
    except IntegrityError:  # written since the check above; the transaction is spoilt
        raise SettingsChanged(_changed_meanwhile(None)) from None
    return version


def _changed_meanwhile(found: SettingsVersion | None) -> str:
    who = "" if found is None else f" (version {found.version}, by {found.changed_by})"
    return (
        f"the program's settings were changed by another process meanwhile{who}; nothing "
        "was written. Look at `bazgasht loyalty settings` and run the command again."
    )


def config_differences(
    values: dict[str, Any], config: dict[str, Any] | None
) -> dict[str, list[Any]]:
    """What the config file's loyalty table says differently from the stored ``values``
    (``{setting: [config, database]}``), for the warning that the file is ignored. Only the
    settings the file sets; an invalid table differs as a whole (key ``"*"``)."""
    if not config:
        return {}
    try:
        wanted = values_of("", config)
    except ConfigError:
        return {"*": ["invalid", None]}
    return {k: [v, values.get(k)] for k, v in sorted(wanted.items()) if values.get(k) != v}


# --------------------------------------------------------------------------- the program


def stored_program(
    engine: Engine | Connection,
    store: str,
    now: datetime,
    *,
    config: dict[str, Any] | None,
    actor: str | None = None,
    create: bool = True,
) -> Program:
    """The store's program under the settings in force (the database's), creating the
    program (``create``) and its first settings version when needed — module docstring.

    ``config``: the host's ``[stores.NAME.loyalty]`` table, read only to make the first
    version. Raises ``SettingsNotImported`` (exit 2) when an existing program's ledger
    follows neither it nor the defaults."""
    who = actor or local_actor()
    if isinstance(engine, Connection):
        return _stored(engine, store, now, config, who, create)
    with engine.begin() as conn:
        return _stored(conn, store, now, config, who, create)


def _stored(
    conn: Connection,
    store: str,
    now: datetime,
    config: dict[str, Any] | None,
    actor: str,
    create: bool,
) -> Program:
    store_id = conn.execute(select(stores.c.id).where(stores.c.name == store)).scalar()
    if store_id is None:
        # Before the first sync: nothing stored yet; show what the config would start with.
        return load_program(conn, store, values_of(store, config), now, create=False)
    found = current_version(conn, store_id)
    if found is None:
        found = _first_version(conn, store, store_id, now, config, actor, create)
        if found is None:  # not created (``create`` False, no program yet): for display
            return load_program(conn, store, values_of(store, config), now, create=False)
    program = load_program(conn, store, found.values, now, create=create)
    return replace(program, settings_version=found.version)


def _first_version(
    conn: Connection,
    store: str,
    store_id: int,
    now: datetime,
    config: dict[str, Any] | None,
    actor: str,
    create: bool,
) -> SettingsVersion | None:
    """Make version 1, or say why it cannot be made without the owner (docstring)."""
    wanted = values_of(store, config)
    program = conn.execute(
        select(loyalty_programs.c.fingerprint).where(loyalty_programs.c.store_id == store_id)
    ).first()
    if program is None and not create:
        return None
    note = None
    values = wanted
    if program is not None and program.fingerprint is not None:
        follows = program.fingerprint
        if _fingerprint(conn, store, wanted, now) == follows:
            note = "adopted: the ledger already followed the config file's settings"
        elif _fingerprint(conn, store, {}, now) == follows:
            values = {}
            note = "adopted: the ledger followed the defaults"
        else:
            raise SettingsNotImported(not_imported_message(store))
    source = TOML_IMPORT if values else DEFAULT
    if note is None and values:
        note = "the config file's settings, when the program was created"
    insert_ = dialect_insert(conn.dialect.name)
    row = {
        "store_id": store_id,
        "version": 1,
        "settings": json.dumps(values, sort_keys=True),
        "changes": json.dumps(changes_between({}, values), sort_keys=True),
        "source": source,
        "changed_by": actor[:300],
        "changed_at": now,
        "note": note,
    }
    # Two hosts making version 1 at once: one row, both read it.
    conn.execute(insert_(loyalty_settings).values(**row).on_conflict_do_nothing())
    return current_version(conn, store_id)


def _fingerprint(conn: Connection, store: str, values: dict[str, Any], now: datetime) -> str:
    return load_program(conn, store, values, now, create=False).rules_fingerprint()


def not_imported_message(store: str) -> str:
    return (
        f"store {store!r}: the loyalty program's settings are kept in the database now, and "
        "its ledger follows neither the config file's [stores."
        f"{store}.loyalty] nor the defaults (the file was changed since the last "
        "reconciliation, or another host's file differs). Nothing was reconciled. See what "
        f"importing the file's settings would change: `bazgasht loyalty settings import "
        f"--store {store}`; apply it with --yes."
    )


def settings_count(conn: Connection, store_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).where(loyalty_settings.c.store_id == store_id)
        ).scalar_one()
    )


# --------------------------------------------------------------------------- one value


def with_value(store: str, values: dict[str, Any], key: str, text: str) -> dict[str, Any]:
    """``values`` with ``key`` set to ``text`` as typed on the command line (``default``
    removes the owner's value; ``none`` turns an expiry off), validated: a ``ConfigError``
    naming the setting and what is allowed."""
    name = key.strip().lower().replace("-", "_")
    if name not in SETTING_NAMES:
        close = difflib.get_close_matches(name, SETTING_NAMES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"there is no loyalty setting {key!r}.{hint} The settings: "
            + ", ".join(SETTING_NAMES)
            + "."
        )
    word = text.strip()
    out = dict(values)
    if word.lower() == "default":
        out.pop(name, None)
        return values_of(store, out)
    value: Any = word
    if name in OPTIONAL and word.lower() in ("none", "off", "never"):
        value = None
    elif name == "earn_statuses":
        value = [s for s in (p.strip() for p in word.split(",")) if s]
    elif name in ("guests_earn", "refund_expired_coupons"):
        lowered = word.lower()
        if lowered not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
            raise ConfigError(f"loyalty.{name}: give true or false, not {text!r}.")
        value = lowered in ("true", "yes", "on", "1")
    out[name] = value
    try:
        return values_of(store, out)
    except ConfigError as exc:
        message = str(exc).replace(
            "the loyalty settings in the config file are not valid", "invalid value"
        )
        raise ConfigError(
            message.replace("See docs/loyalty.md", "Nothing was changed. See docs/loyalty.md")
        ) from None


__all__ = [
    "CLI",
    "DEFAULT",
    "SETTING_NAMES",
    "TOML_IMPORT",
    "SettingsChanged",
    "SettingsNotImported",
    "SettingsVersion",
    "changes_between",
    "config_differences",
    "current_version",
    "history",
    "local_actor",
    "not_imported_message",
    "record_version",
    "setting_json",
    "settings_count",
    "stored_program",
    "values_of",
    "with_value",
]
