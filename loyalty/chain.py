"""Tamper evidence for the ledger: each store's entries form a hash chain.

Entry number ``n`` of a store (``chain_seq`` = n, 1, 2, …) carries ``chain_hash`` =
SHA-256(hash of entry n − 1, the entry's content) — the content being every column a balance
or an audit depends on (store, position, key, seq, identity, points, kind, reason, order,
redemption, coupon, when it took effect, when it was written); entry 1 chains to
``GENESIS``. ``loyalty_ledger_heads`` records the length and last hash an append left.

So an entry changed in place no longer matches its hash; one rewritten *with* a new hash
breaks the next entry's link; a deleted entry leaves a gap in the positions (or, at the end,
a chain shorter than its recorded head); an inserted one repeats a position or lies beyond
the head. ``check_chain`` finds each and names the entries. What it cannot catch: someone who
rewrites an entry, every entry after it and the head — the algorithm is public and the head
lives in the same database (docs/loyalty.md says so to the owner).

Pure: hashing and checking, no database. Writers compute the chain in Python in one pass
(``Chain.link``) inside the transaction that appends, under the store's ledger lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: The "previous hash" of a store's first entry.
GENESIS = "0" * 64


def _instant(value: datetime) -> str:
    """An instant, canonically: aware UTC, microseconds (``2026-01-01T00:00:00.000000+00:00``;
    a naive value is UTC, as the database keeps it)."""
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


def canonical_instant(value: datetime) -> str:
    """An instant as the chain hashes it (``_instant``; public for bulk writers)."""
    return _instant(value)


def entry_hash(
    previous: str,
    store_id: int,
    chain_seq: int,
    key: str,
    seq: int,
    identity: str,
    points: int,
    kind: str,
    reason: str,
    order_id: int | None,
    redemption_id: int | None,
    coupon_code: str | None,
    effective_at: datetime,
    created_at: datetime,
) -> str:
    """The chain hash of one entry (hex): SHA-256 of the previous hash, a newline and the
    content — its fields joined by ``|``, each text as ``<length>:<text>`` (so no text can
    pass for another field), a missing value as ``-``, instants as ``_instant``; UTF-8 (a
    lone surrogate passes through rather than failing)."""
    return _digest(
        previous, store_id, chain_seq, key, seq, identity, points, kind, reason, order_id,
        redemption_id, coupon_code, _instant(effective_at), _instant(created_at),
    )  # fmt: skip


def _digest(
    previous: str,
    store_id: int,
    chain_seq: int,
    key: str,
    seq: int,
    identity: str,
    points: int,
    kind: str,
    reason: str,
    order_id: int | None,
    redemption_id: int | None,
    coupon_code: str | None,
    effective_at: str,
    created_at: str,
) -> str:
    coupon = "-" if coupon_code is None else f"{len(coupon_code)}:{coupon_code}"
    content = (
        f"{store_id}|{chain_seq}|{len(key)}:{key}|{seq}|{len(identity)}:{identity}|{points}|"
        f"{len(kind)}:{kind}|{len(reason)}:{reason}|{'-' if order_id is None else order_id}|"
        f"{'-' if redemption_id is None else redemption_id}|{coupon}|{effective_at}|{created_at}"
    )
    data = f"{previous}\n{content}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


class Chain:
    """Links new entries of one store after ``(length, head)``, in the order given."""

    def __init__(self, store_id: int, length: int, head: str) -> None:
        self.store_id = store_id
        self.start = (length, head)
        self.length = length
        self.head = head
        # Every entry of one append is written at the same instant: format it once.
        self._written: tuple[datetime, str] | None = None
        self._store = f"\n{store_id}|"

    def link(
        self,
        key: str,
        seq: int,
        identity: str,
        points: int,
        kind: str,
        reason: str,
        order_id: int | None,
        redemption_id: int | None,
        coupon_code: str | None,
        effective_at: datetime,
        created_at: datetime,
    ) -> tuple[int, str]:
        """The next entry's ``(chain_seq, chain_hash)``; advances the chain."""
        if self._written is None or self._written[0] is not created_at:
            self._written = (created_at, _instant(created_at))
        self.length += 1
        self.head = _digest(
            self.head,
            self.store_id,
            self.length,
            key,
            seq,
            identity,
            points,
            kind,
            reason,
            order_id,
            redemption_id,
            coupon_code,
            _instant(effective_at),
            self._written[1],
        )
        return self.length, self.head

    @property
    def store_prefix(self) -> str:
        """What every entry's hashed bytes hold between the previous hash and the position
        (for writers that format the bytes themselves, ``loyalty._planner.first_entries``)."""
        return self._store

    def advance(self, length: int, head: str) -> None:
        """The chain now ends at ``length`` with ``head`` (entries linked by the caller)."""
        self.length, self.head = length, head

    @property
    def appended(self) -> int:
        return self.length - self.start[0]


#: The columns ``check_chain`` reads, in this order.
CHAIN_COLUMNS = (
    "id",
    "chain_seq",
    "chain_hash",
    "key",
    "seq",
    "identity",
    "points",
    "kind",
    "reason",
    "order_id",
    "redemption_id",
    "coupon_code",
    "effective_at",
    "created_at",
)


@dataclass(frozen=True)
class Tampering:
    """One way the ledger is not as Bazgasht wrote it.

    ``kind``: ``altered`` (an entry does not match its hash), ``missing`` (positions deleted
    from the middle), ``truncated`` (deleted from the end), ``inserted`` (two entries at one
    position), ``appended`` (entries beyond the recorded head), ``head`` (the last entry or
    the record of the head was rewritten), ``unchained`` (an entry without a position)."""

    kind: str
    entry_ids: tuple[int, ...]
    position: int | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "entry_ids": list(self.entry_ids),
            "position": self.position,
            "detail": self.detail,
        }


def check_chain(
    store_id: int, rows: Iterable[Any], head: tuple[int, str] | None
) -> tuple[list[Tampering], int, str]:
    """Walk a store's entries in ``(chain_seq, id)`` order (rows with ``CHAIN_COLUMNS``
    attributes) against the recorded ``head`` (length, hash; ``None``: no record). Returns
    what was found, and the last position walked and its hash."""
    found: list[Tampering] = []
    expected = 1
    previous_hash = GENESIS
    previous_id: int | None = None
    for row in rows:
        if row.chain_seq is None or row.chain_hash is None:
            found.append(
                Tampering(
                    "unchained",
                    (row.id,),
                    None,
                    f"entry {row.id} has no place in the chain: it was not written by Bazgasht",
                )
            )
            continue
        position = int(row.chain_seq)
        if position < expected:
            found.append(
                Tampering(
                    "inserted",
                    (previous_id or row.id, row.id),
                    position,
                    f"entries {previous_id} and {row.id} share position {position}: one of "
                    "them was inserted behind Bazgasht's back",
                )
            )
            continue
        if position > expected:
            gap = (
                f"position {expected}"
                if position == expected + 1
                else f"positions {expected}–{position - 1}"
            )
            after = f"after entry {previous_id}" if previous_id is not None else "at the start"
            found.append(
                Tampering(
                    "missing",
                    tuple(i for i in (previous_id, row.id) if i is not None),
                    expected,
                    f"{gap} of the chain ({after}, before entry {row.id}) were deleted",
                )
            )
        else:
            computed = entry_hash(
                previous_hash,
                store_id,
                position,
                row.key,
                int(row.seq),
                row.identity,
                int(row.points),
                row.kind,
                row.reason,
                row.order_id,
                row.redemption_id,
                row.coupon_code,
                row.effective_at,
                row.created_at,
            )
            if computed != row.chain_hash:
                why = "it was changed"
                if previous_id is not None:
                    why += f", or entry {previous_id} before it was rewritten with a new hash"
                found.append(
                    Tampering(
                        "altered",
                        tuple(i for i in (row.id, previous_id) if i is not None),
                        position,
                        f"entry {row.id} (position {position}) does not match its hash: {why}",
                    )
                )
        previous_hash = row.chain_hash
        previous_id = row.id
        expected = position + 1
    length = expected - 1
    if head is None:
        if length:
            found.append(
                Tampering(
                    "head",
                    (),
                    None,
                    "the record of the chain's end (loyalty_ledger_heads) is missing",
                )
            )
        return found, length, previous_hash
    recorded_length, recorded_hash = head
    if length < recorded_length:
        found.append(
            Tampering(
                "truncated",
                () if previous_id is None else (previous_id,),
                length + 1,
                f"the ledger ends at position {length} but Bazgasht wrote {recorded_length}: "
                "the last entries were deleted",
            )
        )
    elif length > recorded_length:
        found.append(
            Tampering(
                "appended",
                () if previous_id is None else (previous_id,),
                recorded_length + 1,
                f"entries at positions {recorded_length + 1}–{length} were not written by "
                "Bazgasht (the chain's recorded end is position "
                f"{recorded_length})",
            )
        )
    elif length and previous_hash != recorded_hash:
        found.append(
            Tampering(
                "head",
                () if previous_id is None else (previous_id,),
                length,
                f"the last entry ({previous_id}) or the record of the chain's end was rewritten",
            )
        )
    return found, length, previous_hash


__all__ = [
    "CHAIN_COLUMNS",
    "GENESIS",
    "Chain",
    "Tampering",
    "check_chain",
    "entry_hash",
]
