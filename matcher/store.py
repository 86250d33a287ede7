"""Compact per-row storage for the non-dense signals, so a query scores its candidates in a few numpy calls.

A `SparseRows` holds one short sparse vector per row (a pruned lexical signature, the bag of terms, the
concepts, the domains, the tags of one entity) as int32 indices and float32 values in padded 2-D blocks,
one block per width class, so memory follows the entries stored, not the longest row. Nothing is a
Python object per row, so 100,000 companies cost their numbers and nothing else, and the dot products
of one query with any set of rows are, per width class present, a row gather, a multiply and a row sum:
no per-pair Python loop, no sparse matrix stacking.

Rows follow the positions of a `VectorIndex`: an upsert overwrites its row in place, a delete moves
the last row into the hole, as the vector index does. Both are O(row width), never O(N).
"""

from __future__ import annotations

import mmap

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
    """One sparse vector per row, stored by length. Not thread-safe (like the `Ranker` owning it).

    Rows are kept in width classes (`class_width`: multiples of 4 up to 32, then four classes per
    doubling), each class a padded 2-D block of int32 indices and float32 values with value 0 in the
    padding, so a row costs its length plus at most a quarter, not the width of the longest row stored
    (bag-of-terms rows run from ~70 to ~300 entries). Row i lives in class `_class[i]`, slot `_slot[i]`
    of that class's block; a block's slots are dense (a freed slot takes the block's last one), so an
    upsert, a delete and a row that changes class all cost O(row width), never O(N).
    """

    def __init__(self, dimension: int = 0, capacity: int = 1024) -> None:
        self._class = np.zeros(capacity, dtype=np.uint16)
        self._slot = np.zeros(capacity, dtype=np.int32)
        self._length = np.zeros(capacity, dtype=np.int32)
        self._rows = 0
        self._blocks: list[_Block] = []
        self._class_of_width: dict[int, int] = {}
        # the query scattered over the index space, all zero between calls; it grows with the largest
        # index seen, so an open-ended index space (tag ids) needs no declared dimension
        self._scratch = np.zeros(max(1, dimension), dtype=np.float32)

    def __len__(self) -> int:
        return self._rows

    @property
    def nbytes(self) -> int:
        """Bytes allocated (arrays grow by doubling: their unused part is zero pages, mostly not resident)."""
        per_row = self._class.nbytes + self._slot.nbytes + self._length.nbytes
        return per_row + sum(block.nbytes for block in self._blocks) + self._scratch.nbytes

    @property
    def bytes_in_use(self) -> int:
        """Bytes of the rows stored: their class blocks' slots in use and the per-row addresses."""
        per_row = self._class.itemsize + self._slot.itemsize + self._length.itemsize
        return self._rows * per_row + sum(block.bytes_in_use for block in self._blocks)

    def row(self, row: int) -> SparseVector:
        block, slot, n = self._blocks[self._class[row]], int(self._slot[row]), int(self._length[row])
        return block.indices[slot, :n], block.values[slot, :n]

    def set(self, row: int, vector: SparseVector) -> None:
        """Write row `row` (row == len(self) appends a row)."""
        indices, values = vector
        n = len(indices)
        k = self._class_for(n)
        if row == self._rows:
            if row == self._class.shape[0]:
                self._grow()
            self._rows += 1
            slot = self._blocks[k].add(row)
        elif self._class[row] != k:
            self._blocks[self._class[row]].free(int(self._slot[row]), self._slot)
            slot = self._blocks[k].add(row)
        else:
            slot = int(self._slot[row])
        if n:
            self._cover(int(indices[-1]))
        self._blocks[k].write(slot, indices, values)
        self._class[row], self._slot[row], self._length[row] = k, slot, n

    def move_last_to(self, row: int) -> None:
        """Delete `row` by moving the last row into it (what `VectorIndex.remove` does to its rows)."""
        last = self._rows - 1
        self._blocks[self._class[row]].free(int(self._slot[row]), self._slot)  # may move `last`'s slot
        if row != last:
            k, slot = self._class[last], self._slot[last]
            self._class[row], self._slot[row], self._length[row] = k, slot, self._length[last]
            self._blocks[k].owner[slot] = row
        self._rows -= 1

    def _class_for(self, n: int) -> int:
        width = class_width(n)
        k = self._class_of_width.get(width)
        if k is None:
            k = self._class_of_width[width] = len(self._blocks)
            self._blocks.append(_Block(width))
        return k

    def _grow(self) -> None:
        capacity = 2 * max(1, self._class.shape[0])
        for name in ("_class", "_slot", "_length"):
            old = getattr(self, name)
            grown = np.zeros(capacity, dtype=old.dtype)
            grown[: self._rows] = old[: self._rows]
            setattr(self, name, grown)

    def _cover(self, index: int) -> None:
        if index >= self._scratch.shape[0]:
            self._scratch = np.zeros(max(index + 1, 2 * self._scratch.shape[0]), dtype=np.float32)

    def dot(self, query: SparseVector, rows: np.ndarray | None = None) -> np.ndarray:
        """Dot product of the query with each of `rows` (default: all): float32 products, float64 sums.

        The rows are grouped by class (one stable radix sort of their class numbers) and each group is one
        row gather, multiply and row sum over its class's width."""
        rows = np.arange(self._rows) if rows is None else np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(rows), dtype=np.float64)
        q_idx, q_val = query
        if len(rows) == 0 or len(q_idx) == 0:
            return out
        self._cover(int(q_idx[-1]))
        self._scratch[q_idx] = q_val
        try:
            classes, slots = self._class[rows], self._slot[rows]
            counts = np.bincount(classes, minlength=len(self._blocks))
            present = np.flatnonzero(counts)
            if present.size == 1:  # one class (rows of one length, as pruned signatures are): no grouping
                out[:] = self._blocks[present[0]].dot(slots, self._scratch)
                return out
            order = np.argsort(classes, kind="stable")
            ends = np.cumsum(counts)
            for k in present:
                group = order[ends[k] - counts[k] : ends[k]]
                out[group] = self._blocks[k].dot(slots[group], self._scratch)
        finally:
            self._scratch[q_idx] = 0.0
        return out


def class_width(n: int) -> int:
    """The width of the class holding a row of n entries: multiples of 4 up to 32, then 4 per doubling
    (40, 48, 56, 64, 80, ...), so the padding is under a quarter of the block."""
    if n <= 32:
        return -(-n // 4) * 4
    step = 1 << ((n - 1).bit_length() - 3)
    return -(-n // step) * step


MAPPED_FROM = 1 << 20


def _zeros(shape: tuple[int, ...], dtype) -> np.ndarray:
    """A zeroed array; from MAPPED_FROM bytes on, in an anonymous memory map of its own. A block grows by
    doubling, so its unused half must cost nothing: a fresh mapping's pages are mapped only when written,
    and it goes back to the system as a whole when freed. The C heap (where malloc puts arrays of up to
    32 MiB once a larger one was freed) zeroes and keeps them: 20-90 MB more at 100,000 companies."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if nbytes < MAPPED_FROM:
        return np.zeros(shape, dtype=dtype)
    return np.frombuffer(mmap.mmap(-1, nbytes), dtype=dtype).reshape(shape)


class _Block:
    """The rows of one width class: padded slots, dense (`count` in use), `owner[slot]` the row in it."""

    def __init__(self, width: int, capacity: int = 16) -> None:
        self.width = width
        self.indices = np.zeros((capacity, width), dtype=np.int32)
        self.values = np.zeros((capacity, width), dtype=np.float32)
        self.owner = np.zeros(capacity, dtype=np.int32)
        self.count = 0

    @property
    def nbytes(self) -> int:
        return self.indices.nbytes + self.values.nbytes + self.owner.nbytes

    @property
    def bytes_in_use(self) -> int:
        return self.count * (self.indices.itemsize * self.width + self.values.itemsize * self.width + 4)

    def add(self, row: int) -> int:
        """A free slot for `row` (at the end; a full block doubles: amortised O(row))."""
        slot = self.count
        if slot == self.owner.shape[0]:
            capacity = 2 * slot
            indices = _zeros((capacity, self.width), np.int32)
            values = _zeros((capacity, self.width), np.float32)
            owner = _zeros((capacity,), np.int32)
            indices[:slot], values[:slot], owner[:slot] = self.indices, self.values, self.owner
            self.indices, self.values, self.owner = indices, values, owner
        self.owner[slot] = row
        self.count += 1
        return slot

    def free(self, slot: int, row_slots: np.ndarray) -> None:
        """Release `slot`: the last slot in use moves into it, and its row's entry in `row_slots` follows."""
        last = self.count - 1
        if slot != last:
            self.indices[slot] = self.indices[last]
            self.values[slot] = self.values[last]
            moved = self.owner[last]
            self.owner[slot] = moved
            row_slots[moved] = slot
        self.count -= 1

    def write(self, slot: int, indices: np.ndarray, values: np.ndarray) -> None:
        n = len(indices)
        self.indices[slot, :n] = indices
        self.values[slot, :n] = values
        self.indices[slot, n:] = 0
        self.values[slot, n:] = 0.0

    def dot(self, slots: np.ndarray, scratch: np.ndarray) -> np.ndarray:
        if self.width == 0:
            return np.zeros(len(slots), dtype=np.float64)
        products = self.values[slots] * scratch[self.indices[slots]]
        return products.sum(axis=1, dtype=np.float64)


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
