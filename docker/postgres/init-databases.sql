-- Runs once, on an empty data volume: one database per tool. POSTGRES_DB (default "titanic")
-- holds the prediction log; the owner is POSTGRES_USER, who runs this script.
CREATE DATABASE mlflow;
CREATE DATABASE prefect;
