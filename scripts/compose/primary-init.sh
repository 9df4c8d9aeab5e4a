#!/bin/sh
# docker-entrypoint-initdb.d hook of the primary (compose service `db`): streaming replicas may connect.
set -eu
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
