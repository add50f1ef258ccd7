"""``python -m sim``: the same as the ``intersim`` command."""

import sys

from .cli.main import main

sys.exit(main())
