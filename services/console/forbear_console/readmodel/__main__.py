"""``python -m forbear_console.readmodel rebuild`` (``make rebuild-readmodel``): the read model
again from offset 0. Stop the console worker first."""

from __future__ import annotations

import argparse
import json
import sys

from forbear_console.bootstrap import bootstrap
from forbear_console.readmodel.rebuild import rebuild


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forbear_console.readmodel")
    parser.add_argument("command", choices=["rebuild"])
    parser.parse_args(argv)
    ctx = bootstrap(pool_size=2).ctx
    try:
        done = rebuild(ctx.settings, ctx.pool)
    finally:
        ctx.pool.close()
    print(json.dumps({"records": done.records, "seconds": round(done.seconds, 2), "failed_again": done.failed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
