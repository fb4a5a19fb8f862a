"""``python -m filevault_desktop.gui``."""

from filevault_desktop.gui.app import main

if __name__ == "__main__":
    raise SystemExit(main())
