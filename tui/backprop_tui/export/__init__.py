"""Exporters: functions of a session's steps and epochs, with no Textual in sight."""
