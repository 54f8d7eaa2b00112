"""Kernel websockets with Nagle's algorithm off.

A kernel round trip is a few small frames each way. With Nagle on, a frame written while an earlier one is
still unacknowledged waits for the peer's delayed ACK, which costs about 40 ms per execute on Linux.
jupyter_server makes the kernel websocket's connection class configurable
(ServerApp.kernel_websocket_connection_class), so the fix is a subclass chosen by configuration rather than a
patch: it sets TCP_NODELAY on the socket when the websocket opens.
"""

from __future__ import annotations

import asyncio

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection


class NoDelayKernelConnection(ZMQChannelsWebsocketConnection):
    """jupyter_server's ZMQ kernel connection, on a socket with TCP_NODELAY set."""

    # jupyter_server's base class declares a coroutine, the ZMQ class it ships returns a Future; we follow the latter
    def connect(self) -> asyncio.Future[None] | None:  # type: ignore[override]
        self.websocket_handler.set_nodelay(True)
        self.log.debug("TCP_NODELAY set on the websocket of kernel %s", self.kernel_id)
        return super().connect()
