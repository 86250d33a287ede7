"""`python -m services.cli` is the `matchmaker` command."""

import sys

from services.cli.main import main

sys.exit(main())
