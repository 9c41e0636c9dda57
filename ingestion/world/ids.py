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
_GROUP_VALUES = np.arange(10_000)


def numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` followed by each number zero-padded to ``width`` digits, as an Arrow string array (numbers
    must be non-negative and below 10**width): the same text as ``f"{prefix}{n:0{width}d}"``."""
    groups, rest = [], np.asarray(numbers, dtype=np.int64)
    for _ in range((width + 3) // 4):  # four digits at a time from the right
        rest, group = np.divmod(rest, 10_000)
        groups.append(group)
    return _digits_text(prefix, groups, len(numbers), width)


def numbered_range(prefix: str, n: int, width: int) -> pa.Array:
    """``numbered(prefix, np.arange(n), width)``: the digits of consecutive numbers repeat in runs (the last
    four cycle through 0000-9999, the four before them step every 10,000 rows), so they are laid out by
    repeating the four-digit groups rather than divided out number by number."""
    groups = []
    for k in range((width + 3) // 4):
        run = 10_000**k  # rows in which group k keeps its value
        values = np.resize(_GROUP_VALUES, -(-n // run))  # 0 .. 9999 over and over: no division
        counts = np.full(len(values), run, dtype=np.int64)
        if n:
            counts[-1] = n - run * (len(values) - 1)
        groups.append(np.repeat(values, counts))
    return _digits_text(prefix, groups, n, width)


def _digits_text(prefix: str, groups: list[np.ndarray], n: int, width: int) -> pa.Array:
    """``prefix`` and ``width`` digits a row from the four-digit ``groups`` (the rightmost first)."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    size = len(head) + width
    text = np.empty((n, size), dtype=np.uint8)
    for group, end in zip(groups, range(size, len(head), -4), strict=True):  # the first group may be shorter
        digits = min(4, end - len(head))
        if end >= 4 and n:
            # A group is one 4-byte word a row, written through a strided (unaligned) view of the text: half
            # the time of copying rows of bytes out of a fancy-indexed block. A shorter first group's word
            # reaches back into the prefix, which is written after the digits.
            words = np.ndarray((n,), dtype="<u4", buffer=text, offset=end - 4, strides=(size,))
            words[...] = _FOUR_DIGIT_WORDS.take(group)
        else:
            text[:, end - digits : end] = _FOUR_DIGITS[group, 4 - digits :]
    _write_prefix(text, head)
    offsets = np.arange(0, (n + 1) * size, size, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(text)])


def _write_prefix(text: np.ndarray, head: np.ndarray) -> None:
    """Write ``head`` at the start of every row of ``text`` [row, byte], as a few words a row (8, 4, 2, 1
    bytes), each filled with one value: a copy of its bytes into every row cost more than all the digits."""
    n, size = text.shape
    done = 0
    while n and done < len(head):
        step = next(k for k in (8, 4, 2, 1) if done + k <= len(head))
        word = np.ndarray((n,), dtype=f"<u{step}", buffer=text, offset=done, strides=(size,))
        word[...] = head[done : done + step].view(f"<u{step}")[0]
        done += step


class IndexedText:
    """Text taken by index, faster than Arrow's take for the clickstream's tens of millions of events and with
    the same result (text, nulls and buffers). Values of one width (ids) are copied by NumPy, ``width``
    bytes a row, where Arrow follows each row's offsets. Nulls are made after the take: Arrow takes only the
    valid rows, and the offsets are spread out to the nulls (a null is empty). Arrow's ``large_string`` (what
    pandas' text columns hold) stays large; any other type is taken as ``string``."""

    def __init__(self, values: pa.Array) -> None:
        self.values = values if values.type == pa.large_string() else values.cast(pa.string())
        self.offset_type = np.int64 if self.values.type == pa.large_string() else np.int32
        self.rows: np.ndarray | None = None  # one item of ``width`` bytes per value, when they are all that wide
        if len(values) and not values.null_count:
            offsets = self._offsets(self.values)
            width = int(offsets[1] - offsets[0])
            if width and (np.diff(offsets) == width).all():
                data = np.frombuffer(self.values.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
                self.rows = data.view(f"V{width}")

    def _offsets(self, array: pa.Array) -> np.ndarray:
        start = array.offset
        return np.frombuffer(array.buffers()[1], dtype=self.offset_type)[start : start + len(array) + 1]

    def take(self, indices: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
        """The values at ``indices``, null where ``null`` holds (the index there is not read)."""
        n = len(indices)
        if null is not None and not null.any():
            null = None
        if self.rows is not None:
            width = self.rows.dtype.itemsize
            if null is None:
                offsets = np.arange(0, (n + 1) * width, width, dtype=self.offset_type)
                return self._text(n, None, offsets, self.rows.take(indices))
            valid = ~null
            offsets = np.zeros(n + 1, dtype=self.offset_type)
            np.cumsum(valid, out=offsets[1:])
            return self._text(n, valid, offsets * width, self.rows.take(indices[valid]))
        if null is None:
            return self.values.take(indices)
        valid = ~null
        taken = self.values.take(indices[valid])
        if not len(taken):  # every value null
            return self._text(n, valid, np.zeros(n + 1, dtype=self.offset_type), pa.py_buffer(b""))
        offsets = np.empty(n + 1, dtype=self.offset_type)
        taken_offsets = self._offsets(taken)
        offsets[0] = taken_offsets[0]
        offsets[1:] = taken_offsets[np.cumsum(valid)]
        data = taken.buffers()[2]
        return self._text(n, valid, offsets, pa.py_buffer(b"") if data is None else data)

    def _text(self, n: int, valid: np.ndarray | None, offsets: np.ndarray, data: np.ndarray | pa.Buffer) -> pa.Array:
        """An array of ``n`` values of this text's type from its buffers (``valid``: None when none is null)."""
        bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
        nulls = 0 if valid is None else n - int(np.count_nonzero(valid))
        data = data if isinstance(data, pa.Buffer) else pa.py_buffer(data)
        return pa.Array.from_buffers(self.values.type, n, [bitmap, pa.py_buffer(offsets), data], null_count=nulls)


def take_text(
    values: pd.Series | pd.api.extensions.ExtensionArray, indices: np.ndarray
) -> pd.api.extensions.ExtensionArray:
    """``values.array.take(indices)`` of a pandas text column (the same ``str`` column), through
    :class:`IndexedText`: ids are copied by NumPy, without Arrow's offset-by-offset take."""
    return pd.array(IndexedText(arrow_column(values)).take(indices), dtype="str")


def with_prefix(prefix: str, values: pd.Series, drop: int) -> pd.api.extensions.ExtensionArray:
    """``prefix + values.str[drop:]`` (``SHP000000042`` from ``O000000042``) as a pandas text column: for ids
    of one width the bytes are copied row by row by NumPy, where pandas' string slice and concatenation made
    two new text columns of every order."""
    text = IndexedText(arrow_column(values))
    if text.rows is None or text.rows.dtype.itemsize <= drop:
        return pd.array(prefix + values.str[drop:], dtype="str")
    n, width, head = len(text.rows), text.rows.dtype.itemsize, np.frombuffer(prefix.encode(), dtype=np.uint8)
    size = len(head) + width - drop
    out = np.empty((n, size), dtype=np.uint8)
    if n:
        old = np.ndarray((n,), dtype=f"V{width - drop}", buffer=text.rows, offset=drop, strides=(width,))
        np.ndarray((n,), dtype=f"V{width - drop}", buffer=out, offset=len(head), strides=(size,))[...] = old
    _write_prefix(out, head)
    offsets = np.arange(0, (n + 1) * size, size, dtype=np.int64)
    return pd.array(
        pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(out)]), dtype="str"
    )


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
