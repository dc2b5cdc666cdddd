"""Start an API under uvicorn with the shared logging from the first line.

``python -m forbear_shared.serve forbear_intake.entrypoints.api:create_app --service intake --port 8101``

uvicorn's own command line would log its start-up and any failure to build the app through its
plain-text formatter, bypassing the redaction in ``forbear_shared.logs``; here its log config is
the shared one, so every line of an API process is redacted JSON.
"""

from __future__ import annotations

import argparse
import logging.config
import os
import sys

import uvicorn

from forbear_shared import logs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forbear_shared.serve")
    parser.add_argument("factory", help="module:function returning the ASGI app")
    parser.add_argument("--service", required=True, help="the name the log lines carry")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    level = os.environ.get("FORBEAR_LOG_LEVEL", "INFO").upper()
    config = logs.dict_config(args.service, level)
    logging.config.dictConfig(config)
    logs.configure(args.service, level)
    uvicorn.run(args.factory, factory=True, host=args.host, port=args.port, log_config=config,
                access_log=False, server_header=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
