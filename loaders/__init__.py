"""ETL loaders (nạp dữ liệu): the files provinces have, into landdb and geobase.

One module per stage, in the order data flows through them (:mod:`loaders.pipeline` runs them):

``options`` (what was asked, what a load gives back) → ``read`` (open the source, stream Arrow batches) →
``text`` (TCVN3/VNI/CP1258 text to Unicode NFC, with :mod:`landgeo.vn_encodings`) → ``map`` (source fields →
target fields, typed) → ``source_crs`` (source CRS, detection, transformation to VN-2000 geographic) →
``checks`` (per-feature checks from :mod:`landgeo.validation`, repair or reject) → ``parcels`` (province of
each row, for targets that derive it) → ``batches`` (one batch through all of the above, encoded for COPY) →
``write`` (the writer protocol: a province's first load built as its partition, or staging + merge, with the
set-based checks whose findings go through validation's one findings writer) → ``report`` (rejects file,
reasons, counts).
"""
