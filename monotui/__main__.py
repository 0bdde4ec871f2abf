from monotui.cli import main

raise SystemExit(main())
