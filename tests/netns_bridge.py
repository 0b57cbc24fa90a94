"""Carry connections from an inherited listening socket to 127.0.0.1:PORT of this network namespace.

Run by tests/milvus_server.py inside the Milvus server's namespace:
``python netns_bridge.py LISTENING_FD PORT``.
"""

import socket
import sys
import threading


def pump(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes one way until the source ends, then end that direction of the target."""
    try:
        while chunk := source.recv(1 << 16):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def main() -> None:
    """Accept connections forever and bridge each one."""
    listener = socket.socket(fileno=int(sys.argv[1]))
    port = int(sys.argv[2])
    while True:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", port))
        except OSError:
            client.close()  # the server is not listening yet: the caller retries
            continue
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(source, target), daemon=True).start()


if __name__ == "__main__":
    main()
