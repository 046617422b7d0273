from bowerbird.cli import main

raise SystemExit(main())
