"""A process that has imported Tactful once and forks one ``tactful`` command per request.

The reliability suite kills commands with SIGKILL at random points; started as new
interpreters, each would spend its first 2-3 s importing Polars, scikit-learn and the CLI, time
in which nothing can be interrupted. A child forked from here runs the CLI's own ``main()``
with the given arguments, in a process of its own, from its first line of work.

Protocol, one JSON object per line on stdin, one answer per line on stdout:
``{"op": "spawn", "argv": [...], "cwd": DIR, "log": FILE}`` -> ``{"pid": N}``;
``{"op": "wait", "pid": N}`` -> ``{"status": CODE}`` (negative: killed by that signal).
Nothing has run in this process before the fork (no Polars thread pool, no database
connection), which is what makes forking it safe.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from importlib import import_module

from tactful.cli.app import main

# The CLI imports the engine inside its commands (so ``tactful --help`` starts fast); the
# commands this suite runs would each pay those imports after the fork, so they are made here.
WARM = ("tactful.ingest.loader", "tactful.batch.enrich", "tactful.batch.insights",
        "tactful.insights.lifecycle", "sklearn.feature_extraction.text", "sklearn.linear_model",
        "tactful.deliver.worker")
for _module in WARM:
    import_module(_module)


def _child(argv: list[str], cwd: str, log: str) -> None:
    code = 1
    try:
        os.chdir(cwd)
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        sys.argv = ["tactful", *argv]
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()  # into the log: what killed a command the test did not kill
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "spawn":
            pid = os.fork()
            if pid == 0:
                _child(request["argv"], request["cwd"], request["log"])
            answer: dict[str, int] = {"pid": pid}
        elif request["op"] == "wait":
            _, status = os.waitpid(request["pid"], 0)
            answer = {"status": os.waitstatus_to_exitcode(status)}
        else:
            raise SystemExit(f"unknown op {request['op']!r}")
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    serve()
