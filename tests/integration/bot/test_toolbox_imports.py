"""Start-up loads no tool's client library: with kubernetes configured, `kubernetes` is imported only
when a step first needs the cluster, boto3 and hvac not at all while aws and vault are off, and
neither networkx nor matplotlib (the context picture) before a picture is drawn.

Checked in a fresh interpreter: this test process has imported every library already.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from bot.playground.kubernetes.server import FakeKubernetes

CLIENT_LIBRARIES = ("kubernetes", "boto3", "botocore", "hvac", "matplotlib", "networkx")

CHILD = """
import asyncio, json, sys

import bot.app
from bot import toolbox

libraries = json.loads(sys.argv[1])


def loaded():
    return [name for name in libraries if name in sys.modules]


async def main():
    built = toolbox.build(json.loads(sys.argv[2]))
    at_start = loaded()
    action = built.registry.get("kubernetes.get_deployment")
    result = await action.run(action.parse_args({"namespace": "shop", "name": "checkout"}))
    await built.aclose()
    print(json.dumps({"at_start": at_start, "after_step": loaded(), "summary": result.summary}))


asyncio.run(main())
"""


async def test_start_up_loads_a_client_library_only_when_a_step_needs_it(tmp_path: Path) -> None:
    async with FakeKubernetes() as kube:
        kube.add_deployment("shop", "checkout", replicas=2)
        environ = {"KUBECONFIG": str(kube.write_kubeconfig(tmp_path / "kubeconfig"))}
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD,
            json.dumps(CLIENT_LIBRARIES),
            json.dumps(environ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await child.communicate()

    assert child.returncode == 0, err.decode()
    report = json.loads(out)
    assert report["at_start"] == []
    assert "checkout" in report["summary"]
    assert report["after_step"] == ["kubernetes"]
