"""`python -m ticketflow.benchkit.bare_worker`: a worker process hosting only the bare workflows.

A process of its own, like `ticketflow worker`, so that its memory can be read apart.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from ticketflow.benchkit.bare import ParkedWorkflow, TimerWorkflow, lateness
from ticketflow.devstack.serve import StopSignals, serve
from ticketflow.devstack.supervisor import supervise
from ticketflow.settings import get_settings
from ticketflow.temporal import TemporalTarget, connect_temporal, payload_keys
from workers.runner import ContextFreeRunner


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="worker for the benchmark's bare workflows")
    parser.add_argument("--address", required=True, help="Temporal frontend host:port")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--task-queue", required=True)
    parser.add_argument(
        "--max-cached", type=int, required=True, help="sticky cache size (ticketflow's worker's)"
    )
    parser.add_argument(
        "--max-workflow-tasks",
        type=int,
        required=True,
        help="workflow tasks taken at once (ticketflow's worker's)",
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="worker processes (ticketflow's worker's)"
    )
    return parser


async def _run(args: argparse.Namespace) -> None:
    with StopSignals().installed() as stop:
        # The bench's own dev server, plaintext; its keys (TICKETFLOW_PAYLOAD_KEYS) as the
        # ticketflow worker's, so that both sides pay for encryption alike.
        target = TemporalTarget.local(args.address, args.namespace)
        client = await connect_temporal(target, payload_keys(get_settings()))
        worker = Worker(
            client,
            task_queue=args.task_queue,
            workflows=[ParkedWorkflow, TimerWorkflow],
            activities=[lateness],
            max_cached_workflows=args.max_cached,
            max_concurrent_workflow_tasks=args.max_workflow_tasks,
            # The runner ticketflow's worker uses, so neither side pays what the other does not.
            workflow_runner=ContextFreeRunner(SandboxedWorkflowRunner()),
        )
        await serve(stop, worker=worker)


def _one_worker(args: argparse.Namespace) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ticketflow.benchkit.bare_worker",
        *("--address", args.address, "--namespace", args.namespace),
        *("--task-queue", args.task_queue, "--max-cached", str(args.max_cached)),
        *("--max-workflow-tasks", str(args.max_workflow_tasks)),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGTERM/SIGINT; 0 on a clean stop."""
    args = _parser().parse_args(argv)
    try:
        if args.processes > 1:
            # As `ticketflow worker --processes N`: N single workers under one supervisor.
            return asyncio.run(supervise(_one_worker(args), args.processes))
        asyncio.run(_run(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
