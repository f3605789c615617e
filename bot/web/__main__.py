"""``python -m bot.web --port N``: serve the web app with uvicorn.

Rasa is reached at ``http://127.0.0.1:$RASA_PORT`` (``--rasa-url`` overrides).
The access log is off: URLs may carry a pseudonymous learner id, and nothing
about a child's conversation is ever logged.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.web", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8080")))
    parser.add_argument("--host", default=os.environ.get("LUMI_WEB_HOST", "127.0.0.1"))
    parser.add_argument("--rasa-url", default=None, help="default: http://127.0.0.1:$RASA_PORT")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        print(f"--port {args.port} is not a port number (1-65535).", file=sys.stderr)
        return 2

    import uvicorn

    from bot.web.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(rasa_url=args.rasa_url)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        access_log=False,
        log_level="info",
        proxy_headers=False,
        ws="none",  # no WebSocket routes (and Rasa pins an old websockets)
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
