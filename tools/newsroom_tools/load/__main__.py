"""``python -m newsroom_tools.load``: the load run's command line."""

import sys

from newsroom_tools.load.cli import main

if __name__ == "__main__":
    sys.exit(main())
