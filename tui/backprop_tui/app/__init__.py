"""The Textual app: views of the session, and the keys that drive it."""
