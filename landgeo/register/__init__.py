"""Register transactions (giao dịch đăng ký đất đai): writes to parcels and parcel mutations, with full history.

- :mod:`landgeo.register.errors` — what a refused write says (HTTP status, one line, findings).
- :mod:`landgeo.register.body` — a GeoJSON Feature body -> checked parcel properties and geometry.
- :mod:`landgeo.register.checks` — the loaders' validation on a write, before commit.
- :mod:`landgeo.register.writes` — create / replace / patch / retire one parcel (Part 4), scoped and audited.
- :mod:`landgeo.register.mutations` — split, merge, change of land use, boundary correction (one transaction).
"""
