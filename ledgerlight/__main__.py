from ledgerlight.cli import main

raise SystemExit(main())
