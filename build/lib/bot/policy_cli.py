"""`carapulse policy test` and `carapulse policy eval`: run the Rego tests, or print one decision.

Neither needs Slack settings, so policy authors can use them anywhere the package is installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import ValidationError

from bot.settings import DEFAULT_POLICY_DIR
from bot.validation import first_error


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    policy = commands.add_parser("policy", help="test the Rego policies or evaluate one decision")
    verbs = policy.add_subparsers(required=True, metavar="verb")
    test = verbs.add_parser("test", help="run every test_ rule in policies/**/*_test.rego")
    test.add_argument("--dir", type=Path, default=DEFAULT_POLICY_DIR, help="policy directory")
    test.set_defaults(run_plain=run_tests)
    evaluate = verbs.add_parser("eval", help="print the decision for an input document")
    evaluate.add_argument("--input", type=Path, required=True, help="JSON input document")
    evaluate.add_argument("--dir", type=Path, default=DEFAULT_POLICY_DIR, help="policy directory")
    evaluate.set_defaults(run_plain=run_eval)


def run_tests(args: argparse.Namespace) -> int:
    from bot.policy_engine import run_policy_tests

    results = run_policy_tests(args.dir)
    failed = [result for result in results if not result.passed]
    for result in failed:
        print(f"FAIL {result.name}: {result.error}")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or not results else 0


def run_eval(args: argparse.Namespace) -> int:
    from bot.policy_engine import PolicyEngine, PolicyInput, PolicyUnavailable

    try:
        document = json.loads(args.input.read_text())
        request = PolicyInput.model_validate(document)
        decision = PolicyEngine(args.dir).decide(request)
    except ValidationError as exc:
        print(f"carapulse: {args.input} is not a policy input: {first_error(exc)}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"carapulse: cannot read {args.input}: {exc}", file=sys.stderr)
        return 2
    except PolicyUnavailable as exc:
        print(f"carapulse: policy unavailable: {exc}", file=sys.stderr)
        return 2
    print(decision.model_dump_json(indent=2))
    return 0
