"""The PySide6 desktop app. Widgets talk to the service facade only through ``bridge.Bridge``."""
