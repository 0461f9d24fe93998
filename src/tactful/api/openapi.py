"""The OpenAPI document of the app, as committed in ``docs/openapi.json`` (a test fails when
the two drift): ``python -m tactful.api.openapi > docs/openapi.json``."""

from __future__ import annotations

import json
import sys

from fastapi import FastAPI


def document(app: FastAPI) -> str:
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    from tactful.api.app import create_app
    from tactful.service.context import open_store

    store = open_store("sqlite://")
    sys.stdout.write(document(create_app(store)))


if __name__ == "__main__":
    main()
