"""``loyalty verify``: recompute everything from scratch and list every difference.

It runs the same computation as a full reconciliation (the rules over the whole mirror, the
ledger grouped by key) but writes nothing: each key whose recorded holdings differ from what
the rules say is a difference. It also checks what no recomputation can: that no entry is
missing from a key's sequence (an edited ledger), and that every redemption has exactly its
debit (and its release, when it was released). ``ok`` is False if anything differs.

Apart from the differences, it walks the store's hash chain (``loyalty.chain``): an entry
changed, deleted or inserted behind Bazgasht's back is reported as **tampering**, with the
entries' ids — not as a difference for ``reconcile`` to paper over.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from loyalty._db import joined, ledger_lock, split_sum
from loyalty._schema import loyalty_ledger, loyalty_ledger_heads, loyalty_redemptions
from loyalty.chain import CHAIN_COLUMNS, Tampering, check_chain
from loyalty.reconcile import _open_scratch, _phase_one
from loyalty.rules import redeem_key
from loyalty.settings import Program


@dataclass(frozen=True)
class Difference:
    """One thing the ledger says differently from the recomputation."""

    kind: str  # "key" (a rule's key), "sequence" (entries missing), "redemption"
    key: str
    identity: str
    recorded: int
    expected: int
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "identity": self.identity,
            "recorded": self.recorded,
            "expected": self.expected,
            "detail": self.detail,
        }


@dataclass
class VerifyReport:
    store: str
    identities: int = 0
    entries: int = 0
    outstanding: int = 0
    differences: list[Difference] = field(default_factory=list)
    #: The hash chain: what was found, and its length and last hash as walked.
    tampering: list[Tampering] = field(default_factory=list)
    chain_length: int = 0
    chain_head: str = ""

    @property
    def ok(self) -> bool:
        return not self.differences and not self.tampering

    @property
    def tampered(self) -> bool:
        return bool(self.tampering)

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "ok": self.ok,
            "tampered": self.tampered,
            "identities_recomputed": self.identities,
            "entries_checked": self.entries,
            "outstanding_points": self.outstanding,
            "chain": {"length": self.chain_length, "head": self.chain_head},
            "tampering": [t.as_dict() for t in self.tampering],
            "differences": [d.as_dict() for d in self.differences],
        }


def verify(engine: Engine, program: Program, now: datetime) -> VerifyReport:
    """Recompute every key of the store at ``now`` and compare with the ledger."""
    report = VerifyReport(program.store)
    store_id = program.store_id
    with ExitStack() as stack:
        # The ledger must not change while it is compared (a redemption waits for the lock).
        stack.enter_context(ledger_lock(engine, program.store))
        conn = stack.enter_context(engine.connect())
        tmp = _open_scratch(stack, conn)
        planner = _phase_one(conn, tmp, program, now, full=True, since=None)
        report.identities = planner.stats.identities
        led = loyalty_ledger
        recorded: dict[tuple[str, str], int] = defaultdict(int)
        planned = conn.execute(
            select(tmp.entries).order_by(tmp.entries.c.key, tmp.entries.c.seq)
        ).all()
        keys = sorted({row.key for row in planned})
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            for key, identity, points in conn.execute(
                select(led.c.key, led.c.identity, func.sum(led.c.points))
                .where(led.c.store_id == store_id, led.c.key.in_(chunk))
                .group_by(led.c.key, led.c.identity)
            ):
                recorded[(key, identity)] += int(points)
        change: dict[tuple[str, str], int] = defaultdict(int)
        reasons: dict[tuple[str, str], list[str]] = defaultdict(list)
        for row in planned:
            change[(row.key, row.identity)] += row.points
            reasons[(row.key, row.identity)].append(f"{row.kind} {row.points:+d}: {row.reason}")
        for (key, identity), delta in sorted(change.items()):
            if delta == 0 and all(r.startswith("transfer") for r in reasons[(key, identity)]):
                continue
            held = recorded.get((key, identity), 0)
            report.differences.append(
                Difference(
                    "key",
                    key,
                    identity,
                    held,
                    held + delta,
                    "; ".join(reasons[(key, identity)]),
                )
            )
        # Sequences: 1..n per key; a gap means an entry was removed behind our back.
        for key, count, top in conn.execute(
            select(led.c.key, func.count(), func.max(led.c.seq))
            .where(led.c.store_id == store_id)
            .group_by(led.c.key)
            .having(func.count() != func.max(led.c.seq))
        ):
            report.differences.append(
                Difference(
                    "sequence",
                    key,
                    "",
                    int(count),
                    int(top),
                    f"{int(top) - int(count)} entries of this key are missing from the ledger",
                )
            )
        _check_redemptions(conn, program, report)
        _check_chain(conn, store_id, report)
        report.entries = int(
            conn.execute(select(func.count()).where(led.c.store_id == store_id)).scalar_one()
        )
        report.outstanding = joined(
            *conn.execute(
                select(*split_sum(led.c.points, "points")).where(led.c.store_id == store_id)
            ).one()
        )
        conn.rollback()
    return report


def _check_chain(conn: Any, store_id: int, report: VerifyReport) -> None:
    """Walk the store's hash chain in order against its recorded head."""
    led, heads = loyalty_ledger, loyalty_ledger_heads
    head = conn.execute(
        select(heads.c.length, heads.c.head).where(heads.c.store_id == store_id)
    ).first()
    rows = conn.execute(
        select(*(led.c[c] for c in CHAIN_COLUMNS))
        .where(led.c.store_id == store_id)
        .order_by(led.c.chain_seq, led.c.id),
        execution_options={"yield_per": 10_000},
    )
    report.tampering, report.chain_length, report.chain_head = check_chain(
        store_id, rows, None if head is None else (int(head[0]), head[1])
    )


def _check_redemptions(conn: Any, program: Program, report: VerifyReport) -> None:
    """Every redemption has exactly one debit of its points; released or refunded ones have a
    release of the same points; nothing else writes to a redemption's key."""
    led, red = loyalty_ledger, loyalty_redemptions
    store_id = program.store_id
    debits: dict[int, list[int]] = defaultdict(list)
    releases: dict[int, list[int]] = defaultdict(list)
    for rid, kind, points in conn.execute(
        select(led.c.redemption_id, led.c.kind, led.c.points).where(
            led.c.store_id == store_id,
            led.c.redemption_id.is_not(None),
            led.c.kind.in_(["redemption", "redemption_release"]),
        )
    ):
        (debits if kind == "redemption" else releases)[int(rid)].append(int(points))
    for r in conn.execute(
        select(red.c.id, red.c.identity, red.c.points, red.c.status, red.c.closed_at).where(
            red.c.store_id == store_id
        )
    ):
        key = redeem_key(program.store, r.id)
        released = r.status == "released" or (r.status == "expired" and bool(releases[r.id]))
        want_release = [r.points] if released else []
        if debits[r.id] != [-r.points] or releases[r.id] != want_release:
            report.differences.append(
                Difference(
                    "redemption",
                    key,
                    r.identity,
                    sum(debits[r.id]) + sum(releases[r.id]),
                    0 if released else -r.points,
                    f"redemption {r.id} ({r.status}) has debits {debits[r.id]} and releases "
                    f"{releases[r.id]}; expected one debit of {-r.points}"
                    + (f" and one release of {r.points}" if released else ""),
                )
            )
    orphans = conn.execute(
        select(led.c.key, led.c.identity, led.c.points).where(
            led.c.store_id == store_id,
            led.c.kind.in_(["redemption", "redemption_release"]),
            led.c.redemption_id.is_(None),
        )
    ).all()
    for key, identity, points in orphans:
        report.differences.append(
            Difference("redemption", key, identity, int(points), 0, "entry without a redemption")
        )


__all__ = ["Difference", "VerifyReport", "verify"]
