"""The ``storesync`` console script: Django's manage.py with storesync's own commands first."""

from __future__ import annotations

import os
import sys

COMMANDS = {
    "serve": "serve the UI and API (and, embedded, run the job worker in the same process)",
    "worker": "run the background job worker",
    "migrate": "create or upgrade the database schema (and the master key on first run)",
    "demo": "create a demo workspace with generated data and print its login",
    "workspace": "workspace create SLUG --name NAME --owner EMAIL | workspace list",
    "member": "member invite --workspace SLUG --email EMAIL --role ROLE",
    "token": "token create --workspace SLUG --role ROLE [--name NAME] | token list | token revoke",
    "connection": "connection add PLATFORM --workspace SLUG --name NAME --webhook-secret S ... "
                  "| connection list | connection sync",
    "sandbox": "sandbox shopify|woocommerce --port N: a local simulator of the platform",
    "import": "import products|inventory FILE --workspace SLUG: validated CSV import",
    "export": "export products|inventory|orders --workspace SLUG: CSV to standard output",
    "privacy": "privacy retention --dry-run|--apply [--workspace SLUG]: apply retention rules",
    "audit": "audit verify: prove the audit log's hash chains are intact",
    "keys": "keys rotate: re-encrypt all personal data and secrets under new data keys",
}


def _help() -> str:
    width = max(len(c) for c in COMMANDS)
    lines = [
        "usage: storesync COMMAND [options]   (storesync COMMAND --help for its options)",
        "",
        "commands:",
    ]
    lines += [f"  {name.ljust(width)}  {text}" for name, text in COMMANDS.items()]
    lines += [
        "",
        "Django's own management commands (check, showmigrations, shell, ...) work too.",
        "Configuration: STORESYNC_* environment variables (see README).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_help())
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storesync.settings")
    from storesync.config import ConfigError

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["storesync", *args])
    except ConfigError as exc:
        print(f"storesync: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
