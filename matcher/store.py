"""Compact per-row storage for the non-dense signals, so a query scores its candidates in a few numpy calls.

A `SparseRows` holds one short sparse vector per row (a pruned lexical signature, the concepts, the
domains, the tags of one entity) in two padded 2-D arrays: indices (int32) and values (float32).
Nothing is a Python object per row, so 100,000 companies cost their numbers and nothing else, and the
dot products of one query with any set of rows are a row gather, a multiply and a row sum: no
per-pair Python loop, no sparse matrix stacking.

Rows follow the positions of a `VectorIndex`: an upsert overwrites its row in place, a delete moves
the last row into the hole, as the vector index does. Both are O(row width), never O(N).
"""

from __future__ import annotations

import numpy as np

SparseVector = tuple[np.ndarray, np.ndarray]  # (int32 indices, sorted and unique; float32 values)
EMPTY: SparseVector = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


def sparse_vector(indices, values) -> SparseVector:
    """Normalise input into the stored form: int32 indices sorted ascending, float32 values."""
    idx = np.asarray(indices, dtype=np.int32)
    val = np.asarray(values, dtype=np.float32)
    order = np.argsort(idx, kind="stable")
    return idx[order], val[order]


def sparse_dot(a: SparseVector, b: SparseVector) -> float:
    """Dot product of two sparse vectors (the arithmetic of `SparseRows.dot`: float32 products, float64 sum)."""
    common, ia, ib = np.intersect1d(a[0], b[0], assume_unique=True, return_indices=True)
    if common.size == 0:
        return 0.0
    return float((a[1][ia] * b[1][ib]).sum(dtype=np.float64))


class SparseRows:
    """One sparse vector per row, padded to a common width. Not thread-safe (like the `Ranker` owning it).

    Row i is `indices[i, :length[i]]`, `values[i, :length[i]]`; the padding holds value 0, so it adds
    nothing to a dot product. The width grows (a rare, amortised copy, like capacity doubling) when a
    longer row arrives; rows are short by construction (128 lexical terms, a few concepts and tags).
    """

    def __init__(self, dimension: int = 0, capacity: int = 1024, width: int = 8) -> None:
        self._indices = np.zeros((capacity, width), dtype=np.int32)
        self._values = np.zeros((capacity, width), dtype=np.float32)
        self._length = np.zeros(capacity, dtype=np.int32)
        self._rows = 0
        # the query scattered over the index space, all zero between calls; it grows with the largest
        # index seen, so an open-ended index space (tag ids) needs no declared dimension
        self._scratch = np.zeros(max(1, dimension), dtype=np.float32)

    def __len__(self) -> int:
        return self._rows

    @property
    def nbytes(self) -> int:
        return self._indices.nbytes + self._values.nbytes + self._length.nbytes + self._scratch.nbytes

    def row(self, row: int) -> SparseVector:
        n = int(self._length[row])
        return self._indices[row, :n], self._values[row, :n]

    def set(self, row: int, vector: SparseVector) -> None:
        """Write row `row` (row == len(self) appends a row)."""
        indices, values = vector
        n = len(indices)
        capacity, width = self._indices.shape
        if row == capacity or n > width:
            self._resize(capacity * 2 if row == capacity else capacity, max(width, n))
        if row == self._rows:
            self._rows += 1
        if n:
            self._cover(int(indices[-1]))
        self._indices[row, :n] = indices
        self._values[row, :n] = values
        self._indices[row, n:] = 0
        self._values[row, n:] = 0.0
        self._length[row] = n

    def move_last_to(self, row: int) -> None:
        """Delete `row` by moving the last row into it (what `VectorIndex.remove` does to its rows)."""
        last = self._rows - 1
        if row != last:
            self._indices[row] = self._indices[last]
            self._values[row] = self._values[last]
            self._length[row] = self._length[last]
        self._rows -= 1

    def _resize(self, capacity: int, width: int) -> None:
        indices = np.zeros((capacity, width), dtype=np.int32)
        values = np.zeros((capacity, width), dtype=np.float32)
        length = np.zeros(capacity, dtype=np.int32)
        rows, old_width = self._rows, self._indices.shape[1]
        indices[:rows, :old_width] = self._indices[:rows]
        values[:rows, :old_width] = self._values[:rows]
        length[:rows] = self._length[:rows]
        self._indices, self._values, self._length = indices, values, length

    def _cover(self, index: int) -> None:
        if index >= self._scratch.shape[0]:
            self._scratch = np.zeros(max(index + 1, 2 * self._scratch.shape[0]), dtype=np.float32)

    def dot(self, query: SparseVector, rows: np.ndarray | None = None) -> np.ndarray:
        """Dot product of the query with each of `rows` (default: all): float32 products, float64 sums."""
        rows = np.arange(self._rows) if rows is None else np.asarray(rows, dtype=np.int64)
        q_idx, q_val = query
        if len(rows) == 0 or len(q_idx) == 0:
            return np.zeros(len(rows), dtype=np.float64)
        self._cover(int(q_idx[-1]))
        self._scratch[q_idx] = q_val
        try:
            products = self._values[rows] * self._scratch[self._indices[rows]]
        finally:
            self._scratch[q_idx] = 0.0
        return products.sum(axis=1, dtype=np.float64)

    def dot_narrow(self, query: SparseVector, rows: np.ndarray) -> np.ndarray:
        """`dot` for many rows of very different lengths: rows are grouped by length and each group gathers
        only as many columns as its longest row needs, not the padded width (the widest rows set it).
        The same products; their float64 sums may differ from `dot`'s in the last bit (summation order)."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(rows), dtype=np.float64)
        q_idx, q_val = query
        if len(rows) == 0 or len(q_idx) == 0:
            return out
        self._cover(int(q_idx[-1]))
        self._scratch[q_idx] = q_val
        try:
            lengths = self._length[rows]
            low = 0
            for width in (*NARROW_WIDTHS, self._indices.shape[1]):
                group = np.flatnonzero((lengths > low) & (lengths <= width))
                low = width
                if group.size == 0:
                    continue
                picked = rows[group]
                w = min(width, self._indices.shape[1])
                products = self._values[picked, :w] * self._scratch[self._indices[picked, :w]]
                out[group] = products.sum(axis=1, dtype=np.float64)
                if low >= self._indices.shape[1]:
                    break
        finally:
            self._scratch[q_idx] = 0.0
        return out


NARROW_WIDTHS = (16, 32, 64, 128, 192)


class Columns:
    """Fixed-width per-row attributes (version, city mask, ...) as growable numpy arrays, rows as above."""

    def __init__(self, dtypes: dict[str, type], capacity: int = 1024) -> None:
        self._arrays: dict[str, np.ndarray] = {name: np.zeros(capacity, dtype=dtype) for name, dtype in dtypes.items()}
        self._rows = 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self._arrays[name][: self._rows]

    def set(self, row: int, **values) -> None:
        if row == self._rows:
            if row == len(next(iter(self._arrays.values()))):
                self._arrays = {k: np.concatenate([a, np.zeros_like(a)]) for k, a in self._arrays.items()}
            self._rows += 1
        for name, value in values.items():
            self._arrays[name][row] = value

    def move_last_to(self, row: int) -> None:
        last = self._rows - 1
        if row != last:
            for array in self._arrays.values():
                array[row] = array[last]
        self._rows -= 1
