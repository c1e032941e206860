"""`python -m bot` is the `carapulse` command."""

import sys

from bot.cli import main

sys.exit(main())
