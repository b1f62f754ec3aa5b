"""A column as codes into its values: how `features` computes each text input once per value.

A batch chunk repeats names, tickets, fares and ports, so a feature of a text column is
computed once per distinct value (found with `pd.factorize`) and spread back over the rows by
its codes; a request's few rows skip the hashing, which would cost more than it saves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, NamedTuple

import numpy as np
import pandas as pd

# Up to this many rows, every row holds its own value (a request); above it, each distinct one once.
SMALL: Final = 256


class Coded(NamedTuple):
    """A column as codes into its values: `values[codes]` is every row's value.

    Large inputs (a batch chunk) hold each distinct value once, so a text feature is computed
    once per distinct value (names, tickets and fares repeat in a batch); small ones (a
    request's rows) hold every row's own value, which costs less than finding the distinct ones.
    A gap is None among the values.
    """

    codes: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, column: Sequence[Any] | np.ndarray) -> Coded:
        """The column coded: per distinct value when large, per row when small."""
        if len(column) <= SMALL:
            return cls(np.arange(len(column)), np.asarray(column, dtype=object))
        numeric = isinstance(column, np.ndarray) and column.dtype.kind == "f"
        codes, distinct = pd.factorize(np.asarray(column, dtype=None if numeric else object))
        values = np.empty(len(distinct) + 1, dtype=object)
        values[:-1], values[-1] = distinct, None
        return cls(np.where(codes < 0, len(distinct), codes), values)  # a gap (-1) is the None

    def map(self, fn: Callable[[Any], str]) -> Coded:
        """`fn` of every value, computed once per value held."""
        return Coded(self.codes, np.array([fn(v) for v in self.values], dtype=object))

    def rows(self, index: np.ndarray) -> Coded:
        """The rows at `index`, holding only the values they use."""
        codes = self.codes[index]
        if len(codes) <= SMALL:
            return Coded(np.arange(len(codes)), self.values[codes])
        compact, used = pd.factorize(codes)
        return Coded(compact, self.values[used])

    def array(self) -> np.ndarray:
        return self.values.take(self.codes)

    def present(self) -> np.ndarray:
        """True where the row's value is not a gap."""
        return np.take(np.asarray(pd.notna(self.values), dtype=bool), self.codes)

    def equals(self, value: str) -> np.ndarray:
        return np.take(np.asarray(self.values == value, dtype=bool), self.codes)


def joined(parts: Sequence[Coded]) -> np.ndarray:
    """`"|".join` of the parts row by row; large inputs join each distinct combination of their
    codes once, small ones each row (finding the combinations would cost more)."""
    rows = len(parts[0].codes)
    if rows <= SMALL:
        texts = (p.array().tolist() for p in parts)
        return np.array(["|".join(key) for key in zip(*texts, strict=True)], dtype=object)
    combined = np.zeros(rows, dtype=np.int64)
    for part in parts:  # one code per distinct combination so far, in order of first appearance
        combined, _ = pd.factorize(combined * len(part.values) + part.codes)
    first = _first_rows(combined)
    texts = (p.values.take(p.codes.take(first)).tolist() for p in parts)
    keys = np.array(["|".join(key) for key in zip(*texts, strict=True)], dtype=object)
    return keys[combined]


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """Each code's first row, for codes numbered in order of first appearance (as factorized):
    the rows where the running maximum grows."""
    running = np.maximum.accumulate(codes)
    return np.flatnonzero(np.r_[True, running[1:] > running[:-1]])
