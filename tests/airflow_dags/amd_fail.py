"""Test DAG for amd-bot's Airflow integration tests: `flaky` fails on purpose, then `publish` runs after it.

`flaky` succeeds when the run's conf says `{"succeed": true}`, or once the file named by conf `ok_file`
exists: a test creates that file and clears the failed task, and the same run then succeeds.
"""

from pathlib import Path
from typing import Any

try:  # Airflow 3: operators live in the standard provider, DAG in the task SDK
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2 (the contract tests run against 2.10 too)
    from airflow import DAG
    from airflow.operators.bash import BashOperator
    from airflow.operators.python import PythonOperator


def _flaky(dag_run: Any, **_: Any) -> None:
    conf = dag_run.conf or {}
    ok_file = conf.get("ok_file")
    if conf.get("succeed") or (ok_file and Path(ok_file).is_file()):
        return
    raise RuntimeError("amd_fail fails on purpose (conf: succeed=true or an existing ok_file makes it pass)")


with DAG("amd_fail", schedule=None, catchup=False, tags=["amd-bot-test"]):
    flaky = PythonOperator(task_id="flaky", python_callable=_flaky, retries=0)
    publish = BashOperator(task_id="publish", bash_command="echo published")
    flaky >> publish
