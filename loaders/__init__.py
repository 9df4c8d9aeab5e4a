"""ETL loaders (nạp dữ liệu): the files provinces have, into landdb and geobase.

One module per stage, in the order data flows through them:

``read`` (open the source, stream Arrow batches) → ``encoding`` (TCVN3/VNI/CP1258 text to Unicode NFC) →
``map`` (source fields → target fields, typed) → ``crs`` (source CRS, detection, transformation to VN-2000
geographic) → ``validate`` (per-feature checks from :mod:`landgeo.validation`, repair or reject) →
``stage`` (COPY into a per-load staging table) → ``merge`` (set-based checks, append/replace/upsert in one
transaction with the lineage row) → ``report`` (rejects file, counts). :mod:`loaders.pipeline` runs them.
"""
