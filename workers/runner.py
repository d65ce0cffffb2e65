"""The sandboxed workflow runner, without its per-payload serialization-context lookups.

Around every activation the SDK walks each payload going in and out (a ticket's answer, its
read-model batch, the details card, each summary) and, for each, asks the workflow instance
for the payload's serialization context and external-storage target. The sandboxed runner
answers by executing a code string inside the sandbox every time: about 15 % of the
worker's CPU on ticket creation, more than the workflow code itself.

ticketflow's data converter (pydantic JSON, no codec) ignores serialization context, and no
external storage is configured, so both answers are fixed: no context, and the workflow
itself as the storage target. Workflow code still runs inside the sandbox, untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from temporalio.converter import StorageDriverStoreContext, StorageDriverWorkflowInfo
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner

if TYPE_CHECKING:
    from temporalio import workflow
    from temporalio.bridge.proto.workflow_activation import WorkflowActivation
    from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
    from temporalio.converter import SerializationContext
    from temporalio.worker._command_aware_visitor import CommandInfo


class ContextFreeRunner(WorkflowRunner):
    """Runs workflows with `inner`; answers context lookups without entering the sandbox."""

    def __init__(self, inner: WorkflowRunner) -> None:
        self.inner = inner

    def prepare_workflow(self, defn: workflow._Definition) -> None:
        self.inner.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _ContextFreeInstance(self.inner.create_instance(det), det.info)

    def set_worker_level_failure_exception_types(
        self, types: Sequence[type[BaseException]]
    ) -> None:
        self.inner.set_worker_level_failure_exception_types(types)


class _ContextFreeInstance(WorkflowInstance):
    def __init__(self, inner: WorkflowInstance, info: workflow.Info) -> None:
        self.inner = inner
        self.store_context = StorageDriverStoreContext(
            target=StorageDriverWorkflowInfo(
                id=info.workflow_id,
                run_id=info.run_id,
                type=info.workflow_type,
                namespace=info.namespace,
            )
        )

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self.inner.activate(act)

    def get_serialization_context(
        self, command_info: CommandInfo | None
    ) -> SerializationContext | None:
        return None  # the converter is context-free: every payload converts the same way

    def get_external_store_context(
        self, command_info: CommandInfo | None
    ) -> StorageDriverStoreContext:
        return self.store_context  # no child workflows: the target is always this workflow

    def get_info(self) -> workflow.Info:
        return self.inner.get_info()

    def get_thread_id(self) -> int | None:
        return self.inner.get_thread_id()
