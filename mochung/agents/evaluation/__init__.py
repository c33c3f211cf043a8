"""Trajectory evaluation of the agents: YAML datasets, evaluators, a runner."""

from mochung.agents.evaluation.cases import EvaluationError, dataset_names, load_dataset
from mochung.agents.evaluation.runner import list_datasets, run_dataset, run_datasets

__all__ = ["EvaluationError", "dataset_names", "list_datasets", "load_dataset", "run_dataset", "run_datasets"]
