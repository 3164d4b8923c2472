"""Test DAG for amd-bot's failure watcher: a run fails unless its conf says `{"succeed": true}`, and two
runs may go at once (`max_active_runs=2`), so a failed run and a successful one can end close together.
Only the watcher's tests trigger it."""

from typing import Any

try:  # Airflow 3: operators live in the standard provider, DAG in the task SDK
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2 (the contract tests run against 2.10 too)
    from airflow import DAG
    from airflow.operators.python import PythonOperator


def _flip(dag_run: Any, **_: Any) -> None:
    if not (dag_run.conf or {}).get("succeed"):
        raise RuntimeError("amd_flip fails unless its conf says succeed=true")


with DAG("amd_flip", schedule=None, catchup=False, max_active_runs=2, tags=["amd-bot-test"]):
    PythonOperator(task_id="flip", python_callable=_flip, retries=0)
