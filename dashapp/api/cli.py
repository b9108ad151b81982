"""``ledgerlight apikeys``: add, list and revoke the keys the bank's other systems call the JSON API with.

A key is printed once, when it is made; the database keeps only its sha256. Every change is audited as done by ``cli``.
"""

from __future__ import annotations

import argparse

from dashapp.api.keys import create_key, default_limits, keys, revoke_key
from dashapp.policy import ROLES


def _add(args: argparse.Namespace) -> int:
    key = create_key(args.name, args.role, args.rate, args.burst)
    print(f"added API key {args.name} ({args.role}); it is shown only now, store it safely:")
    print(key)
    return 0


def _list(_args: argparse.Namespace) -> int:
    found = keys()
    if not found:
        print("no API keys yet: ledgerlight apikeys add NAME --role ROLE")
        return 0
    for k in found:
        state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "open"
        print(
            f"{k.name:<30} {k.role:<10} {k.rate_per_s:g}/s burst {k.burst:<6} "
            f"created {k.created_at:%Y-%m-%d %H:%M}  {state}"
        )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    revoke_key(args.name)
    print(f"revoked API key {args.name}: every call with it is refused from now on")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``apikeys add|list|revoke`` to the ``ledgerlight`` command."""
    rate, burst = default_limits()
    parser = subparsers.add_parser(
        "apikeys",
        help="keys of the JSON API (/api/v1) for the bank's other systems",
        description="Add, list or revoke API keys. A key has a role ("
        + ", ".join(ROLES)
        + ") with the same rules "
        "as the pages (docs/api.md) and a rate limit.",
    )
    sub = parser.add_subparsers(dest="apikeys_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="make a key and print it once (only its hash is stored)")
    add.add_argument("name", help="the calling system's name (2-60 letters, digits or . _ @ -)")
    add.add_argument("--role", required=True, choices=ROLES, help="what the key may call")
    add.add_argument(
        "--rate", type=float, default=None, help=f"calls a second (default {rate:g}, LEDGERLIGHT_API_RATE)"
    )
    add.add_argument(
        "--burst",
        type=int,
        default=None,
        help=f"calls at once after a pause (default {burst}, LEDGERLIGHT_API_BURST)",
    )
    add.set_defaults(func=_add)
    sub.add_parser("list", help="list keys, roles, limits and whether they are revoked").set_defaults(
        func=_list
    )
    revoke = sub.add_parser("revoke", help="refuse every call with the key from now on")
    revoke.add_argument("name", help="the key's name")
    revoke.set_defaults(func=_revoke)
