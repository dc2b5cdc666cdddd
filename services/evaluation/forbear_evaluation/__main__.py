"""``python -m forbear_evaluation CASE.json`` is the same as ``python -m forbear_evaluation.cli``."""

import sys

from .cli import main

sys.exit(main())
