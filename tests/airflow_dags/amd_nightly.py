"""Test DAG for amd-bot's failure watcher: scheduled by Airflow itself (`@once`, as soon as it is parsed),
never triggered by the bot. Its `dbt_test_payment` task fails, so the watcher must find a failed run it
did not start, with that task named, and `publish` is left upstream_failed.
"""

from datetime import datetime

try:  # Airflow 3: operators live in the standard provider, DAG in the task SDK
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2 (the contract tests run against 2.10 too)
    from airflow import DAG
    from airflow.operators.bash import BashOperator


with DAG(
    "amd_nightly", schedule="@once", start_date=datetime(2026, 1, 1), catchup=False, tags=["amd-bot-test"]
):
    test = BashOperator(
        task_id="dbt_test_payment", bash_command="echo 'non_negative failed'; exit 1", retries=0
    )
    publish = BashOperator(task_id="publish", bash_command="echo published")
    test >> publish
