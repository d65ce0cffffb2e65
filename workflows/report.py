"""ReportWorkflow: one run of a scheduled report, started by a Temporal Schedule.

The schedule holds the job (what, in which format, to whom, over how long a look-back); each
run fixes its period from the workflow clock and hands the work (the query, the file, the
e-mail) to one activity. Its messages are in `domain.reports`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.reports import SEND_REPORT, ReportJob, ReportRun, ReportSent

# Building the file is quick; the time is for SendGrid, one recipient after another.
SEND_TIMEOUT = timedelta(minutes=10)
SEND_HEARTBEAT = timedelta(minutes=1)
SEND_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=20)


@workflow.defn(name="ReportWorkflow")
class ReportWorkflow:
    @workflow.run
    async def run(self, job: ReportJob) -> ReportSent:
        until = workflow.now()
        report = ReportRun(
            job=job, since=until - job.look_back, until=until, key=workflow.info().workflow_id
        )
        sent: ReportSent = await workflow.execute_activity(
            SEND_REPORT,
            report,
            result_type=ReportSent,
            start_to_close_timeout=SEND_TIMEOUT,
            heartbeat_timeout=SEND_HEARTBEAT,
            retry_policy=SEND_RETRY,
        )
        return sent
