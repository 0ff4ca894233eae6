"""Virtualenvs that hold only what a user installs, for tests of what runs there.

The suite's own environments hold every dev tool and optional dependency, so they cannot show
what a user with `pip install "anthropic-otel[cli]"` gets (an `ImportError` the dev tools hide,
say). These are built by `scripts/dev-env` under `.venvs/` on first use, with the SDK version the
suite runs on, and reused while pyproject.toml is unchanged; the package is installed editable, so
they run the code under test.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import anthropic

ROOT = Path(__file__).resolve().parent.parent
# Only a hang gets here: the first build downloads packages, on a machine that may be busy.
BUILD_HANG_S = 1800


def user_venv(name: str, install: str) -> Path:
    """The `bin` directory of a virtualenv with only `install` (uv pip arguments) and this SDK version."""
    version = anthropic.__version__
    venv = ROOT / ".venvs" / f"{name}-{version}"
    env = {**os.environ, "DEV_ENV_INSTALL": install}
    command = [str(ROOT / "scripts" / "dev-env"), str(venv), version]
    subprocess.run(command, env=env, check=True, timeout=BUILD_HANG_S)
    return venv / "bin"
