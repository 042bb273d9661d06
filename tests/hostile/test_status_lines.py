"""Status lines carry a reason phrase, also for the statuses werkzeug does not know."""

from __future__ import annotations

import http.client

from flask import Flask

from app.domain.errors import ClientGoneError
from app.errors import register_error_handlers
from tests.support import LiveServer


def test_499_says_client_closed_request() -> None:
    app = Flask(__name__)
    register_error_handlers(app)

    @app.get("/gone")
    def gone() -> str:
        raise ClientGoneError("The client closed the connection")

    server = LiveServer(app)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/gone")
        response = connection.getresponse()
        assert (response.status, response.reason) == (499, "Client Closed Request")
        assert response.getheader("Content-Type") == "application/json"
        connection.close()
    finally:
        server.stop()
