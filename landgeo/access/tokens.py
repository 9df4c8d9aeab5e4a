"""API tokens (mã truy cập): 256 random bits, shown once, stored only as their SHA-256.

A token is ``lgt_`` + 43 URL-safe base64 characters. Because it is a uniformly random 256-bit secret (not a
password a person chose), a single SHA-256 is a sound way to store it: nothing can be guessed or precomputed,
and the lookup stays one indexed equality. The first characters (``prefix``) are kept to tell tokens apart in
``landgeo users list``; they reveal 30 of the 256 bits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

PREFIX = "lgt_"
TOKEN_RE = re.compile(r"^lgt_[A-Za-z0-9_-]{43}$")
DEFAULT_TTL_DAYS = 90
MAX_TTL_DAYS = 366


def generate_token() -> str:
    """A new token (256 bits from the OS's CSPRNG)."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token: SHA-256, hex."""
    return hashlib.sha256(token.encode("ascii", "strict")).hexdigest()


def looks_like_token(text: str) -> bool:
    return TOKEN_RE.match(text) is not None


def display_prefix(token: str) -> str:
    return token[: len(PREFIX) + 5]


_DURATION = re.compile(r"^(\d+)\s*([dhw])$")


def parse_expiry(text: str | None, now: dt.datetime | None = None, default_days: int = DEFAULT_TTL_DAYS) -> dt.datetime:
    """``--expires``: a duration (``30d``, ``12h``, ``2w``) or a date/date-time (UTC); default ``default_days``.

    Raises ValueError with a one-line reason for anything else, for a moment in the past, or beyond a year.
    """
    now = now or dt.datetime.now(dt.UTC)
    if text is None or not text.strip():
        return now + dt.timedelta(days=default_days)
    value = text.strip().lower()
    match = _DURATION.match(value)
    if match:
        n, unit = int(match.group(1)), match.group(2)
        delta = {"d": dt.timedelta(days=n), "h": dt.timedelta(hours=n), "w": dt.timedelta(weeks=n)}[unit]
        moment = now + delta
    else:
        try:
            moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"--expires {text!r}: use a duration (30d, 12h, 2w) or a date (2027-01-31)") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    if moment <= now:
        raise ValueError(f"--expires {text!r} is not in the future")
    if moment > now + dt.timedelta(days=MAX_TTL_DAYS):
        raise ValueError(f"--expires {text!r}: a token lives at most {MAX_TTL_DAYS} days")
    return moment
