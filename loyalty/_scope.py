"""The scope of an incremental reconciliation: what changed since the last run.

The mirror's change log (``loyalty_changes``, filled by triggers; migration 0008) names the
orders and accounts written since; without its triggers, the mirror is compared with the
facts the last run saw. Plus: lots that may have expired meanwhile, and the identity each
key belongs to now (the closure over holders)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    and_,
    insert,
    or_,
    select,
    text,
)

from connector import customers, orders
from loyalty._facts import (
    Facts,
    OrderRow,
    order_rows,
    raw_order_rows,
)
from loyalty._schema import (
    loyalty_account_facts,
    loyalty_changes,
    loyalty_ledger,
    loyalty_order_facts,
    loyalty_programs,
)
from loyalty._scratch import (
    Scratch,
)
from loyalty.identity import account_email_map, identity_of
from loyalty.rules import (
    CASHBACK,
    EXPIRY,
    MANUAL,
    REDEEM,
    SECOND,
    WELCOME,
    AccountFacts,
    add_months,
    family,
    key_subject,
)
from loyalty.settings import Program

#: Slack around the expiry window of an incremental run (month lengths, clock jitter).
EXPIRY_SLACK = timedelta(days=3)

# --------------------------------------------------------------------------- incremental scope


@dataclass
class State:
    fingerprint: str | None
    reconciled_at: datetime | None
    last_entry_id: int | None


def program_state(conn: Connection, store_id: int) -> State | None:
    row = conn.execute(
        select(
            loyalty_programs.c.fingerprint,
            loyalty_programs.c.reconciled_at,
            loyalty_programs.c.last_entry_id,
        ).where(loyalty_programs.c.store_id == store_id)
    ).first()
    return None if row is None else State(row[0], row[1], row[2])


def changed_orders(conn: Connection, store_id: int) -> list[Row[Any]]:
    """Orders whose rule inputs differ from what the last reconciliation saw."""
    cur = order_rows(store_id).subquery("cur")
    f = loyalty_order_facts
    joined = cur.outerjoin(f, and_(f.c.store_id == store_id, f.c.order_id == cur.c.order_id))
    differs = or_(
        f.c.order_id.is_(None),
        f.c.identity != cur.c.identity,
        f.c.status != cur.c.status,
        f.c.deleted != cur.c.deleted,
        f.c.created_at != cur.c.created_at,
        f.c.completed_at.is_distinct_from(cur.c.completed_at),
        f.c.paid_at.is_distinct_from(cur.c.paid_at),
        f.c.total != cur.c.total,
        f.c.refunded_total != cur.c.refunded_total,
        f.c.shipping_total != cur.c.shipping_total,
        f.c.total_tax != cur.c.total_tax,
    )
    return list(
        conn.execute(
            select(cur, f.c.identity.label("old_identity")).select_from(joined).where(differs)
        ).all()
    )


# --------------------------------------------------------------------------- the change log

#: The triggers of migration 0008 that fill ``loyalty_changes``.
CHANGE_TRIGGERS = tuple(
    f"loyalty_changes_{table}_{event}"
    for table in ("orders", "customers")
    for event in ("insert", "update", "delete")
)


def change_log_ready(conn: Connection) -> bool:
    """Whether the mirror's change log is kept (its triggers exist; a SQLite table rebuild by
    a later migration would drop them, and then every run compares the whole mirror)."""
    names = ", ".join(f"'{name}'" for name in CHANGE_TRIGGERS)
    if conn.dialect.name == "postgresql":
        sql = (
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname IN "
            f"({names}) AND tgrelid IN ('orders'::regclass, 'customers'::regclass)"
        )
    else:
        sql = f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({names})"
    return conn.execute(text(sql)).scalar() == len(CHANGE_TRIGGERS)


def snapshot_changes(conn: Connection, tmp: Scratch, store_id: int) -> None:
    """The store's change notes as this run's snapshot sees them (deleted at commit)."""
    lc = loyalty_changes
    conn.execute(
        insert(tmp.changes).from_select(
            ["subject", "wc_id", "stamp"],
            select(lc.c.subject, lc.c.wc_id, lc.c.stamp).where(lc.c.store_id == store_id),
        )
    )


def noted_ids(conn: Connection, tmp: Scratch, limit: int) -> dict[str, list[int]] | None:
    """The ids noted per subject ('o', 'c'); None when more than ``limit``."""
    found: dict[str, list[int]] = {"o": [], "c": []}
    rows = conn.execute(select(tmp.changes.c.subject, tmp.changes.c.wc_id).limit(limit + 1))
    count = 0
    for subject, wc_id in rows:
        count += 1
        found.setdefault(subject, []).append(int(wc_id))
    return None if count > limit else found


def noted_orders(
    conn: Connection, facts: Facts, ids: Sequence[int]
) -> tuple[list[OrderRow], set[str], list[int]]:
    """The noted orders as they are now (identity computed in Python), the identities the
    last run saw them on, and the ids no longer in the mirror."""
    store_id = facts.program.store_id
    f = loyalty_order_facts
    raw: list[Any] = []
    before: set[str] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        raw.extend(conn.execute(raw_order_rows(store_id).where(orders.c.wc_id.in_(chunk))))
        before |= {
            r[0]
            for r in conn.execute(
                select(f.c.identity).where(f.c.store_id == store_id, f.c.order_id.in_(chunk))
            )
        }
    facts.need(emails={r.billing_email for r in raw if r.customer_id == 0 and r.billing_email})
    rows = [
        OrderRow(
            r.order_id,
            identity_of(r.order_id, r.customer_id, r.billing_email, facts.claims),
            *r[1:],
        )
        for r in raw
    ]
    gone = sorted(set(ordered) - {r.order_id for r in rows})
    return rows, before, gone


def account_changes(
    conn: Connection, facts: Facts, noted: Sequence[int] | None = None
) -> tuple[set[str], list[AccountFacts], set[int]]:
    """Identities touched by account changes since the last run (found in SQL); the accounts
    to (re)write; the ids gone. ``noted``: the only accounts that can have changed (from the
    change log); None compares every account of the store with what the last run saw."""
    now_rows: list[Any] = []
    gone_rows: list[Any] = []
    if noted is None:
        now_rows, gone_rows = compare_accounts(conn, facts.program.store_id, None)
    else:
        ids = sorted(noted)
        for start in range(0, len(ids), 500):
            more = compare_accounts(conn, facts.program.store_id, ids[start : start + 500])
            now_rows.extend(more[0])
            gone_rows.extend(more[1])
    return touched_by_accounts(conn, facts, now_rows, gone_rows)


def compare_accounts(
    conn: Connection, store_id: int, ids: Sequence[int] | None
) -> tuple[list[Any], list[Any]]:
    """Accounts new or changed since the last run (with what it saw), and accounts gone."""
    c, f = customers, loyalty_account_facts
    now_q = (
        select(
            c.c.wc_id,
            c.c.email,
            c.c.role,
            c.c.deleted_at.is_not(None),
            c.c.created_at,
            f.c.customer_id,
            f.c.email,
            f.c.role,
            f.c.deleted,
            f.c.created_at,
        )
        .select_from(
            c.outerjoin(f, and_(f.c.store_id == c.c.store_id, f.c.customer_id == c.c.wc_id))
        )
        .where(
            c.c.store_id == store_id,
            or_(
                f.c.customer_id.is_(None),
                f.c.email != c.c.email,
                f.c.role != c.c.role,
                f.c.deleted != c.c.deleted_at.is_not(None),
                f.c.created_at != c.c.created_at,
            ),
        )
    )
    gone_q = (
        select(f.c.customer_id, f.c.email)
        .select_from(
            f.outerjoin(c, and_(c.c.store_id == f.c.store_id, c.c.wc_id == f.c.customer_id))
        )
        .where(f.c.store_id == store_id, c.c.wc_id.is_(None))
    )
    if ids is not None:
        now_q = now_q.where(c.c.wc_id.in_(ids))
        gone_q = gone_q.where(f.c.customer_id.in_(ids))
    return list(conn.execute(now_q)), list(conn.execute(gone_q))


def touched_by_accounts(
    conn: Connection, facts: Facts, now_rows: Sequence[Any], gone_rows: Sequence[Any]
) -> tuple[set[str], list[AccountFacts], set[int]]:
    store_id = facts.program.store_id
    f = loyalty_account_facts
    changed = [AccountFacts(r[0], r[1], r[2], r[4], bool(r[3])) for r in now_rows]
    touched: set[str] = {a.identity for a in changed}
    emails = {a.email for a in changed if a.email}
    emails |= {r[6] for r in now_rows if r[6]}
    gone = {int(r[0]) for r in gone_rows}
    touched |= {f"customer:{wc_id}" for wc_id in gone}
    emails |= {r[1] for r in gone_rows if r[1]}
    touched |= {f"email:{e}" for e in emails}
    # Who claimed those e-mails before (as the last run saw the accounts) and now.
    ordered = sorted(emails)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        before = account_email_map(
            (r[0], r[1], r[2], bool(r[3]))
            for r in conn.execute(
                select(f.c.customer_id, f.c.email, f.c.role, f.c.deleted).where(
                    f.c.store_id == store_id, f.c.email.in_(chunk)
                )
            )
        )
        touched |= {f"customer:{wc_id}" for wc_id in before.values()}
    facts.need(emails=emails)
    touched |= {f"customer:{facts.claims[e]}" for e in emails if e in facts.claims}
    return touched, changed, gone


def expiry_window_identities(
    conn: Connection, program: Program, since: datetime, now: datetime
) -> set[str]:
    """Identities with a lot that may have expired in (since, now] (a superset)."""
    found: set[str] = set()
    store_id = program.store_id
    if program.expiry_months is not None:
        lo = add_months(since, -program.expiry_months) - EXPIRY_SLACK
        hi = add_months(now, -program.expiry_months) + EXPIRY_SLACK
        months = program.expiry_months
        found |= {
            identity
            for identity, earned in conn.execute(
                select(loyalty_ledger.c.identity, loyalty_ledger.c.effective_at)
                .where(
                    loyalty_ledger.c.store_id == store_id,
                    loyalty_ledger.c.points > 0,
                    loyalty_ledger.c.effective_at > lo,
                    loyalty_ledger.c.effective_at <= hi,
                )
                .distinct()
            )
            if since < add_months(earned, months) <= now
        }
    if program.inactivity_expiry_months is not None:
        lo = add_months(since, -program.inactivity_expiry_months) - EXPIRY_SLACK
        hi = add_months(now, -program.inactivity_expiry_months) + EXPIRY_SLACK
        f = loyalty_order_facts
        found |= {
            r[0]
            for r in conn.execute(
                select(f.c.identity)
                .where(
                    f.c.store_id == store_id,
                    f.c.created_at > lo,
                    f.c.created_at <= hi,
                    f.c.status.in_(sorted(program.earn_statuses)),
                )
                .distinct()
            )
        }
        found |= {
            f"customer:{r[0]}"
            for r in conn.execute(
                select(customers.c.wc_id).where(
                    customers.c.store_id == store_id,
                    customers.c.created_at > lo,
                    customers.c.created_at <= hi,
                )
            )
        }
    return found


def natural_identities(conn: Connection, facts: Facts, keys: Iterable[str]) -> set[str]:
    """The identity each key belongs to now, without computing the rules."""
    result: set[str] = set()
    order_ids: set[int] = set()
    for key in keys:
        subject = key
        while family(subject) == EXPIRY:
            subject = key_subject(subject)
        fam = family(subject)
        if fam in (WELCOME, SECOND):
            result.add(key_subject(subject))
        elif fam == CASHBACK and key_subject(subject).isdigit():
            order_ids.add(int(key_subject(subject)))
        elif fam in (MANUAL, REDEEM):
            state = facts.states.get(subject)
            if state is not None and state.origin:
                result.add(facts.owner(state.origin))
    ids = sorted(order_ids)
    q = raw_order_rows(facts.program.store_id)
    rows: list[Any] = []
    for start in range(0, len(ids), 500):
        rows.extend(conn.execute(q.where(orders.c.wc_id.in_(ids[start : start + 500]))))
    facts.need(emails={r.billing_email for r in rows if r.customer_id == 0 and r.billing_email})
    result |= {identity_of(r.order_id, r.customer_id, r.billing_email, facts.claims) for r in rows}
    return result
