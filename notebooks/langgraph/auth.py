"""Custom auth for the example server: every request must carry the API key in ``x-api-key``.

The key the server expects is read from the ``STREAMVIZ_DEMO_API_KEY`` environment variable of
the server process (never written in a file); clients send it with
``langgraph_sdk.get_client(url=..., api_key=...)``, which puts it in the ``x-api-key`` header.
The server copies ``x-*`` headers into a run's config, except ``x-api-key``: so the key reaches
neither the graph nor the stream parts. Run the server with this auth::

    STREAMVIZ_DEMO_API_KEY=... langgraph dev --config langgraph-auth.json --no-browser
"""

from __future__ import annotations

import hmac
import os

from langgraph_sdk import Auth

auth = Auth()


@auth.authenticate
async def authenticate(headers: dict[bytes, bytes]) -> Auth.types.MinimalUserDict:
    """Accept the request when ``x-api-key`` is the expected key; answer 401 otherwise."""
    expected = os.environ.get("STREAMVIZ_DEMO_API_KEY", "").encode()
    given = headers.get(b"x-api-key") or b""
    if not expected or not hmac.compare_digest(given, expected):
        raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid or missing API key")
    # The identity is a fixed name, not the key: it is copied into every run's config.
    return {"identity": "streamviz-demo-user"}
