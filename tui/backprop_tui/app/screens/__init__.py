"""Modal screens: help, go to a step, fast-forward."""
