"""``ledgerlight users``: add, list, remove, change and unlock the people who may sign in.

Passwords come from a prompt or stdin, never argv. Removing a user, changing their password or their role ends
their open sessions at once; every change is written to the audit log as done by ``cli``.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from dashapp.auth.throttle import unlock
from dashapp.auth.users import change_password, change_role, create_user, demo_users, list_users, remove_user
from dashapp.policy import ROLES
from dashapp.services import audit

BY = "cli"


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise ValueError(
                f"users {args.users_command}: --password-stdin given but standard input is empty"
            )
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ValueError(
            f"users {args.users_command}: no terminal to prompt on; pipe the password with --password-stdin"
        )
    first = getpass.getpass(f"Password for {args.name}: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError(f"users {args.users_command}: the two passwords differ")
    return first


def _add(args: argparse.Namespace) -> int:
    user = create_user(args.name, _read_password(args), args.role, by=BY)
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


def _delete(args: argparse.Namespace) -> int:
    remove_user(args.name, by=BY)
    print(f"removed {args.name}; their sessions have ended")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    change_password(args.name, _read_password(args), by=BY)
    print(f"changed the password of {args.name}; their sessions have ended")
    return 0


def _role(args: argparse.Namespace) -> int:
    change_role(args.name, args.role, by=BY)
    print(f"{args.name} is now {args.role}; their sessions have ended")
    return 0


def _unlock(args: argparse.Namespace) -> int:
    cleared = unlock(args.name)
    audit.record(BY, "unlock_user", f"user {args.name}", f"{cleared} counters cleared")
    print(f"unlocked {args.name} ({cleared} sign-in counters cleared)")
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
    """Add ``users add|list|delete|passwd|role|unlock|demo`` to the ``ledgerlight`` command."""
    users = subparsers.add_parser(
        "users",
        help="people who may sign in to the web app",
        description="Add, list, remove or change users. Roles: " + ", ".join(ROLES) + ".",
    )
    sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    name_help = "user name (2-60 letters, digits or . _ @ -)"
    stdin_help = "read the password from the first line of stdin"

    add = sub.add_parser("add", help="add a user (password from a prompt, or --password-stdin)")
    add.add_argument("name", help=name_help)
    add.add_argument("--role", required=True, choices=ROLES, help="what the user may see")
    add.add_argument("--password-stdin", action="store_true", help=stdin_help)
    add.set_defaults(func=_add)

    sub.add_parser("list", help="list users and roles").set_defaults(func=_list)

    delete = sub.add_parser("delete", help="remove a user; their open sessions end at once")
    delete.add_argument("name", help=name_help)
    delete.set_defaults(func=_delete)

    passwd = sub.add_parser("passwd", help="set a new password; the user's open sessions end")
    passwd.add_argument("name", help=name_help)
    passwd.add_argument("--password-stdin", action="store_true", help=stdin_help)
    passwd.set_defaults(func=_passwd)

    role = sub.add_parser("role", help="give a user another role; their open sessions end")
    role.add_argument("name", help=name_help)
    role.add_argument("--role", required=True, choices=ROLES, help="the new role")
    role.set_defaults(func=_role)

    unlocking = sub.add_parser("unlock", help="clear a user name's failed sign-ins from every address")
    unlocking.add_argument("name", help=name_help)
    unlocking.set_defaults(func=_unlock)

    demo = sub.add_parser(
        "demo", help="when nobody can sign in yet: one user per role, passwords printed once"
    )
    demo.set_defaults(func=_demo)
