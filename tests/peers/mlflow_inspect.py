"""What MLflow's own Python client sees of runs and models robotrain wrote.

  mlflow_inspect.py runs TRACKING_URI EXPERIMENT_NAME [--download DIR]
  mlflow_inspect.py run TRACKING_URI RUN_ID [--download DIR]
  mlflow_inspect.py model TRACKING_URI NAME [--download DIR]

Prints one JSON document: runs with info, params, tags, every metric's full history and the
artifact files (size and sha256, downloaded through MLflow into DIR); models with their
description, tags and versions (description, tags, source, run id, files of the source).
A local store needs MLFLOW_ALLOW_FILE_STORE=true (MLflow >= 3.13 refuses file stores
otherwise).
"""

import argparse
import hashlib
import json
import os
import sys

import mlflow
from mlflow.artifacts import download_artifacts
from mlflow.tracking import MlflowClient


def files_under(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                data = f.read()
            out[os.path.relpath(path, root)] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return out


def describe_run(client, run, download):
    info = run.info
    metrics = {}
    for key in run.data.metrics:
        history = client.get_metric_history(info.run_id, key)
        metrics[key] = sorted([m.step, m.value, m.timestamp] for m in history)
    doc = {
        "run_id": info.run_id,
        "experiment_id": info.experiment_id,
        "run_name": info.run_name,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "artifact_uri": info.artifact_uri,
        "lifecycle_stage": info.lifecycle_stage,
        "params": dict(run.data.params),
        "tags": dict(run.data.tags),
        "metrics": metrics,
        "artifacts": {},
    }
    if download:
        dest = os.path.join(download, info.run_id)
        os.makedirs(dest, exist_ok=True)
        if client.list_artifacts(info.run_id):
            client.download_artifacts(info.run_id, "", dest)
        doc["artifacts"] = files_under(dest)
    return doc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["runs", "run", "model"])
    parser.add_argument("tracking_uri")
    parser.add_argument("name")
    parser.add_argument("--download")
    args = parser.parse_args()
    # Nothing may fall back to MLflow's default store (./mlflow.db).
    mlflow.set_tracking_uri(args.tracking_uri)
    mlflow.set_registry_uri(args.tracking_uri)
    client = MlflowClient(tracking_uri=args.tracking_uri, registry_uri=args.tracking_uri)
    if args.what == "run":
        doc = describe_run(client, client.get_run(args.name), args.download)
    elif args.what == "runs":
        experiment = client.get_experiment_by_name(args.name)
        if experiment is None:
            print(json.dumps({"error": "no experiment " + args.name}))
            return 1
        runs = client.search_runs([experiment.experiment_id], max_results=1000)
        doc = {"experiment_id": experiment.experiment_id, "runs": [describe_run(client, r, args.download) for r in runs]}
    else:
        model = client.get_registered_model(args.name)
        versions = []
        for v in sorted(client.search_model_versions(f"name='{args.name}'"), key=lambda v: int(v.version)):
            entry = {
                "version": v.version,
                "description": v.description,
                "tags": dict(v.tags),
                "source": v.source,
                "run_id": v.run_id,
                "status": v.status,
                "files": {},
            }
            if args.download:
                dest = os.path.join(args.download, f"{args.name}-{v.version}")
                download_artifacts(artifact_uri=f"models:/{args.name}/{v.version}", dst_path=dest)
                entry["files"] = files_under(dest)
            versions.append(entry)
        doc = {"name": model.name, "description": model.description, "tags": dict(model.tags), "versions": versions}
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
