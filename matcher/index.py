"""A growable, contiguous float32 matrix of unit vectors addressed by id.

Upserts write one row in place; deletes move the last row into the hole (O(dimension), never O(N));
capacity doubles when full. Dot products against all rows are one BLAS call.
"""

from __future__ import annotations

import numpy as np


class VectorIndex:
    def __init__(self, dimension: int, capacity: int = 1024) -> None:
        self.dimension = dimension
        self._matrix = np.zeros((capacity, dimension), dtype=np.float32)
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._rows

    @property
    def ids(self) -> list[str]:
        """Ids in row order (row i of `vectors` belongs to ids[i])."""
        return self._ids

    @property
    def vectors(self) -> np.ndarray:
        """A view of the stored rows, no copy."""
        return self._matrix[: len(self._ids)]

    def row_of(self, item_id: str) -> int | None:
        return self._rows.get(item_id)

    def upsert(self, item_id: str, vector: np.ndarray) -> None:
        row = self._rows.get(item_id)
        if row is None:
            row = len(self._ids)
            if row == self._matrix.shape[0]:
                grown = np.zeros((max(1, row) * 2, self.dimension), dtype=np.float32)
                grown[:row] = self._matrix[:row]
                self._matrix = grown
            self._ids.append(item_id)
            self._rows[item_id] = row
        self._matrix[row] = vector

    def remove(self, item_id: str) -> None:
        row = self._rows.pop(item_id, None)
        if row is None:
            return
        last = len(self._ids) - 1
        if row != last:
            moved = self._ids[last]
            self._matrix[row] = self._matrix[last]
            self._ids[row] = moved
            self._rows[moved] = row
        self._ids.pop()

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of the query with every row (rows and query are unit length)."""
        return self.vectors @ query.astype(np.float32, copy=False)

    def vector(self, item_id: str) -> np.ndarray:
        return self._matrix[self._rows[item_id]]
