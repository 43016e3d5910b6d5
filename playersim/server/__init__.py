"""`playersim serve`: the collector behind a real HTTP server (Starlette under uvicorn), with
limits on slow, idle and many clients. Needs the server extra: pip install 'playersim[server]'."""

from playersim.server.app import (
    MAX_BODY_BYTES,
    MAX_HEAD_BYTES,
    Faults,
    Limits,
    create_app,
    uvicorn_config,
)

__all__ = ["MAX_BODY_BYTES", "MAX_HEAD_BYTES", "Faults", "Limits", "create_app", "uvicorn_config"]
