"""``ledgerlight users``: add and list the people who may sign in (passwords from a prompt or stdin, never argv)."""

from __future__ import annotations

import argparse
import getpass
import sys

from dashapp.auth.rules import ROLES
from dashapp.auth.users import create_user, demo_users, list_users


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise ValueError("users add: --password-stdin given but standard input is empty")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ValueError("users add: no terminal to prompt on; pipe the password with --password-stdin")
    first = getpass.getpass(f"Password for {args.name}: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("users add: the two passwords differ")
    return first


def _add(args: argparse.Namespace) -> int:
    user = create_user(args.name, _read_password(args), args.role, by="cli")
    print(f"added {user.id} ({user.role})")
    return 0


def _list(_args: argparse.Namespace) -> int:
    users = list_users()
    if users.empty:
        print("no users yet: ledgerlight users add NAME --role ROLE")
        return 0
    for row in users.itertuples():
        print(f"{row.username:<30} {row.role:<10} {row.created_at:%Y-%m-%d %H:%M}")
    return 0


def _demo(_args: argparse.Namespace) -> int:
    print_demo_users(demo_users())
    return 0


def print_demo_users(created: dict[str, str]) -> None:
    """Print the demo users' passwords once (they are stored hashed and never shown again)."""
    if not created:
        print("users exist already: no demo users made (ledgerlight users list)")
        return
    print("Demo users (passwords are shown only now; role = user name):")
    for name, password in created.items():
        print(f"  {name:<10} {password}")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``users add``, ``users list`` and ``users demo`` to the ``ledgerlight`` command."""
    users = subparsers.add_parser("users", help="people who may sign in to the web app",
                                  description="Add or list users. Roles: " + ", ".join(ROLES) + ".")
    sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a user (password from a prompt, or --password-stdin)")
    add.add_argument("name", help="user name (2-60 letters, digits or . _ @ -)")
    add.add_argument("--role", required=True, choices=ROLES, help="what the user may see")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add.set_defaults(func=_add)
    listing = sub.add_parser("list", help="list users and roles")
    listing.set_defaults(func=_list)
    demo = sub.add_parser("demo", help="when nobody can sign in yet: one user per role, passwords printed once")
    demo.set_defaults(func=_demo)
