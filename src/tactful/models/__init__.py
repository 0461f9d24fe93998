"""The model layer: propensity, churn and anomaly models, their registry, explanations,
fairness reports and drift.

Families register in ``families`` (``logistic``, ``gbm``, ``isolation_forest``); see
``docs/models.md`` for the workflow: ``tactful train`` -> ``tactful models list`` ->
``tactful models promote`` -> ``tactful score``.
"""

from tactful.models import anomaly, gbm, logistic
from tactful.models.base import Classifier, FeatureInfo, Model, Reason, families
from tactful.models.drift import DriftReport, drift_report, psi
from tactful.models.fairness import FairnessGate, FairnessReport, fairness_report
from tactful.models.metrics import ClassifierMetrics, classifier_metrics, lift_at
from tactful.models.registry import MetricFloors, ModelRegistry, ModelVersion, PromotionRefused

del anomaly, gbm, logistic

__all__ = [
    "Classifier",
    "ClassifierMetrics",
    "DriftReport",
    "FairnessGate",
    "FairnessReport",
    "FeatureInfo",
    "MetricFloors",
    "Model",
    "ModelRegistry",
    "ModelVersion",
    "PromotionRefused",
    "Reason",
    "classifier_metrics",
    "drift_report",
    "fairness_report",
    "families",
    "lift_at",
    "psi",
]
