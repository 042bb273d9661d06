"""Whether a waiting request's client hung up: a peek at its socket that never blocks (app/api/context.py)."""

from __future__ import annotations

import socket

from app.api.context import socket_closed_by_peer


def test_an_open_quiet_connection_is_not_gone() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert socket_closed_by_peer(ours.fileno()) is False  # a blocking socket: the peek must not wait


def test_unread_bytes_from_the_client_do_not_make_it_gone_and_stay_unread() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"GET /next HTTP/1.1\r\n")
        assert socket_closed_by_peer(ours.fileno()) is False
        assert ours.recv(64) == b"GET /next HTTP/1.1\r\n"


def test_a_client_that_closed_its_end_is_gone() -> None:
    ours, theirs = socket.socketpair()
    with ours:
        theirs.close()
        assert socket_closed_by_peer(ours.fileno()) is True


def test_the_descriptor_is_left_open_for_the_server() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        socket_closed_by_peer(ours.fileno())
        theirs.sendall(b"x")
        assert ours.recv(1) == b"x"


def test_a_closed_socket_counts_as_gone() -> None:
    ours, theirs = socket.socketpair()
    with theirs:
        ours.close()
        assert socket_closed_by_peer(ours.fileno()) is True
