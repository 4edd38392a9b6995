"""Small statistics helpers (nearest-rank percentiles, medians that tolerate gaps)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable

__all__ = ["median", "percentile", "ratio"]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b
