"""``placemap users add|remove|list|set-role|set-password``: accounts of the web app.

The users file is ``PLACEMAP_USERS_FILE`` (default: ``users.json`` in the user data directory);
every change is written to the audit log beside it, attributed to the operating-system account
that ran the command. Passwords are read from the terminal (twice) or, for scripts, from standard
input with ``--password-stdin`` — never from the command line, where ``ps`` would show them.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from app.auth import AuthConfig, Event, Role, SessionStore, UserStore
from app.settings import Settings
from geo.errors import InputError

ROLE_HELP = (
    "analyst: child-level tables, unsuppressed exports, uploads; commissioner: "
    "aggregates and suppressed reports only; admin: users and the audit log"
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "users",
        help="manage the web app's user accounts and roles",
        description=f"Manage who may sign in to the web app, and their role. Roles: {ROLE_HELP}.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    roles = [r.value for r in Role]

    add = actions.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=roles, help=ROLE_HELP)
    how = add.add_mutually_exclusive_group()
    how.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    how.add_argument(
        "--no-password",
        action="store_true",
        help="single-sign-on only (PLACEMAP_TRUSTED_USER_HEADER): no local password",
    )

    rm = actions.add_parser("remove", help="delete a user (their sessions end at once)")
    rm.add_argument("name")

    actions.add_parser("list", help="list users and roles")

    sr = actions.add_parser("set-role", help="change a user's role (effective at once)")
    sr.add_argument("name")
    sr.add_argument("role", choices=roles)

    sp = actions.add_parser("set-password", help="set a new password (ends their sessions)")
    sp.add_argument("name")
    sp.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    p.set_defaults(func=run)


def read_password(*, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError(
            "No terminal to ask for the password: pass --password-stdin and send "
            "the password on standard input, or --no-password for single sign-on."
        )
    first = getpass.getpass("Password (12+ characters): ")
    if getpass.getpass("Same password again: ") != first:
        raise InputError("The two passwords differ; nothing was changed. Run the command again.")
    return first


def run(args: argparse.Namespace) -> int:
    cfg = AuthConfig.from_settings(Settings.from_env())
    store = UserStore(cfg.users_file)
    log = cfg.open_audit()
    sessions = SessionStore(cfg.throttle_db)
    operator = f"cli:{getpass.getuser()}"

    def audit(event: Event, **detail: str) -> None:
        log.record(event, user=operator, **detail)

    if args.action == "list":
        users = store.all()
        if not users:
            print(
                f"No users in {cfg.users_file} (the app runs in single-user local mode "
                "outside production)."
            )
        for u in users.values():
            kind = "password" if u.password_hash else "single sign-on"
            print(f"{u.name:<32} {u.role:<13} {kind:<15} created {u.created}")
        return 0
    if args.action == "add":
        password = None if args.no_password else read_password(from_stdin=args.password_stdin)
        user = store.add(args.name, role=args.role, password=password)
        audit(Event.USER_ADDED, target=user.name, new_role=str(user.role))
        print(f"Added {user.name} ({user.role}) to {cfg.users_file}.")
    elif args.action == "remove":
        user = store.remove(args.name)
        sessions.revoke_user(user.name)
        audit(Event.USER_REMOVED, target=user.name, old_role=str(user.role))
        print(f"Removed {user.name}.")
    elif args.action == "set-role":
        old = store.get(args.name)
        user = store.set_role(args.name, args.role)
        audit(
            Event.USER_ROLE_CHANGED,
            target=user.name,
            old_role=str(old.role) if old else "",
            new_role=str(user.role),
        )
        print(f"{user.name} is now {user.role}.")
    elif args.action == "set-password":
        user = store.set_password(args.name, read_password(from_stdin=args.password_stdin))
        sessions.revoke_user(user.name)
        audit(Event.USER_PASSWORD_CHANGED, target=user.name)
        print(f"Password of {user.name} changed; their other sessions have ended.")
    return 0
