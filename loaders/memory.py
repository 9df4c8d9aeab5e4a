"""Process memory of a bulk load (bộ nhớ tiến trình nạp): keep freed blocks for reuse instead of returning them.

Each batch allocates the same arrays again (coordinates, masks, COPY buffers: hundreds of kilobytes to a few
megabytes each). glibc's malloc serves such sizes with a fresh ``mmap`` and gives them back with ``munmap`` on
free, so every batch faults its pages in again: measured ≈ 350 000 page faults and 1 s of kernel time for a
1 M-parcel file. With a higher mmap threshold and trim threshold the blocks stay in the heap between batches
(≈ 60 000 faults, 0.5 s). Meant for a process that loads and exits (the CLI), not for a server: it keeps up to
:data:`KEEP` bytes of freed memory. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest (HEAP_MAX_SIZE / 2 on 64-bit)
KEEP = 512 << 20


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; False where that is not possible."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all(mallopt(option, value) == 1 for option, value in
               ((M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, KEEP), (M_TOP_PAD, 64 << 20)))
