"""`carapulse api plan create|get|list|cancel|wait`: the API from a pipeline step. The server and
token come from CARAPULSE_API_URL and CARAPULSE_API_TOKEN.

`wait` (and `create --wait`) follows the plan's event stream until it ends, prints its summary and
exits 0 when it succeeded, or with a status of its own for each other ending, so a pipeline step
fails as the change did."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn

import aiohttp

from bot.api import plan_summary
from bot.api.client import ApiClient, ApiFailed
from bot.api.models import PlanOut
from bot.domain import PlanStatus

URL_VARIABLE = "CARAPULSE_API_URL"
TOKEN_VARIABLE = "CARAPULSE_API_TOKEN"

EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_UNREACHABLE = 4
EXIT_TIMED_OUT = 5
EXIT_BY_ENDING = {
    PlanStatus.SUCCEEDED: 0,
    PlanStatus.FAILED: 10,
    PlanStatus.ROLLED_BACK: 11,
    PlanStatus.REJECTED: 12,
    PlanStatus.CANCELLED: 13,
}
# Consecutive failures to reach the event stream before `wait` gives up (the server may restart).
MAX_RECONNECTS = 8
MAX_BACKOFF_SECONDS = 30.0

Command = Callable[[ApiClient, argparse.Namespace], Awaitable[int]]


class OneLineParser(argparse.ArgumentParser):
    """Bad usage is one line on stderr and exit 2, unknown arguments included."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")

    def parse_known_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def add_commands(api: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    plan = api.add_parser("plan", help=f"plans through the API ({URL_VARIABLE}, {TOKEN_VARIABLE})")
    verbs = plan.add_subparsers(required=True, metavar="verb")
    create = verbs.add_parser("create", help="plan a change; people approve its card in Slack")
    source = create.add_mutually_exclusive_group(required=True)
    source.add_argument("--workflow", help="a workflow's name (see /carapulse workflow list)")
    source.add_argument("--intent", help='a sentence, as after /carapulse: "scale checkout to 5 in shop"')
    create.add_argument("--input", action="append", default=[], metavar="NAME=VALUE", help="a workflow input")
    create.add_argument("--idempotency-key", help="a retry with the same key returns the first plan")
    create.add_argument("--wait", action="store_true", help="then wait for it as `wait` does")
    create.add_argument("--timeout", type=_seconds, help="with --wait: give up after this many seconds")
    create.add_argument("--json", action="store_true", help="print the API's answer as JSON")
    create.set_defaults(run_plain=_runner(_create))
    get = verbs.add_parser("get", help="a plan with its steps and execution")
    get.add_argument("plan_id", type=_plan_id)
    get.add_argument("--json", action="store_true")
    get.set_defaults(run_plain=_runner(_get))
    listing = verbs.add_parser("list", help="plans, newest first")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--cursor", type=int, help="the next_cursor of the page before")
    listing.add_argument("--status", choices=[status.value for status in PlanStatus])
    listing.add_argument("--requester", help="a Slack user id, or token:<name> / oidc:<identity>")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run_plain=_runner(_list))
    cancel = verbs.add_parser("cancel", help="cancel a plan (a running one stops at its next step)")
    cancel.add_argument("plan_id", type=_plan_id)
    cancel.add_argument("--json", action="store_true")
    cancel.set_defaults(run_plain=_runner(_cancel))
    wait = verbs.add_parser(
        "wait",
        help="wait until the plan ends; exit 0 if it succeeded, "
        + ", ".join(f"{code} {status.value}" for status, code in EXIT_BY_ENDING.items() if code),
    )
    wait.add_argument("plan_id", type=_plan_id)
    wait.add_argument("--timeout", type=_seconds, help="give up (exit 5) after this many seconds")
    wait.set_defaults(run_plain=_runner(_wait))


def _runner(command: Command) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        url, token = os.environ.get(URL_VARIABLE, ""), os.environ.get(TOKEN_VARIABLE, "")
        if not url.startswith(("http://", "https://")):
            return _say(
                EXIT_USAGE,
                f"{URL_VARIABLE} must be the API server's address, e.g. https://carapulse.example.com",
            )
        if not token:
            return _say(
                EXIT_USAGE, f"{TOKEN_VARIABLE} is not set: a cpt_… API token or a CI provider's OIDC token"
            )
        return asyncio.run(_call(command, args, url=url, token=token))

    return run


async def _call(command: Command, args: argparse.Namespace, *, url: str, token: str) -> int:
    try:
        async with aiohttp.ClientSession() as session:
            return await command(ApiClient(session, base_url=url, token=token), args)
    except ApiFailed as exc:
        unavailable = exc.status is None or exc.status >= 500
        return _say(EXIT_UNREACHABLE if unavailable else EXIT_REFUSED, _refusal(exc))
    except (aiohttp.ClientError, OSError) as exc:
        return _say(EXIT_UNREACHABLE, f"cannot reach {url}: {exc}")


async def _create(client: ApiClient, args: argparse.Namespace) -> int:
    if args.workflow is None and args.input:
        return _say(EXIT_USAGE, "--input goes with --workflow; an --intent carries its own inputs")
    if args.timeout is not None and not args.wait:
        return _say(EXIT_USAGE, "--timeout goes with --wait")
    inputs = {}
    for pair in args.input:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            return _say(EXIT_USAGE, f"--input {pair!r} is not NAME=VALUE")
        inputs[name] = value
    body = {"workflow": args.workflow, "inputs": inputs} if args.workflow else {"intent": args.intent}
    created = await client.create_plan(body, idempotency_key=args.idempotency_key)
    if args.json:
        print(created.model_dump_json())
    else:
        link = created.slack_permalink or "its card is in the API channel"
        print(f"Plan #{created.id} is {plan_summary.label(created.status)}: {link}")
    if not args.wait:
        return 0
    return await _wait_for(client, created.id, give_up_after=args.timeout)


async def _get(client: ApiClient, args: argparse.Namespace) -> int:
    _show(await client.get_plan(args.plan_id), as_json=args.json)
    return 0


async def _list(client: ApiClient, args: argparse.Namespace) -> int:
    query = {"limit": str(args.limit)}
    query |= {
        name: str(value) for name in ("cursor", "status", "requester") if (value := getattr(args, name))
    }
    page = await client.list_plans(query)
    if args.json:
        print(page.model_dump_json())
        return 0
    for plan in page.plans:
        print(plan_summary.line(plan))
    if page.next_cursor is not None:
        print(f"(more: --cursor {page.next_cursor})")
    return 0


async def _cancel(client: ApiClient, args: argparse.Namespace) -> int:
    _show(await client.cancel_plan(args.plan_id), as_json=args.json)
    return 0


async def _wait(client: ApiClient, args: argparse.Namespace) -> int:
    return await _wait_for(client, args.plan_id, give_up_after=args.timeout)


async def _wait_for(client: ApiClient, plan_id: int, *, give_up_after: float | None) -> int:
    seen: list[PlanOut] = []
    try:
        async with asyncio.timeout(give_up_after):
            final = await _follow_until_final(client, plan_id, seen)
    except TimeoutError:
        status = plan_summary.label(seen[-1].status) if seen else "unknown"
        return _say(EXIT_TIMED_OUT, f"plan #{plan_id} is still {status} after {give_up_after:g} s")
    print("\n".join(plan_summary.summary(final)))
    return EXIT_BY_ENDING[final.status]


async def _follow_until_final(client: ApiClient, plan_id: int, seen: list[PlanOut]) -> PlanOut:
    """Follow the event stream, reconnecting when it drops (a restart of the server), until the
    plan ends; progress goes to stderr as the status moves."""
    failures = 0
    while True:
        try:
            async for plan in client.follow(plan_id):
                failures = 0
                if not seen or seen[-1].status != plan.status:
                    print(f"plan #{plan_id}: {plan_summary.label(plan.status)}", file=sys.stderr)
                seen.append(plan)
                if plan.final:
                    return plan
        except ApiFailed as exc:
            if exc.status is not None and exc.status < 500:
                raise
            failures += 1
            last_error = exc.message
        except (aiohttp.ClientError, OSError) as exc:
            failures += 1
            last_error = str(exc) or type(exc).__name__
        else:
            failures += 1
            last_error = "the server closed the stream"
        if failures > MAX_RECONNECTS:
            raise ApiFailed(
                f"gave up following plan #{plan_id} after {MAX_RECONNECTS} reconnects: {last_error}"
            )
        await asyncio.sleep(min(MAX_BACKOFF_SECONDS, 0.5 * 2**failures))


def _show(plan: PlanOut, *, as_json: bool) -> None:
    print(plan.model_dump_json() if as_json else "\n".join(plan_summary.summary(plan)))


def _refusal(exc: ApiFailed) -> str:
    return f"the API refused ({exc.status}): {exc.message}" if exc.status else exc.message


def _say(status: int, message: str) -> int:
    print(f"carapulse: {message}", file=sys.stderr)
    return status


def _plan_id(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a plan id (a positive number)")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value
