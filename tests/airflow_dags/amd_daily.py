"""Test DAGs for amd-bot's backfills: a daily schedule (a backfill needs one) and one quick task.
`amd_reprocess` is the same DAG, backfilled only by the reprocess test, since Airflow 3 runs one backfill
per DAG at a time (and these stay queued: the DAGs are paused)."""

from datetime import UTC, datetime

try:  # Airflow 3: operators live in the standard provider, DAG in the task SDK
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2 (the contract tests run against 2.10 too)
    from airflow import DAG
    from airflow.operators.bash import BashOperator

for dag_id in ("amd_daily", "amd_reprocess"):
    with DAG(
        dag_id,
        schedule="@daily",
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        catchup=False,
        tags=["amd-bot-test"],
    ):
        BashOperator(task_id="load_day", bash_command="echo {{ ds }}")
