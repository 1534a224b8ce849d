"""Widgets of the app: the network diagram and the text panels."""
