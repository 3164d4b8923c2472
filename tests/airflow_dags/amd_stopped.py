"""Test DAGs for amd-bot's watch on DAGs that just stop: `amd_paused` is scheduled daily but paused
from its creation, so its runs never start; `amd_slow` runs as long as its conf `seconds` says (a run
that the watcher, given a clock hours ahead, must call stuck)."""

from datetime import datetime

try:  # Airflow 3: operators live in the standard provider, DAG in the task SDK
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2 (the contract tests run against 2.10 too)
    from airflow import DAG
    from airflow.operators.bash import BashOperator


with DAG(
    "amd_paused",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    is_paused_upon_creation=True,
    tags=["amd-bot-test"],
):
    BashOperator(task_id="load", bash_command="echo loaded")

with DAG("amd_slow", schedule=None, catchup=False, tags=["amd-bot-test"]):
    BashOperator(task_id="wait", bash_command="sleep {{ dag_run.conf.get('seconds', 30) }}")
