"""An extraction worker process: ``python -m <this package>.worker SOCKET_FD MEMORY_MB`` (see sandbox).

A module of its own, imported by nothing, so running it with -m does not run a module the
package has already imported.
"""

import sys
from multiprocessing.connection import Connection

from .sandbox import serve

if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), int(sys.argv[2]))
