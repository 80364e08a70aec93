"""The HTTP and websocket routes, one router per part of the API."""
