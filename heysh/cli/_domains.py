"""Domain and member commands: ``heysh domain ...`` and ``heysh member ...``.

They work on the metadata store alone (no Temporal), which they open for the
command and close again. Every config is validated with
``heysh.domain.validate_domain_config``; a bad one is a one-line error naming
the field.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from heysh.errors import ConfigError


def register_domain(subparsers: Any) -> None:
    """Add the ``domain`` commands to the ``heysh`` parser."""
    domain = subparsers.add_parser("domain", help="create, change and show domains")
    actions = domain.add_subparsers(dest="domain_action", metavar="ACTION")
    create = actions.add_parser("create", help="create a domain")
    create.add_argument("domain", help="domain id, e.g. news")
    create.add_argument("--name", default="", help="display name")
    create.add_argument(
        "--description",
        required=True,
        help="what belongs in the domain (the model reads it)",
    )
    _add_config_arguments(create)
    create.set_defaults(handler=run_domain_create)
    update = actions.add_parser("update", help="change a domain's settings")
    update.add_argument("domain")
    update.add_argument("--name")
    update.add_argument("--description")
    _add_config_arguments(update)
    update.set_defaults(handler=run_domain_update)
    show = actions.add_parser("show", help="show a domain, its settings and members")
    show.add_argument("domain")
    show.set_defaults(handler=run_domain_show)
    listing = actions.add_parser("list", help="list domains")
    listing.set_defaults(handler=run_domain_list)


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--language", help="language of the domain's documents (en)")
    parser.add_argument(
        "--relevance-threshold",
        type=float,
        help="score line between relevant and not (7.0)",
    )
    parser.add_argument(
        "--auto-approve",
        type=_threshold,
        help="approve without a human at or above (8.5; 'off')",
    )
    parser.add_argument(
        "--auto-reject",
        type=_threshold,
        help="reject and archive at or below (4.0; 'off')",
    )
    ai = parser.add_mutually_exclusive_group()
    ai.add_argument(
        "--ai-controller",
        dest="ai_controller",
        action="store_true",
        default=None,
        help="the AI decides the gray zone",
    )
    ai.add_argument(
        "--human-controller",
        dest="ai_controller",
        action="store_false",
        help="controllers decide the gray zone (the default)",
    )
    parser.add_argument(
        "--controller",
        action="append",
        metavar="USER",
        help="a controller of the round-robin pool (repeatable; "
        "replaces the pool on update)",
    )
    parser.add_argument(
        "--escalation-timeout",
        type=float,
        metavar="SECONDS",
        help="seconds before a document moves to the next controller (86400)",
    )
    parser.add_argument(
        "--model-override",
        metavar="MODEL_URI",
        help="score this domain with this model instead of the production alias",
    )
    parser.add_argument(
        "--audit-fraction",
        type=float,
        metavar="SHARE",
        help="share of automatic decisions a controller labels blind (0.02)",
    )
    parser.add_argument(
        "--review-order",
        choices=("arrival", "uncertainty"),
        help="order of pending reviews: oldest first, or closest to the "
        "relevance threshold first (arrival)",
    )
    parser.add_argument(
        "--notifications",
        type=_notification_config,
        metavar="JSON",
        help='notification channel, e.g. \'{"type": "webhook", "url": '
        '"https://...", "secret_env_var": "HOOK_SECRET"}\', @FILE to read it '
        "from a file, or 'log' (the default: ids and counts in the worker log)",
    )


def register_member(subparsers: Any) -> None:
    """Add the ``member`` commands to the ``heysh`` parser."""
    member = subparsers.add_parser("member", help="manage a domain's members and roles")
    actions = member.add_subparsers(dest="member_action", metavar="ACTION")
    add = actions.add_parser("add", help="give a user a role in a domain")
    add.add_argument("domain")
    add.add_argument("user")
    add.add_argument(
        "--role", required=True, choices=["admin", "controller", "contributor"]
    )
    add.set_defaults(handler=run_member_add)
    remove = actions.add_parser("remove", help="remove a user from a domain")
    remove.add_argument("domain")
    remove.add_argument("user")
    remove.set_defaults(handler=run_member_remove)
    listing = actions.add_parser("list", help="list a domain's members")
    listing.add_argument("domain")
    listing.set_defaults(handler=run_member_list)


def run_domain_create(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        if metadata.get_domain(args.domain) is not None:
            raise ConfigError(
                f"domain {args.domain!r} already exists; change it with heysh domain "
                "update"
            )
        config = _build_config({}, args)
        metadata.upsert_domain(
            args.domain,
            args.name or args.domain,
            args.description,
            config.model_dump_json(),
            args.language or "en",
        )
        _add_pool_members(metadata, args.domain, config.controller_pool)
        _write_domain(metadata, args.domain)
    return 0


def run_domain_update(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        domain = _require_domain(metadata, args.domain)
        config = _build_config(json.loads(domain["config_json"] or "{}"), args)
        metadata.upsert_domain(
            args.domain,
            args.name if args.name is not None else domain["name"],
            args.description if args.description is not None else domain["description"],
            config.model_dump_json(),
            args.language or domain["language"],
        )
        _add_pool_members(metadata, args.domain, config.controller_pool)
        _write_domain(metadata, args.domain)
    return 0


def run_domain_show(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        _require_domain(metadata, args.domain)
        _write_domain(metadata, args.domain)
    return 0


def run_domain_list(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        domains = metadata.list_domains()
        if not domains:
            _out("no domains yet: create one with heysh domain create")
        for domain in domains:
            config = json.loads(domain["config_json"] or "{}")
            _out(
                f"{domain['domain_id']:24} {domain['name']:24} "
                f"{_thresholds_line(config)}"
            )
    return 0


def run_member_add(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        _require_domain(metadata, args.domain)
        metadata.set_membership(args.domain, args.user, args.role)
        _out(f"{args.user} is {args.role} in {args.domain}")
    return 0


def run_member_remove(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        domain = _require_domain(metadata, args.domain)
        pool = json.loads(domain["config_json"] or "{}").get("controller_pool") or []
        if args.user in pool:
            raise ConfigError(
                f"{args.user} is in the controller pool of {args.domain}; remove "
                "them from it first (heysh domain update --controller ...)"
            )
        if metadata.get_role(args.domain, args.user) is None:
            raise ConfigError(f"{args.user} is not a member of {args.domain}")
        metadata.remove_membership(args.domain, args.user)
        _out(f"{args.user} removed from {args.domain}")
    return 0


def run_member_list(args: argparse.Namespace) -> int:
    with _metadata() as metadata:
        _require_domain(metadata, args.domain)
        for user, role in metadata.list_members(args.domain):
            _out(f"{user:24} {role}")
    return 0


def _build_config(current: dict[str, Any], args: argparse.Namespace) -> Any:
    """Merge the given options into ``current`` and validate the result."""
    from heysh.domain import validate_domain_config

    changes = {
        "relevance_threshold": args.relevance_threshold,
        "auto_approve_threshold": args.auto_approve,
        "auto_reject_threshold": args.auto_reject,
        "use_ai_controller": args.ai_controller,
        "controller_pool": args.controller,
        "escalation_timeout_s": args.escalation_timeout,
        "ai_model_override": args.model_override,
        "audit_fraction": args.audit_fraction,
        "review_order": args.review_order,
        "notifications": args.notifications,
    }
    merged = dict(current)
    for key, value in changes.items():
        if value is _OFF:
            merged[key] = None
        elif value is not None:
            merged[key] = value
    return validate_domain_config(merged)


def _add_pool_members(metadata: Any, domain_id: str, pool: tuple[str, ...]) -> None:
    """Make every pool user at least a controller of the domain."""
    for user in pool:
        if metadata.get_role(domain_id, user) not in ("admin", "controller"):
            metadata.set_membership(domain_id, user, "controller")


def _write_domain(metadata: Any, domain_id: str) -> None:
    domain = metadata.get_domain(domain_id)
    config = json.loads(domain["config_json"] or "{}")
    _out(f"domain:      {domain_id}")
    _out(f"name:        {domain['name']}")
    _out(f"description: {domain['description']}")
    _out(f"language:    {domain['language']}")
    _out(f"thresholds:  {_thresholds_line(config)}")
    controller = (
        "AI at relevance threshold"
        if config.get("use_ai_controller")
        else ("human, round-robin")
    )
    pool = ", ".join(config.get("controller_pool") or []) or "(empty)"
    _out(
        f"gray zone:   {controller}; pool {pool}; escalation after "
        f"{config.get('escalation_timeout_s'):g} s"
    )
    if config.get("ai_model_override"):
        _out(f"model:       {config['ai_model_override']}")
    notifications = config.get("notifications") or {"type": "log"}
    _out(
        f"feedback:    audit {config.get('audit_fraction', 0.02):.1%} of automatic "
        f"decisions; review order {config.get('review_order', 'arrival')}; "
        f"notifications by {notifications['type']}"
    )
    members = metadata.list_members(domain_id)
    _out("members:     " + (", ".join(f"{u} ({r})" for u, r in members) or "(none)"))


def _thresholds_line(config: dict[str, Any]) -> str:
    """Return ``reject <= 4 | relevance 7 | approve >= 8.5`` (``off``: side off)."""

    def shown(key: str) -> str:
        value = config.get(key)
        return "off" if value is None else f"{value:g}"

    return (
        f"reject <= {shown('auto_reject_threshold')} | relevance "
        f"{shown('relevance_threshold')} | approve >= "
        f"{shown('auto_approve_threshold')}"
    )


class _Off:
    """The value of ``--auto-approve off``: switch that side off."""


_OFF = _Off()


def _notification_config(text: str) -> dict[str, Any] | _Off:
    """Parse ``--notifications``: JSON, ``@FILE`` or ``log``; checked in full.

    ``log`` switches a configured channel back to the default (stored as none).
    """
    from heysh.notifications import build_channel

    if text.strip() == "log":
        return _OFF
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as err:
            raise argparse.ArgumentTypeError(
                f"cannot read {text[1:]}: {err.strerror}"
            ) from None
    try:
        config = json.loads(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"not JSON ({err}); give a channel config such as "
            '\'{"type": "log"}\' or @FILE'
        ) from None
    try:
        build_channel(config)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return dict(config)


def _threshold(text: str) -> float | _Off:
    if text.lower() == "off":
        return _OFF
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a score from 0 to 10 or 'off'"
        ) from None


class _metadata:  # noqa: N801 - used as a context manager, reads like a function
    """Open the metadata store of the settings for one command, then close it."""

    def __enter__(self) -> Any:
        from heysh.config import load_settings
        from heysh.stores.factory import open_metadata_store, store_urls

        self._store = open_metadata_store(store_urls(load_settings()).metadata)
        return self._store

    def __exit__(self, *exc_info: object) -> None:
        self._store.close()


def _require_domain(metadata: Any, domain_id: str) -> dict[str, Any]:
    domain: dict[str, Any] | None = metadata.get_domain(domain_id)
    if domain is None:
        known = ", ".join(d["domain_id"] for d in metadata.list_domains()) or "none"
        raise ConfigError(f"domain {domain_id!r} does not exist (known: {known})")
    return domain


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
