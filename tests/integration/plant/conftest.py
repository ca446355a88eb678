"""Plant tests: a real PostgreSQL server (tests/conftest.py) shared by simulated lines."""

from __future__ import annotations

import sys
from pathlib import Path

# --import-mode=importlib does not put this folder on sys.path; the helpers module needs it.
sys.path.insert(0, str(Path(__file__).parent))
