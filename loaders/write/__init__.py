"""The write side of a load (ghi dữ liệu): the writer protocol and its two paths, inside the load's one transaction.

``writers`` — the protocol, its :class:`~loaders.write.writers.MergeWriter` and
:class:`~loaders.write.writers.BulkWriter`, and the database thread; ``stage`` — binary COPY into a per-load
staging table; ``merge`` — set-based checks, append/replace/upsert into the target; ``bulk`` — a province's first
load built as its new partition and swapped in.
"""
