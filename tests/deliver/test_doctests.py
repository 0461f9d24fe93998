"""The delivery modules' ``>>>`` examples run, so the documentation cannot drift."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["tactful.deliver.message", "tactful.deliver.checks", "tactful.deliver.signature",
           "tactful.deliver.channels.mail", "tactful.deliver.variants"]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
