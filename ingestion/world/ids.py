"""Identifiers: their text (``O000000001``, ``E20240101-00000042``) written by NumPy into Arrow buffers, and
look-ups of rows by id through Arrow's hash tables.

The world numbers millions of rows; formatting each id with a Python f-string cost more than generating the
row. Here the digits of every number are looked up four at a time into one fixed-width byte buffer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# The four-character text of 0000..9999, as rows of bytes and as one little-endian 32-bit word each.
_FOUR_DIGITS = np.array([list(f"{i:04d}".encode()) for i in range(10_000)], dtype=np.uint8)
_FOUR_DIGIT_WORDS = _FOUR_DIGITS.view("<u4").reshape(-1)


def numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` followed by each number zero-padded to ``width`` digits, as an Arrow string array (numbers
    must be non-negative and below 10**width): the same text as ``f"{prefix}{n:0{width}d}"``."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    size = len(head) + width
    text = np.empty((len(numbers), size), dtype=np.uint8)
    rest = np.asarray(numbers, dtype=np.int64)
    for end in range(size, len(head), -4):  # four digits at a time from the right; the first group may be shorter
        rest, group = np.divmod(rest, 10_000)
        digits = min(4, end - len(head))
        if end >= 4 and len(numbers):
            # A group is one 4-byte word a row, written through a strided (unaligned) view of the text: half
            # the time of copying rows of bytes out of a fancy-indexed block. A shorter first group's word
            # reaches back into the prefix, which is written after the digits.
            words = np.ndarray((len(numbers),), dtype="<u4", buffer=text, offset=end - 4, strides=(size,))
            words[...] = _FOUR_DIGIT_WORDS.take(group)
        else:
            text[:, end - digits : end] = _FOUR_DIGITS[group, 4 - digits :]
    text[:, : len(head)] = head
    offsets = np.arange(0, (len(numbers) + 1) * size, size, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), len(numbers), [None, pa.py_buffer(offsets), pa.py_buffer(text)])


def sequential_ids(prefix: str, n: int, width: int) -> pd.api.extensions.ExtensionArray:
    """``prefix`` + 1..n zero-padded to ``width`` digits as a pandas text column (the ``str`` dtype a list of
    Python strings would get)."""
    return pd.array(numbered(prefix, np.arange(1, n + 1), width), dtype="str")


def positions(values: pd.Series, keys: pa.Array) -> np.ndarray:
    """Position of each value in ``keys`` (unique), by Arrow's hash look-up; every value must be a key."""
    found = pc.index_in(arrow_column(values), value_set=keys)
    if found.null_count:
        raise ValueError(f"{found.null_count} values are not among the {len(keys)} keys they refer to")
    return found.to_numpy(zero_copy_only=False).astype(np.int64)


def is_in(values: pd.Series, allowed: pd.Series) -> np.ndarray:
    """``values.isin(allowed)`` by Arrow's hash look-up (pandas' is a Python loop on Arrow-backed text). The
    columns go to Arrow as they are: a detour through NumPy object arrays made a Python string per value."""
    return pc.is_in(arrow_column(values), value_set=arrow_column(allowed)).to_numpy(zero_copy_only=False)


def arrow_column(values: pd.Series) -> pa.Array:
    """The column as one Arrow array (Arrow-backed text without a copy)."""
    array = pa.array(values)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def lexsort(keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """``np.lexsort(keys)`` (the last key first; stable) of integer keys, as one sort of a single int64 key when
    their ranges fit in it: np.lexsort sorts once per key (0.45 s for the order lines at SF10). Each key
    is shifted to start at 0 and divided by the greatest common divisor of its steps (timestamps in whole
    seconds stored as microseconds), which keeps its order and its ties."""
    if not len(keys[0]):
        return np.lexsort(keys)
    compact, ranges = [], []
    for key in keys:
        low, high = int(key.min()), int(key.max())
        if high - low >= 2**62:  # (NaT's minimum int64, say): the shifted key would overflow
            return np.lexsort(keys)
        steps = key.astype(np.int64) - low
        divisor = int(np.gcd.reduce(steps)) or 1
        compact.append(steps // divisor)
        ranges.append(int(steps.max()) // divisor + 1)
    if np.prod([float(r) for r in ranges]) >= 2.0**62:
        return np.lexsort(keys)
    combined = compact[-1]
    for key, size in zip(compact[-2::-1], ranges[-2::-1], strict=True):
        combined = combined * size + key
    # NumPy's default argsort is three times faster than its stable one on millions of shuffled keys; rows with
    # equal keys are then put back in their input order, which makes the result the stable sort's.
    order = np.argsort(combined)
    ordered = combined[order]
    tie = ordered[1:] == ordered[:-1]
    if tie.any():
        run = np.cumsum(np.r_[True, ~tie])  # runs of equal keys, numbered along the sorted order
        tied = np.flatnonzero(np.r_[tie, False] | np.r_[False, tie])
        order[tied] = order[tied][np.lexsort((order[tied], run[tied]))]
    return order


def labels(values) -> pd.api.extensions.ExtensionArray:  # noqa: ANN001 - any iterable of text
    """A few labels as a pandas text array, for columns taken from it by index (``labels(...).take(codes)``:
    each row then costs no Python string)."""
    return pd.array(list(values), dtype="str")
