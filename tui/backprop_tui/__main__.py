"""`python -m backprop_tui` runs the same command line as `backprop-tui`."""

from backprop_tui.cli import main

raise SystemExit(main())
