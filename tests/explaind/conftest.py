import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from explaind_helpers import run  # noqa: E402,F401  (the shared fixture)
