"""Coupon codes nobody can guess.

A reward or campaign coupon is restricted to the customer's e-mail, but WooCommerce checks
that restriction against the billing e-mail typed at checkout: whoever knows the e-mail and
the code can spend it. So the code is the secret, and it must be as hard to guess as a
password: ``RANDOM_CHARS`` characters drawn by ``secrets`` (the operating system's CSPRNG)
from ``ALPHABET`` — at least 64 bits (``BITS``), nothing derived from ids, clocks or anything
kept in the database.

The alphabet is lower-case (WooCommerce lower-cases every code it stores, and matches codes
without regard to case) and leaves out characters that look alike in either case or in a
handwritten note: 0/o, 1/i/l, 2/z, 5/s, 8/b, 9/g/q, u/v. Groups of four make a code easy
to read aloud or type from an SMS: ``bz-7kcx-4mhd-3wta-efr6``.

Because a code cannot be derived again, it is generated once and stored with its
redemption or campaign member *before* the coupon is created on the store; a retry looks the
stored code up on the store first, so a coupon is never made twice.
"""

from __future__ import annotations

import math
import re
import secrets

ALPHABET = "3467acdefhjkmnprtwxy"
RANDOM_CHARS = 16
GROUP = 4
#: Entropy of one code: 16 × log2(20) ≈ 69.2 bits.
BITS = RANDOM_CHARS * math.log2(len(ALPHABET))

#: The prefixes say what a code is for when the owner sees it in WooCommerce.
REDEMPTION_PREFIX = "bz"
CAMPAIGN_PREFIX = "cmp"


def new_code(prefix: str) -> str:
    """A fresh random code, ``<prefix>-xxxx-xxxx-xxxx-xxxx``."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    groups = (chars[i : i + GROUP] for i in range(0, RANDOM_CHARS, GROUP))
    return f"{prefix}-{'-'.join(groups)}"


def code_pattern(prefix: str) -> re.Pattern[str]:
    """What ``new_code(prefix)`` produces (for tests and sanity checks)."""
    group = f"[{ALPHABET}]{{{GROUP}}}"
    return re.compile(rf"{re.escape(prefix)}(-{group}){{{RANDOM_CHARS // GROUP}}}")


__all__ = [
    "ALPHABET",
    "BITS",
    "CAMPAIGN_PREFIX",
    "RANDOM_CHARS",
    "REDEMPTION_PREFIX",
    "code_pattern",
    "new_code",
]
