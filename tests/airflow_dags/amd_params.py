"""Test DAG for amd-bot's run form: params of every type the form knows, and one task that echoes the conf.

Airflow's /details returns each param dumped (`value`, `description`, `schema`); the bot builds its form
and its checks from exactly that, so this DAG is the proof that both agree with Airflow's own.
"""

try:  # Airflow 3: operators live in the standard provider, DAG and Param in the task SDK
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG, Param
except ImportError:  # Airflow 2 (the contract tests run against 2.10 too)
    from airflow import DAG
    from airflow.models.param import Param
    from airflow.operators.bash import BashOperator

PARAMS = {
    "label": Param("nightly", type="string", minLength=3, maxLength=20, description="A name for the run"),
    "batch": Param(3, type="integer", minimum=1, maximum=10, description="Batches to load"),
    "ratio": Param(0.5, type="number", minimum=0, maximum=1),
    "full_refresh": Param(False, type="boolean", description="Rebuild incremental models"),
    "region": Param(
        "eu",
        type="string",
        enum=["eu", "us", "apac"],
        values_display={"eu": "Europe", "us": "United States", "apac": "Asia-Pacific"},
    ),
    "entities": Param(
        ["user"], type="array", items={"type": "string", "enum": ["user", "payment", "purchase"]}
    ),
    "as_of": Param("2026-11-20", type="string", format="date"),
    "vars": Param({}, type="object", description="dbt vars as JSON"),
}

with DAG("amd_params", schedule=None, catchup=False, tags=["amd-bot-test"], params=PARAMS):
    BashOperator(task_id="echo", bash_command="echo {{ dag_run.conf | tojson }}")
