"""CLI: ``python -m allegro_sandbox serve [--host H] [--port P] [--state FILE] [--buyers N]``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .server import Background, build, make_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m allegro_sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the simulator")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    serve.add_argument("--state", default=None, help="SQLite file to keep state in")
    serve.add_argument(
        "--buyers",
        type=float,
        default=0.0,
        help="simulated buyers: new orders per minute (spread over sellers)",
    )
    serve.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        help="extra exact redirect URI for the demo client app (repeatable)",
    )
    serve.add_argument("--seed", type=int, default=1234, help="random seed")
    serve.add_argument(
        "--no-demo", action="store_true", help="do not create the demo seller and client app"
    )
    args = parser.parse_args(argv)

    app, persistence = build(seed=args.seed, state_file=args.state)
    app.control.extra_redirect_uris = list(args.redirect_uri)
    store = app.store
    with store.lock:
        if not args.no_demo and not store.sellers:
            app.control.seed_demo()
        demo = store.clients.get("apilo-local")
        if demo is not None:
            for uri in args.redirect_uri:
                if uri not in demo.redirect_uris:
                    demo.redirect_uris.append(uri)
        if args.buyers:
            store.buyers_rate = args.buyers
    server = make_server(app, args.host, args.port)
    port = server.server_address[1]
    background = Background(app, persistence)
    background.start()

    def shutdown(*_: object) -> None:
        background.stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    print(f"SANDBOX_LISTENING http://{args.host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if persistence is not None:
            persistence.save(store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
