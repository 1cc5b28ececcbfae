"""``aqa dashboard PATH [--port N]``: start the QA dashboard (Streamlit) on 127.0.0.1.

The command sets only what the user asked for and the privacy defaults (localhost, no usage
statistics); Streamlit's own ``STREAMLIT_*`` environment settings apply to everything else and
override those defaults when set.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from qa.errors import InputError

DEFAULT_ADDRESS = "127.0.0.1"
#: Largest upload the browser accepts, in MB (Streamlit's ``server.maxUploadSize``); the app
#: refuses a larger file with a message. ``STREAMLIT_SERVER_MAX_UPLOAD_SIZE`` overrides it.
MAX_UPLOAD_MB = 200


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", help="the export to open (optional: upload one in the browser)")
    parser.add_argument("--format", help="force the export format")
    parser.add_argument("--config", help="aqa.toml or pyproject.toml with [tool.aqa] checks")
    parser.add_argument("--port", type=int, help="port (default: Streamlit's, 8501)")
    parser.add_argument("--address", help=f"address to bind (default {DEFAULT_ADDRESS})")
    parser.add_argument("--dry-run", action="store_true", help="print the streamlit command and exit")


def app_path() -> Path:
    """The dashboard's entry file, found without importing the ``dashboards`` package."""
    spec = importlib.util.find_spec("dashboards")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the dashboards package is not installed (pip install annotation-qa)")
    return Path(next(iter(spec.submodule_search_locations))) / "app.py"


def streamlit_command(args: argparse.Namespace, environ: dict[str, str] | None = None) -> list[str]:
    environ = dict(os.environ if environ is None else environ)
    command = [sys.executable, "-m", "streamlit", "run", str(app_path())]
    if args.address or "STREAMLIT_SERVER_ADDRESS" not in environ:
        command += ["--server.address", args.address or DEFAULT_ADDRESS]
    if args.port is not None:
        command += ["--server.port", str(args.port)]
    if "STREAMLIT_BROWSER_GATHER_USAGE_STATS" not in environ:
        command += ["--browser.gatherUsageStats", "false"]
    if "STREAMLIT_SERVER_MAX_UPLOAD_SIZE" not in environ:
        command += ["--server.maxUploadSize", str(MAX_UPLOAD_MB)]
    if "STREAMLIT_CLIENT_TOOLBAR_MODE" not in environ:
        command += ["--client.toolbarMode", "minimal"]  # no "Deploy" button on annotation data
    if "STREAMLIT_SERVER_HEADLESS" not in environ:
        command += ["--server.headless", "true"]
    app_arguments = []
    if args.path:
        app_arguments += ["--path", str(Path(args.path).resolve())]
    if args.format:
        app_arguments += ["--format", args.format]
    if args.config:
        app_arguments += ["--config", str(Path(args.config).resolve())]
    if app_arguments:
        command += ["--", *app_arguments]
    return command


def run(args: argparse.Namespace) -> int:
    if args.path and not Path(args.path).exists():
        raise InputError("no such file or directory", path=args.path)
    command = streamlit_command(args)
    address = args.address or os.environ.get("STREAMLIT_SERVER_ADDRESS", DEFAULT_ADDRESS)
    port = args.port or os.environ.get("STREAMLIT_SERVER_PORT", "8501")
    if args.dry_run:
        print(" ".join(command))
        return 0
    print(f"aqa dashboard: http://{address}:{port}  (Ctrl+C to stop)", flush=True)
    return subprocess.call(command)
