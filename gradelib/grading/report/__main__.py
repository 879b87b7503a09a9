"""``python -m gradelib.grading.report [ASSIGNMENT]``: the misconception report (cli.py)."""

import sys

from .cli import main

sys.exit(main())
