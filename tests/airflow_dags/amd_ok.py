"""Test DAG for amd-bot's Airflow integration tests: two quick tasks that succeed."""

try:  # Airflow 3: operators live in the standard provider, DAG in the task SDK
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2 (the contract tests run against 2.10 too)
    from airflow import DAG
    from airflow.operators.bash import BashOperator
    from airflow.operators.python import PythonOperator


def _load() -> str:
    return "loaded"


with DAG("amd_ok", schedule=None, catchup=False, tags=["amd-bot-test"]):
    extract = BashOperator(task_id="extract", bash_command="echo extracted")
    load = PythonOperator(task_id="load", python_callable=_load)
    extract >> load
