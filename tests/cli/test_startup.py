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
NOT_AT_START = ("sklearn", "lightgbm", "scipy", "ofxtools", "matplotlib", "fairlearn", "pandas")


def _imported_by(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    return {name.split(".")[0] for name in json.loads(done.stdout)}


def test_importing_the_cli_loads_no_heavy_library() -> None:
    imported = _imported_by("import tactful.cli.app")
    assert "typer" in imported  # the probe sees what the import pulls in
    assert sorted(imported & set(NOT_AT_START)) == []


@pytest.mark.parametrize("statement", [
    "import tactful.ingest.readers",
    "from tactful.ingest.readers import readers; readers.get('ofx')",
])
def test_the_reader_registry_finds_ofx_without_ofxtools(statement: str) -> None:
    assert "ofxtools" not in _imported_by(statement)


def test_reading_an_ofx_date_imports_ofxtools_on_first_use() -> None:
    imported = _imported_by(
        "from tactful.ingest.readers.ofx import ofx_datetime\n"
        "assert ofx_datetime('20231005120000[-5:EST]') == '2023-10-05T12:00:00-05:00'"
    )
    assert "ofxtools" in imported
