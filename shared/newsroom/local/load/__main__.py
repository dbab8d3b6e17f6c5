"""``python -m newsroom.local.load``: the load run's command line."""

import sys

from newsroom.local.load.cli import main

if __name__ == "__main__":
    sys.exit(main())
