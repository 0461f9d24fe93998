"""The choices a face names in its commands' signatures, from modules that import nothing
heavy: ``tactful --help`` resolves every signature, and must not load the engine to do it."""

from __future__ import annotations

from tactful.decide.placement import Placement
from tactful.ingest.choices import ConflictPolicy
from tactful.service.scopes import Scope

__all__ = ["ConflictPolicy", "Placement", "Scope"]
