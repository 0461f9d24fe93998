"""Starting the command line loads no heavy library: ``tactful --help`` and every command's
parsing stay fast because the engine is imported inside the commands that use it (issue 21).

Not a timing test: it pins *what* is imported, which is what the start-up time follows. The
figure itself is ``bench/startup.py``'s.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Each costs from a tenth of a second to most of a second to import; none is needed to parse a
# command line or print its help.
NOT_AT_START = (
    "sklearn", "lightgbm", "scipy", "ofxtools", "matplotlib", "fairlearn", "pandas",
    "sqlalchemy", "polars", "alembic", "numpy", "pyarrow",
    # the domain records' locale check: the enums a signature names come without it
    "babel",
    # Rich's help panels and the Markdown they import (the help is click's plain text)
    "markdown_it",
)

# Every command's and group's --help, as typer builds them: each signature's types resolved.
EVERY_HELP = """
import typer
from tactful.cli.app import app

def walk(command, path):
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, [*path, name])

root = typer.main.get_command(app)
helped = 0
for path in walk(root, []):
    try:
        root.main([*path, "--help"], prog_name="tactful", standalone_mode=False)
    except SystemExit:
        pass
    helped += 1
assert helped > 20, helped
"""


def _imported_by(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    )
    return {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}


@pytest.mark.parametrize("code", ["import tactful.cli.app", EVERY_HELP],
                         ids=["import", "every-help"])
def test_starting_the_cli_loads_no_heavy_library(code: str) -> None:
    imported = _imported_by(code)
    assert "typer" in imported  # the probe sees what the start pulls in
    assert sorted(imported & set(NOT_AT_START)) == []


@pytest.mark.parametrize("module", [
    "tactful.models.registry", "tactful.models.scoring", "tactful.models.train",
    "tactful.enrich.classifier", "tactful.batch.insights", "tactful.decide.service",
])
def test_the_engine_imports_its_optional_heavy_libraries_on_first_use(module: str) -> None:
    """A command's body imports these modules: the model families, the text classifier and
    what uses them load scikit-learn, LightGBM, SciPy and fairlearn only to fit or load."""
    imported = _imported_by(f"import {module}")
    assert module.split(".")[0] in imported
    assert sorted(imported & {"sklearn", "lightgbm", "scipy", "fairlearn", "pandas"}) == []


@pytest.mark.parametrize("code", [
    "import tactful.ingest.readers",
    "from tactful.ingest.readers import readers; readers.get('ofx')",
])
def test_the_reader_registry_finds_ofx_without_ofxtools(code: str) -> None:
    assert "ofxtools" not in _imported_by(code)


def test_reading_an_ofx_date_imports_ofxtools_on_first_use() -> None:
    imported = _imported_by(
        "from tactful.ingest.readers.ofx import ofx_datetime\n"
        "assert ofx_datetime('20231005120000[-5:EST]') == '2023-10-05T12:00:00-05:00'"
    )
    assert "ofxtools" in imported


def test_a_command_imports_the_engine_it_uses() -> None:
    """The other side of the bargain: a command still finds its engine when it runs."""
    imported = _imported_by(
        "from typer.testing import CliRunner\n"
        "from tactful.cli.app import app\n"
        "result = CliRunner().invoke(app, ['categories'])\n"
        "assert result.exit_code == 0, result.output"
    )
    assert "tactful" in imported
