"""Design matrix, quartile labels, and the classifiers' scores (fig2.md §1, §4), with scikit-learn.

Everything random draws from the run's seed: the forests' and the folds' ``random_state`` (the paper's
code used 0 for both, so seed 0 reproduces its deterministic scores) and one ``RandomState(seed)`` for
the label shuffles and the feature permutations (unseeded in the paper).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chalicelib.analyses.training_time import features as feature_functions
from chalicelib.analyses.training_time.cohort import training_time
from chalicelib.analyses.training_time.features import COLUMNS
from chalicelib.analyses.training_time.records import MouseData

FOLDS = 10
SHUFFLES = 100
REPEATS = 10  # permutations per feature
ONLY = "perf_delta1"  # the single feature of the second classifier
Progress = Callable[[str, int, int], None]


@dataclass
class DesignMatrix:
    rows: list[dict[str, Any]]  # mouse, lab, trained_date, training_time and the 20 features
    excluded: list[dict[str, str]] = field(default_factory=list)  # mouse, lab, reason

    @property
    def x(self) -> np.ndarray:
        return np.array([[row[c] for c in COLUMNS] for row in self.rows], dtype=float).reshape(
            -1, len(COLUMNS)
        )

    @property
    def times(self) -> np.ndarray:
        return np.array([row["training_time"] for row in self.rows], dtype=float)


def design_matrix(mice: Sequence[MouseData], cutoff: str | None = None, mode: str = "paper") -> DesignMatrix:
    """One row per mouse trained on or before ``cutoff`` with every feature; the others are excluded with
    the reason (never trained, trained after the cut-off, missing data, same row as another mouse)."""
    rows, excluded, seen = [], [], {}
    for mouse in sorted(mice, key=lambda m: m.name):
        trained = training_time(mouse.days)

        def exclude(reason: str, mouse: MouseData = mouse) -> None:
            excluded.append({"mouse": mouse.nickname, "lab": mouse.lab, "reason": reason})

        if trained is None:
            exclude("never trained")
            continue
        if cutoff and trained.date > cutoff:
            exclude(f"trained on {trained.date}, after the cut-off {cutoff}")
            continue
        found = feature_functions.mouse_features(mouse, trained, mode)
        if not found.complete:
            exclude("; ".join(dict.fromkeys(found.missing.values())))
            continue
        row = {"mouse": mouse.nickname, "lab": mouse.lab, "trained_date": trained.date}
        row.update(training_time=trained.sessions, **found.values)
        signature = tuple(row[c] for c in ("training_time", *COLUMNS))
        if signature in seen:  # the paper's drop_duplicates()
            exclude(f"the same row as {seen[signature]}")
            continue
        seen[signature] = mouse.name
        rows.append(row)
    return DesignMatrix(rows, excluded)


def quartiles(times: Sequence[float]) -> tuple[list[float], np.ndarray]:
    """The cut points q25, q50, q75 (linear interpolation, as pandas' quantile) and each mouse's quartile
    1..4: 1 if t <= q25, 2 if t <= q50, 3 if t <= q75, else 4 (ties go to the lower quartile)."""
    times = np.asarray(times, dtype=float)
    cuts = np.quantile(times, [0.25, 0.5, 0.75])
    return [float(c) for c in cuts], 1 + np.searchsorted(cuts, times, side="left")


def f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Micro-averaged F1 over all mice (for one label per mouse this is the accuracy)."""
    from sklearn.metrics import f1_score

    return float(f1_score(labels, predicted, average="micro"))


def _forest(seed: int):  # noqa: ANN202
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(random_state=seed)


def _folds(n: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold

    return list(KFold(n_splits=min(FOLDS, n), shuffle=True, random_state=seed).split(np.zeros(n)))


def cross_validated(x: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """Out-of-fold predictions: ten folds (not stratified), a forest fitted on nine tenths predicts the
    held-out tenth."""
    predicted = np.zeros_like(labels)
    for train, test in _folds(len(labels), seed):
        predicted[test] = _forest(seed).fit(x[train], labels[train]).predict(x[test])
    return predicted


def shuffle_control(
    x: np.ndarray, labels: np.ndarray, seed: int, rng: np.random.RandomState, n: int, tick=None
) -> list[float]:
    """F1 of the same cross-validation against permuted labels, ``n`` times."""
    scores = []
    for _ in range(n):
        shuffled = rng.permutation(labels)
        scores.append(f1(shuffled, cross_validated(x, shuffled, seed)))
        if tick:
            tick()
    return scores


def permutation_importance(
    x: np.ndarray, labels: np.ndarray, seed: int, rng: np.random.RandomState, mode: str, tick=None
) -> dict[str, list[float]]:
    """Per feature, the drop of F1 when that column is permuted across mice, ``REPEATS`` times. Paper: a
    forest fitted on every mouse scored on its own training data (in-sample); methods: the out-of-fold
    predictions of the cross-validation with the column permuted within each held-out fold."""
    importances: dict[str, list[float]] = {}
    if mode == "paper":
        forest = _forest(seed).fit(x, labels)
        original = f1(labels, forest.predict(x))
        for index, column in enumerate(COLUMNS):
            drops = []
            for _ in range(REPEATS):
                permuted = x.copy()
                permuted[:, index] = rng.permutation(permuted[:, index])
                drops.append(original - f1(labels, forest.predict(permuted)))
            importances[column] = drops
            if tick:
                tick()
        return importances
    folds = [(test, _forest(seed).fit(x[train], labels[train])) for train, test in _folds(len(labels), seed)]
    predicted = np.zeros_like(labels)
    for test, forest in folds:
        predicted[test] = forest.predict(x[test])
    original = f1(labels, predicted)
    for index, column in enumerate(COLUMNS):
        drops = []
        for _ in range(REPEATS):
            for test, forest in folds:
                held_out = x[test].copy()
                held_out[:, index] = rng.permutation(held_out[:, index])
                predicted[test] = forest.predict(held_out)
            drops.append(original - f1(labels, predicted))
        importances[column] = drops
        if tick:
            tick()
    return importances


def ranking(importance: dict[str, list[float]]) -> list[str]:
    """Features by median drop of F1, then mean drop, largest first (Fig. 2d's order)."""
    return sorted(
        importance, key=lambda c: (-float(np.median(importance[c])), -float(np.mean(importance[c])), c)
    )


def analyse(
    matrix: DesignMatrix,
    seed: int = 0,
    mode: str = "paper",
    shuffles: int = SHUFFLES,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Labels, both classifiers' cross-validated F1 with their shuffle controls, the full classifier's
    confusion matrix and the permutation importance: what results.json stores."""
    from sklearn.metrics import confusion_matrix

    n = len(matrix.rows)
    if n < FOLDS:
        raise ValueError(f"{n} mice have every feature: ten-fold cross-validation needs at least {FOLDS}")
    x, times = matrix.x, matrix.times
    cuts, labels = quartiles(times)
    only = x[:, [COLUMNS.index(ONLY)]]
    rng = np.random.RandomState(seed)
    total, done = 2 + 2 * shuffles + len(COLUMNS), 0

    def tick(step: str) -> Callable[[], None]:
        def advance() -> None:
            nonlocal done
            done += 1
            if progress:
                progress(step, done, total)

        return advance

    predicted = cross_validated(x, labels, seed)
    tick("full classifier")()
    predicted_only = cross_validated(only, labels, seed)
    tick("performance change only")()
    shuffled = {
        "full": shuffle_control(x, labels, seed, rng, shuffles, tick("shuffles, full")),
        ONLY: shuffle_control(only, labels, seed, rng, shuffles, tick(f"shuffles, {ONLY}")),
    }
    importance = permutation_importance(x, labels, seed, rng, mode, tick("permutation importance"))
    return {
        "n_mice": n,
        "cut_points": cuts,
        "class_sizes": [int(np.sum(labels == q)) for q in (1, 2, 3, 4)],
        "columns": list(COLUMNS),
        "f1": {"full": f1(labels, predicted), ONLY: f1(labels, predicted_only)},
        "confusion_matrix": confusion_matrix(labels, predicted, labels=[1, 2, 3, 4], normalize="true")
        .round(6)
        .tolist(),
        "shuffled_f1": shuffled,
        "importance": importance,
        "ranking": ranking(importance),
        "labels": labels.tolist(),
        "predicted": predicted.tolist(),
    }
