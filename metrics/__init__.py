"""annotation-qa metrics: pure computation on long annotation tables.

Every public function takes a long DataFrame (``item_id``, ``annotator_id``, ``label``) of one
question and returns a frozen dataclass or a tidy DataFrame. No file I/O, no printing, no UI.
"""

from __future__ import annotations

from metrics.alpha import alpha_from_patterns, jaccard_distance, krippendorff_alpha, masi_distance
from metrics.balance import (
    ClassBalance,
    class_balance,
    class_balance_from_counts,
    prevalence_and_agreement,
)
from metrics.bootstrap import bootstrap_replicates, multinomial_weights, percentile_interval
from metrics.calibration import (
    CalibrationThresholds,
    agreement_trend,
    annotator_calibration,
    annotator_confusion,
    label_usage,
    pairwise_label_bias,
)
from metrics.confusion import confusion_pairs
from metrics.consensus import DawidSkene, consensus
from metrics.coverage import StrataCoverage, strata_coverage
from metrics.disagreement import item_disagreement
from metrics.disputes import DisputeThresholds, disputed_items
from metrics.diversity import (
    TextDiversity,
    conflicting_labels,
    diversity_by_source,
    duplicate_groups,
    text_diversity,
    vendi_score,
)
from metrics.drift import (
    DriftResult,
    OmnibusTest,
    drift_from_counts,
    label_drift,
    paired_label_shift,
)
from metrics.errors import MetricInputError
from metrics.icc import icc
from metrics.kappa import (
    agreement_weights,
    brennan_prediger,
    cohen_kappa,
    cohen_kappa_from_table,
    conger_kappa,
    fleiss_category_kappas,
    fleiss_kappa,
    gwet_ac,
    kappa_from_patterns,
    pabak,
    percent_agreement,
    scott_pi,
)
from metrics.pairwise import pair_tables, pairwise_agreement
from metrics.ratings import (
    Patterns,
    Ratings,
    canonical_patterns,
    from_counts,
    from_wide,
    label_values,
    prepare_ratings,
    value_patterns,
)
from metrics.result import AgreementResult
from metrics.spans import item_span_disagreement, span_agreement, span_f1

__all__ = [
    "AgreementResult",
    "MetricInputError",
    # agreement core, part A: alpha, shared encoding, bootstrap
    "Patterns",
    "Ratings",
    "bootstrap_replicates",
    "from_counts",
    "from_wide",
    "item_disagreement",
    "jaccard_distance",
    "krippendorff_alpha",
    "masi_distance",
    "multinomial_weights",
    "percentile_interval",
    "prepare_ratings",
    "value_patterns",
    # the same coefficients on reduced tables (issue 8: engines)
    "alpha_from_patterns",
    "canonical_patterns",
    "class_balance_from_counts",
    "cohen_kappa_from_table",
    "drift_from_counts",
    "kappa_from_patterns",
    "label_values",
    # agreement core, part B: the kappa family, ICC, pairwise agreement
    "agreement_weights",
    "brennan_prediger",
    "cohen_kappa",
    "conger_kappa",
    "fleiss_category_kappas",
    "fleiss_kappa",
    "gwet_ac",
    "icc",
    "pabak",
    "pair_tables",
    "pairwise_agreement",
    "percent_agreement",
    "scott_pi",
    # consensus, calibration, confusion, disputes, spans (issue 4)
    "CalibrationThresholds",
    "DawidSkene",
    "DisputeThresholds",
    "agreement_trend",
    "annotator_calibration",
    "annotator_confusion",
    "confusion_pairs",
    "consensus",
    "disputed_items",
    "item_span_disagreement",
    "label_usage",
    "pairwise_label_bias",
    "span_agreement",
    "span_f1",
    # drift, balance, diversity, coverage (issue 5)
    "ClassBalance",
    "DriftResult",
    "OmnibusTest",
    "StrataCoverage",
    "TextDiversity",
    "class_balance",
    "conflicting_labels",
    "diversity_by_source",
    "duplicate_groups",
    "label_drift",
    "paired_label_shift",
    "prevalence_and_agreement",
    "strata_coverage",
    "text_diversity",
    "vendi_score",
]
