"""moto's server in a process of its own, for the local stack.

The local stack's API, event pump and job runner call moto for every record they read or write; in one
Python process they and moto's server took turns on one core, each call waiting for the interpreter
while the other side worked. Apart, moto answers on the second core, as AWS answers elsewhere. The
process ends with the stack that started it (``--parent``), and at once on SIGTERM: all its state is in
memory and the stack saves what it keeps before stopping it (so Ctrl-C, which the terminal sends to both,
is left to the stack).

    python -m onecloud.moto_server --host 127.0.0.1 --port 4566 --parent PID
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import signal
import sys
import threading

# Each request waits for the interpreter twice (to read it, to answer); Python's default 5 ms switch
# interval made a 1 ms answer take 10-20 ms while another thread computed.
SWITCH_SECONDS = 0.0005


class _NothingToDrain:
    """What werkzeug's drain after each answer finds once the handler has read the body: nothing, at once
    (it made an epoll object per request and waited up to 10 ms on it)."""

    EVENT_READ = 1

    @classmethod
    def DefaultSelector(cls) -> _NothingToDrain:  # noqa: N802 - the name werkzeug calls
        return cls()

    def register(self, *_: object) -> None:
        pass

    def select(self, timeout: float | None = None) -> list:
        return []

    def close(self) -> None:
        pass


def keep_alive_handler() -> type:
    """moto's request handler, keeping connections open. Werkzeug's server closes every connection after
    one answer (it cannot drain a request body the application left unread before the next request), so
    each call the stack made cost a new TCP connection and a new server thread, on both sides. This handler
    reads the body before the application does, so nothing is left unread, and hides the connection from
    werkzeug's drain (which would read the client's next request) until the answer is written; the
    client's connection then serves its next call. A chunked request body (no length known) still closes
    its connection, undrained (boto3 and the CLI send lengths)."""
    import werkzeug.serving
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    werkzeug.serving.selectors = _NothingToDrain  # type: ignore[assignment]

    class KeepAliveHandler(MotoRequestHandler):
        keep_alive = False
        disable_nagle_algorithm = True  # an answer's headers and body go out at once, not 40 ms apart

        def run_wsgi(self) -> None:
            connection = self.rfile
            try:
                super().run_wsgi()
            finally:
                self.rfile = connection  # the next request is read from it

        def make_environ(self) -> dict:
            environ = super().make_environ()
            self.keep_alive = not environ.get("wsgi.input_terminated")  # chunked: werkzeug's way
            if self.keep_alive:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                environ["wsgi.input"] = io.BytesIO(self.rfile.read(length) if length > 0 else b"")
                self.rfile = io.BytesIO()  # all werkzeug's drain finds after the answer
            return environ

        def send_header(self, keyword: str, value: str) -> None:
            if keyword.lower() == "connection" and self.keep_alive:
                return  # HTTP/1.1: the connection stays open unless the client closes it
            super().send_header(keyword, value)

    return KeepAliveHandler


def serve(host: str, port: int, parent: int | None) -> None:
    from moto.moto_server import threaded_moto_server
    from moto.server import ThreadedMotoServer

    from onecloud import local_moto, moto_transactions

    sys.setswitchinterval(SWITCH_SECONDS)
    moto_transactions.apply()  # transactions cost what they touch, not the size of the tables
    local_moto.apply()  # queries what they find, answers what they hold
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the stack, which saves, then stops this
    threaded_moto_server.MotoRequestHandler = keep_alive_handler()  # the handler its server is made with
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    print(f"moto listening on http://{host}:{port}", flush=True)
    while not stopped.wait(1):
        if parent is not None and os.getppid() != parent:
            break  # the stack is gone (killed without its stop)
    os._exit(0)  # tearing moto's in-memory AWS down object by object would take minutes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--parent", type=int, help="Stop when this process is no longer the parent.")
    options = parser.parse_args()
    serve(options.host, options.port, options.parent)


if __name__ == "__main__":
    main()
