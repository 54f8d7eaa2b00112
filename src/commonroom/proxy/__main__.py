"""`python -m commonroom.proxy`: the same as `commonroom proxy`."""

from .cli import main

raise SystemExit(main())
