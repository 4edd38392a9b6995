"""Every moderation module says what it offers in __all__, and offers what it says."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import moderation
import moderation.web

MODULES = sorted(m.name for m in pkgutil.iter_modules(moderation.__path__))
# The web modules' endpoints are reached through routes(), the one name they offer.
WEB = {"web", *(f"web.{m.name}" for m in pkgutil.iter_modules(moderation.web.__path__))}


@pytest.mark.parametrize("name", sorted({*MODULES, *WEB}))
def test_every_name_in_all_exists(name: str) -> None:
    module = importlib.import_module(f"moderation.{name}")
    assert all(hasattr(module, item) for item in module.__all__), name


@pytest.mark.parametrize("name", sorted(set(MODULES) - WEB))
def test_every_public_function_and_class_of_a_domain_module_is_listed(name: str) -> None:
    module = importlib.import_module(f"moderation.{name}")
    exported = set(module.__all__)
    own = {
        key
        for key, value in vars(module).items()
        if not key.startswith("_")
        and callable(value)
        and getattr(value, "__module__", None) == module.__name__
    }
    assert own <= exported, f"moderation.{name} does not list {sorted(own - exported)}"
