"""`python -m titanic_mlops.cli`: the same command as `titanic-mlops`."""

from titanic_mlops.cli.main import main

raise SystemExit(main())
