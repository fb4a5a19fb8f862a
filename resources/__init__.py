"""SVG icons and images of the FileVault desktop app (loaded by filevault_desktop.gui.icons)."""
