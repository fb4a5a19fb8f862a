"""One running app per user and config dir: a second launch asks the first to come forward."""

from __future__ import annotations

import getpass
import hashlib

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

CONNECT_TIMEOUT_MS = 500
SHOW = b"show\n"


def server_name(identity: str) -> str:
    digest = hashlib.sha256(f"{getpass.getuser()}\0{identity}".encode()).hexdigest()[:16]
    return f"filevault-{digest}"


class SingleInstance(QObject):
    activated = Signal()  # another launch asked us to show the window

    def __init__(self, identity: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(identity)
        self._server: QLocalServer | None = None

    def claim(self) -> bool:
        """True: this is the first instance (now listening). False: the first one was told."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        # Runs once at start-up, before any window exists: a short wait is fine here.
        try:
            if socket.waitForConnected(CONNECT_TIMEOUT_MS):
                socket.write(SHOW)
                socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
                socket.disconnectFromServer()
                return False
        finally:
            socket.abort()
        # Nobody answered: a socket file left by a crashed instance must not block us.
        QLocalServer.removeServer(self.name)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            return True  # cannot listen: run anyway rather than refuse to start
        server.newConnection.connect(self._on_connection)
        self._server = server
        return True

    def _on_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(self._read)
            socket.disconnected.connect(socket.deleteLater)

    def _read(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket) and bytes(socket.readAll().data()).startswith(
            SHOW.strip()
        ):
            self.activated.emit()

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
            self._server = None
