"""backprop-tui: every computation of backpropagation, one scalar at a time."""

__version__ = "0.1.0"
