from contact_center.cli import main

raise SystemExit(main())
