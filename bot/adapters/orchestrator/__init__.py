"""Orchestrators: Airflow REST (v1/v2), Cloud Composer, and the local dbt runner."""
