"""One Spark session for every Spark test: a JVM starts once per test run, not per test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


def _spark_missing() -> str | None:
    """None if Spark can start here, else why not."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        return f"pyspark is not installed ({exc}): pip install -e '.[spark]'"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no java on PATH (Spark needs Java 17+: apt-get install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    reason = _spark_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Spark tests, but {reason}")
        pytest.skip(reason)
    from tactful.batch.spark import session

    s = session("local[2]", **{"spark.driver.memory": "1g"})
    try:
        yield s
    finally:
        s.stop()
