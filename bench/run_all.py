"""`make bench`: run every benchmark script and write docs/benchmarks.md from their results.

Each script prints its own figures and leaves a JSON file in bench/out/; this collects them with
the machine they were measured on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
DOC = HERE.parent / "docs" / "benchmarks.md"
SCRIPTS = ["ingest.py", "simulate.py", "world.py", "enrich.py", "insights.py", "models.py",
           "decide.py", "outbound.py", "deliver.py", "api.py", "startup.py", "spark.py", "scale.py"]


def table(rows: list[dict[str, object]]) -> list[str]:
    if not rows:
        return ["(no rows)"]
    cols = list(dict.fromkeys(k for r in rows for k in r))  # every key, in first-seen order
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(_cell(r.get(c, "")) for c in cols) + " |")
    return out


def _cell(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def kept_sections(below_marker: str) -> dict[str, list[str]]:
    """The page's sections below the marker, by name (``## name``), each with its lines."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in below_marker.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        if current is not None:
            current.append(line)
    for body in sections.values():
        while len(body) > 1 and body[-1] == "" and body[-2] == "":
            body.pop()
        if body[-1] != "":
            body.append("")
    return sections


def main() -> None:
    # `--collect` rewrites the page from results already in bench/out/ (after running one script
    # by hand) without running the others again.
    scripts = [] if "--collect" in sys.argv[1:] else SCRIPTS
    for script in scripts:
        path = HERE / script
        if not path.exists():
            continue
        print(f"== {script}", flush=True)
        subprocess.run([sys.executable, str(path)], check=True)  # noqa: S603 -- our own scripts
    marker = "<!-- everything below is written by make bench -->"
    head, _, below = (DOC.read_text() if DOC.exists() else "# Benchmarks\n\n").partition(marker)
    # A section whose script did not run here (bench/out/ holds only this machine's results)
    # keeps the figures it had: rerunning one script must not wipe the others.
    sections = kept_sections(below)
    for result in sorted((HERE / "out").glob("*.json")):
        data = json.loads(result.read_text())
        m = data["machine"]
        body = [
            f"## {result.stem}",
            "",
            f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
            f"Python {m['python']}, {m['os']}.",
            "",
            *table(data["rows"]),
            "",
        ]
        if data.get("notes"):
            body += [str(data["notes"]), ""]
        sections[result.stem] = body
    lines = [head.rstrip("\n"), "", marker, ""]
    for name in sorted(sections):
        lines += sections[name]
    DOC.write_text("\n".join(lines))
    print(f"written {DOC}")


if __name__ == "__main__":
    main()
