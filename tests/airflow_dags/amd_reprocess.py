"""Test DAG for amd-bot's backfill options: daily, like amd_daily, but backfilled only by the reprocess
test, since Airflow 3 runs one backfill per DAG at a time (and these stay queued: the DAG is paused)."""

from datetime import UTC, datetime

try:  # Airflow 3: operators live in the standard provider, DAG in the task SDK
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2 (the contract tests run against 2.10 too)
    from airflow import DAG
    from airflow.operators.bash import BashOperator

with DAG(
    "amd_reprocess",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["amd-bot-test"],
):
    BashOperator(task_id="load_day", bash_command="echo {{ ds }}")
