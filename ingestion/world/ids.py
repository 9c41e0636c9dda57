"""Identifier text (``O000000001``, ``E20240101-00000042``) written by NumPy into Arrow buffers.

The world numbers millions of rows; formatting each id with a Python f-string cost more than generating the
row. Here the digits of every number are looked up four at a time into one fixed-width byte buffer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

# The four-character text of 0000..9999.
_FOUR_DIGITS = np.array([list(f"{i:04d}".encode()) for i in range(10_000)], dtype=np.uint8)


def numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` followed by each number zero-padded to ``width`` digits, as an Arrow string array (numbers
    must be non-negative and below 10**width): the same text as ``f"{prefix}{n:0{width}d}"``."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    size = len(head) + width
    text = np.empty((len(numbers), size), dtype=np.uint8)
    text[:, : len(head)] = head
    rest = np.asarray(numbers, dtype=np.int64)
    for end in range(size, len(head), -4):  # four digits at a time from the right; the first group may be shorter
        rest, group = np.divmod(rest, 10_000)
        digits = min(4, end - len(head))
        text[:, end - digits : end] = _FOUR_DIGITS[group, 4 - digits :]
    offsets = np.arange(0, (len(numbers) + 1) * size, size, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), len(numbers), [None, pa.py_buffer(offsets), pa.py_buffer(text)])


def sequential_ids(prefix: str, n: int, width: int) -> pd.api.extensions.ExtensionArray:
    """``prefix`` + 1..n zero-padded to ``width`` digits as a pandas text column (the ``str`` dtype a list of
    Python strings would get)."""
    return pd.array(numbered(prefix, np.arange(1, n + 1), width), dtype="str")
