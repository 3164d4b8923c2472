"""Test DAG for amd-bot's backfills: a daily schedule (a backfill needs one) and one quick task."""

from datetime import UTC, datetime

try:  # Airflow 3: operators live in the standard provider, DAG in the task SDK
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2 (the contract tests run against 2.10 too)
    from airflow import DAG
    from airflow.operators.bash import BashOperator

with DAG(
    "amd_daily",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["amd-bot-test"],
):
    BashOperator(task_id="load_day", bash_command="echo {{ ds }}")
