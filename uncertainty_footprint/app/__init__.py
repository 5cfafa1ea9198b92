"""The web calculator: the published TinyML footprint calculator in the browser, with error bars and live hotspots.

``python -m uncertainty_footprint serve`` (:func:`serve`) starts it on http://127.0.0.1:8050. It is a Dash app
(:mod:`uncertainty_footprint.app.server`) whose every number comes from the public API
(:mod:`uncertainty_footprint.app.engine`); the page's state and its experiment file are translated in
:mod:`uncertainty_footprint.app.state`, the cards, options and presets are data (``calculator.yaml``).
Dash, its React and plotly.js bundles and the page's own script and styles (``assets/``) are served from the
installed packages: the page works offline.
"""

from __future__ import annotations

__all__ = ["serve", "create_app", "DEFAULT_HOST", "DEFAULT_PORT"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050


def create_app():
    """The calculator's Dash app (its Flask server is ``create_app().server``).

    Raises
    ------
    ImportError
        Dash is not installed (``pip install -e .`` installs it).
    """
    from .server import create_app as _create

    return _create()


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, open_browser: bool = False,
          announce=None) -> None:
    """Serve the calculator until interrupted.

    Parameters
    ----------
    host : str
        Address to listen on; the default listens on this machine only.
    port : int
        TCP port [1-65535].
    open_browser : bool
        Open the page in the default web browser once the server listens.
    announce : callable, optional
        Called with the page's URL once the app is built (the command line prints it).

    Raises
    ------
    OSError
        The address is in use or cannot be bound.
    """
    import logging

    from werkzeug.serving import make_server

    _check_address(host, port)  # werkzeug would print its own message and exit: say it in one line instead
    app = create_app()
    server = make_server(host, port, app.server, threaded=True)
    url = f"http://{'[' + host + ']' if ':' in host else host}:{server.server_port}"
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if announce is not None:
        announce(url)
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    try:
        server.serve_forever()
    finally:
        server.server_close()


def _check_address(host: str, port: int) -> None:
    """Raise :class:`OSError` if ``host:port`` cannot be bound (in use, not an address of this machine)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise OSError(exc.errno, f"unknown address ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)
