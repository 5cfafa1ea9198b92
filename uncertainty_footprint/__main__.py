"""``python -m uncertainty_footprint``: see :mod:`uncertainty_footprint.cli`."""

import sys

from .cli import console_main

if __name__ == "__main__":
    sys.exit(console_main())
