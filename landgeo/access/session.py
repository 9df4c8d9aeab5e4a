"""The identity inside a database transaction: the key of row-level security on the restricted register.

:func:`scoped` opens a transaction on a pooled connection, takes the role ``landgeo_register`` for that
transaction only (``SET LOCAL ROLE``), and sets four transaction-local settings with bound parameters::

    set_config('landgeo.user', name, true), set_config('landgeo.role', role, true),
    set_config('landgeo.provinces', '79,01', true), set_config('landgeo.communes', '26734', true)

The read policies (migration 0150: ``province_code = ANY (scope) OR commune_code = ANY (scope)``, index
conditions; an admin identity takes ``landgeo_register_admin``, whose own policy reads every row) and the write
policies (``access.in_scope(province_code, commune_code)``) read them; at COMMIT or
ROLLBACK they vanish with the role, so the next request on the connection starts blind again. Forgetting to call
this shows nothing (the pool's role, ``landgeo_reader``, has no access to ``landdb_restricted``; without the
settings the policies match no row). Register writes (issue 17) will add policies keyed on the same settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from landgeo.access.identity import AuthError, Credential, Identity, check_scope

REGISTER_ROLE = "landgeo_register"
#: an admin identity's role (migration 0150): its own policy reads every row, still only when landgeo.role = admin
REGISTER_ADMIN_ROLE = "landgeo_register_admin"

_RESOLVE = ("SELECT name, role, provinces, communes, extract(epoch FROM expires_at - now()) "
            "FROM access.resolve_token(%s)")
_APPLY = ("SELECT set_config('landgeo.user', %s, true), set_config('landgeo.role', %s, true), "
          "set_config('landgeo.provinces', %s, true), set_config('landgeo.communes', %s, true)")


_APPLY_FROM_TOKEN = (
    "SELECT set_config('landgeo.user', name, true), set_config('landgeo.role', role, true), "
    "set_config('landgeo.provinces', array_to_string(provinces, ','), true), "
    "set_config('landgeo.communes', array_to_string(communes, ','), true) FROM access.resolve_token(%s)")
#: the same, or an error (SQLSTATE 28000) that aborts the transaction when the token is dead (migration 0240)
_ASSUME_TOKEN = "SELECT access.assume_token(%s)"


def register_role(identity: Identity) -> str:
    """The database role of a register transaction: officers' policies are index conditions on the scope's codes;
    the admin's "every row" is a separate policy of a separate role, so that no officer's plan carries it."""
    return REGISTER_ADMIN_ROLE if identity.role == "admin" else REGISTER_ROLE


def apply_identity(conn: psycopg.Connection, identity: Identity) -> psycopg.Cursor | None:
    """Take the register role and set the identity, for the current transaction only.

    For an API token the database sets the identity itself, from the token's hash (``access.resolve_token``:
    a token revoked a moment ago sets nothing); the returned cursor has one row when it did. For a JWT the
    verified claims are set, as bound parameters.
    """
    conn.execute(f"SET LOCAL ROLE {register_role(identity)}")
    if identity.token_hash is not None:
        return conn.execute(_APPLY_FROM_TOKEN, (identity.token_hash,), prepare=True)
    conn.execute(_APPLY, (identity.name, identity.role, ",".join(identity.provinces), ",".join(identity.communes)),
                 prepare=True)
    return None


@contextmanager
def scoped(conn: psycopg.Connection, identity: Identity, write_audit: bool = True,
           durable_audit: bool = False) -> Iterator[psycopg.Connection]:
    """A transaction of ``conn`` (autocommit pool connection) under ``identity``; :class:`AuthError` at the end
    when the database no longer knows its token (the work is then rolled back: nothing is answered).

    ``write_audit``: the transaction may append to the audit table (pooled connections default to read-only).
    ``durable_audit``: COMMIT waits for the WAL flush (``synchronous_commit``); by default a read's audit rows are
    flushed by the WAL writer within a few hundred milliseconds (``3 × wal_writer_delay``), which is what keeps an
    officer's page within 1.2x of a public one (a flush per read costs more than the read).
    """
    # pipeline mode: BEGIN, the role, the identity and the caller's first query travel in one round trip; the
    # audit INSERT and COMMIT in one more
    with conn.pipeline(), conn.transaction():
        if write_audit:
            conn.execute("SET TRANSACTION READ WRITE")
            if not durable_audit:
                conn.execute("SET LOCAL synchronous_commit = off")
        check = apply_identity(conn, identity)
        yield conn
        if check is not None and check.fetchone() is None:
            raise AuthError("unknown, expired or revoked token")


class OneTrip:
    """A register read sent as one round trip (:func:`read_transaction`): :meth:`commit` queues ``COMMIT`` after
    what the caller queued and sends it all; the caller reads its cursors' answers afterwards."""

    def __init__(self, conn: psycopg.Connection, pipeline: psycopg.Pipeline) -> None:
        self.conn = conn
        self.pipeline = pipeline
        self.committed = False

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.pipeline.sync()  # BEGIN … COMMIT go out together; the answers come back together
        self.committed = True


#: the role, the audit's commit mode and the plan mode of a register read, in one statement (``SET LOCAL`` each)
_READ_SETTINGS = ("SELECT set_config('role', %s, true), set_config('synchronous_commit', %s, true), "
                  "set_config('plan_cache_mode', %s, true)")


@contextmanager
def read_transaction(conn: psycopg.Connection, identity: Identity, durable_audit: bool = False,
                     generic_plans: bool = False) -> Iterator[OneTrip]:
    """A read of the register under ``identity`` in one network round trip: ``BEGIN``, the role, the identity, then
    what the caller queues (its page, whose statement appends the audit row), then ``COMMIT`` (:meth:`OneTrip.commit`,
    or at the end of the block), all sent at once in pipeline mode, the answers read after.

    The identity of an API token is set by the database (``access.assume_token``): a token revoked a moment ago
    aborts the transaction — nothing is read, no audit row is written — and the caller gets :class:`AuthError`.
    ``conn`` is an autocommit pool connection; on any error the transaction is rolled back before the connection
    goes back to the pool. ``durable_audit``: as :func:`scoped`. ``generic_plans``: the transaction's prepared
    statements run their generic plans (``plan_cache_mode``) — for pages whose best plan does not depend on the
    values (the caller's rule): a statement under row-level security is otherwise planned again at each request
    (its custom plans look cheaper than the generic one), a fifth of an officer's page.
    """
    try:
        with conn.pipeline() as pipeline:
            conn.execute("BEGIN READ WRITE")  # the pool's connections default to read-only; the audit row appends
            conn.execute(_READ_SETTINGS, (register_role(identity), "on" if durable_audit else "off",
                                          "force_generic_plan" if generic_plans else "auto"), prepare=True)
            if identity.token_hash is not None:
                conn.execute(_ASSUME_TOKEN, (identity.token_hash,), prepare=True)
            else:
                conn.execute(_APPLY, (identity.name, identity.role, ",".join(identity.provinces),
                                      ",".join(identity.communes)), prepare=True)
            trip = OneTrip(conn, pipeline)
            yield trip
            if not trip.committed:
                trip.commit()
    except psycopg.errors.InvalidAuthorizationSpecification:
        _rollback(conn)
        raise AuthError("unknown, expired or revoked token") from None
    except BaseException:
        _rollback(conn)
        raise


def _rollback(conn: psycopg.Connection) -> None:
    """End a failed read's transaction (the pool must get an idle connection)."""
    if not conn.closed and conn.pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.execute("ROLLBACK")


def resolve(conn: psycopg.Connection | None, credential: Credential) -> Identity:
    """The identity of a credential: a JWT's as verified, an API token's from the database (one round trip:
    ``access.resolve_token`` sees live tokens of unrevoked users only). Unknown -> :class:`AuthError`."""
    if credential.identity is not None:
        return credential.identity
    if conn is None:
        raise AuthError("no database to resolve tokens")
    return resolve_token(conn, credential.token_hash)[0]


def resolve_token(conn: psycopg.Connection, token_hash: str) -> tuple[Identity, float]:
    """The identity of a live API token and the seconds until the token expires; :class:`AuthError` when the
    database knows no live token of an unrevoked user with that hash."""
    with conn.pipeline(), conn.transaction():
        conn.execute(f"SET LOCAL ROLE {REGISTER_ROLE}")
        cur = conn.execute(_RESOLVE, (token_hash,), prepare=True)
    row = cur.fetchone()
    if row is None:
        raise AuthError("unknown, expired or revoked token")
    provinces, communes = check_scope(row[1], row[2], row[3], error=AuthError)
    return (Identity(name=row[0], role=row[1], provinces=provinces, communes=communes, auth="token",
                     token_hash=token_hash), float(row[4]))
