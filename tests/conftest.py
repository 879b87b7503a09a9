"""What every test module may import: the helpers in tests/ (handwritten, attacks, ...) and the fixture class
builders in tests/fixtures/, so that no test edits sys.path itself."""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for folder in (HERE, HERE / "fixtures"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
