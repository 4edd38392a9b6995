from __future__ import annotations

from types import ModuleType

import realtime


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(realtime).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }

    assert public == set(realtime.__all__)
    assert len(realtime.__all__) == len(set(realtime.__all__))
