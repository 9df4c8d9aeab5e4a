#!/bin/sh
# Compose service `db-replica`: a streaming hot standby of `db` (pg_basebackup -R on first start, then postgres).
# PGPASSWORD comes from the environment (LANDGEO_DB_PASSWORD), never from the repository.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -h db -p 5432 -U landgeo -d landgeo; do sleep 1; done
    mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
    gosu postgres pg_basebackup -h db -p 5432 -U landgeo -D "$PGDATA" -R -X stream -c fast \
        -C -S landgeo_replica --no-password
fi
exec gosu postgres postgres -D "$PGDATA" -c hot_standby=on -c hot_standby_feedback=on
