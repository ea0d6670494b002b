"""`python -m qa_service fit-scope`: fit the scope classifier (qa_service.scope).

The labelled scope set (`qa_service/scope_questions.jsonl`, written for this
and never an evaluation set) is split once, by a seeded hash of each
question within its stratum (language × in scope × group), into a training
part (80 %) and a test part (20 %) that no fitting or threshold choice sees.
On the training part: stratified, seeded 5-fold cross-validation chooses the
regularisation strength and the threshold from out-of-fold probabilities;
the model is then fitted on the whole training part and scored once on the
test part. Everything is deterministic for a given index version and scope
file, and the result is cached under `data/scope/` keyed by both.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.live import LiveIndex
from qa_service.scope import MODEL_FORMAT, SIGNALS, ScopeModel, signals

SEED = 20240615
TEST_SHARE = 0.2
FOLDS = 5
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
# what the threshold is chosen for, per language (the targets)
TARGET_ANSWERED = 0.98
TARGET_REFUSED = 0.95

# The model's features: every signal, and the cosines once more for English
# questions (cross-lingual cosines run lower, so they get their own weights).
FEATURES = (
    *SIGNALS,
    *(f"{model}_{table}*english" for model in ("use", "e5") for table in ("passage", "sentence", "question")),
    "bm25_top*english",
    "vocab_share*english",
    # a law outside the corpus or a neighbouring field is named: how close the
    # question comes to the corpus then means less (劳动合同法第三十八条 is about
    # resigning, which the corpus also mentions), so they get weights of their own
    "outside_reference*e5_question",
    "neighbour_words*e5_question",
    "neighbour_words*field_words",
)

GROUPS = {True: ("plain", "neighbour"), False: ("near_miss", "other")}
_FIELDS = {"text": str, "lang": str, "in_scope": bool, "group": str, "gold": list}


class ScopeFileError(ValueError):
    """The scope set is malformed; the message is `file:line: reason`."""


@dataclass(frozen=True)
class ScopeQuestion:
    line: int
    text: str
    lang: str
    in_scope: bool
    group: str
    gold: tuple[str, ...]

    @property
    def stratum(self) -> str:
        return f"{self.lang}/{'in' if self.in_scope else 'out'}/{self.group}"


def load_scope_questions(path: Path, known_keys: set[str] | None = None) -> list[ScopeQuestion]:
    """Every line a JSON object with text, lang (zh|en), in_scope, group
    (plain|neighbour when in scope, near_miss|other when not) and, when in
    scope, gold citation keys (checked against `known_keys` when given).
    Unknown fields, empty or duplicate texts are errors."""
    from qa_service.normalize import normalize_question

    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except FileNotFoundError:
        raise ScopeFileError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ScopeFileError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    questions: list[ScopeQuestion] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        def fail(reason: str) -> ScopeFileError:
            return ScopeFileError(f"{path}:{number}: {reason}")

        if not line.strip():
            raise fail("empty line")
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise fail(f"not JSON: {exc.msg}") from None
        if not isinstance(row, dict):
            raise fail("not a JSON object")
        unknown = sorted(set(row) - set(_FIELDS))
        if unknown:
            raise fail(f"unknown field {unknown[0]!r}")
        for name in ("text", "lang", "in_scope", "group"):
            if name not in row:
                raise fail(f"missing field {name!r}")
        for name, kind in _FIELDS.items():
            if name in row and not isinstance(row[name], kind):
                raise fail(f"{name} must be a {kind.__name__}, got {type(row[name]).__name__}")
        text = normalize_question(row["text"])
        if not text:
            raise fail("text is empty")
        if row["lang"] not in ("zh", "en"):
            raise fail(f"lang must be zh or en, got {row['lang']!r}")
        in_scope = row["in_scope"]
        if row["group"] not in GROUPS[in_scope]:
            raise fail(f"group must be one of {'|'.join(GROUPS[in_scope])} when in_scope is {str(in_scope).lower()}, got {row['group']!r}")
        gold = row.get("gold", [])
        if not all(isinstance(k, str) and k for k in gold):
            raise fail("gold must be a list of citation keys")
        if in_scope and not gold:
            raise fail("an in-scope question needs gold citation keys")
        if not in_scope and gold:
            raise fail("an out-of-scope question has no gold citation keys")
        if known_keys is not None:
            missing = [k for k in gold if k not in known_keys]
            if missing:
                raise fail(f"unknown citation key {missing[0]!r}")
        if text in seen:
            raise fail(f"duplicate of line {seen[text]}")
        seen[text] = number
        questions.append(ScopeQuestion(number, text, row["lang"], in_scope, row["group"], tuple(gold)))
    if not questions:
        raise ScopeFileError(f"{path}: no questions")
    return questions


def split(questions: Sequence[ScopeQuestion], seed: int = SEED, share: float = TEST_SHARE) -> tuple[list[int], list[int]]:
    """(train, test) positions: within each stratum, the questions ordered by a
    seeded hash of their text, the first round(share * n) are the test part.
    Adding a question moves at most one other between the parts of its stratum."""
    by_stratum: dict[str, list[int]] = {}
    for i, q in enumerate(questions):
        by_stratum.setdefault(q.stratum, []).append(i)
    test: set[int] = set()
    for members in by_stratum.values():
        ordered = sorted(members, key=lambda i: hashlib.sha256(f"{seed}:{questions[i].text}".encode()).hexdigest())
        test.update(ordered[: round(share * len(members))])
    return [i for i in range(len(questions)) if i not in test], sorted(test)


# --------------------------------------------------------------------------- features


def compute_signals(
    questions: Sequence[ScopeQuestion],
    index: LiveIndex,
    embed: Callable[[list[str]], dict[str, np.ndarray]],
    parse_refs: Callable[[str], list],
) -> list[dict[str, float]]:
    """The service's signals for every question (`embed`: texts -> one row per
    text per model, as queries)."""
    from qa_service.normalize import detect_lang

    texts = [q.text for q in questions]
    vectors = embed(texts)
    rows = []
    for i, text in enumerate(texts):
        rows.append(signals(text, detect_lang(text), parse_refs(text), index, {m: v[i] for m, v in vectors.items()}))
    return rows


def matrix(rows: Sequence[dict[str, float]], features: Sequence[str] = FEATURES) -> np.ndarray:
    from qa_service.scope import feature_value

    x = np.array([[feature_value(f, r) for f in features] for r in rows], dtype=np.float64)
    if np.isnan(x).any():  # a model the index lacks: the column's mean
        means = np.nanmean(x, axis=0)
        x = np.where(np.isnan(x), np.nan_to_num(means)[None, :], x)
    return x


# --------------------------------------------------------------------------- fitting


def _pipeline(c: float):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=5000))


def out_of_fold(x: np.ndarray, y: np.ndarray, strata: Sequence[str], c: float, seed: int = SEED) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    probability = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    for fit_rows, held_rows in folds.split(x, strata):
        model = _pipeline(c).fit(x[fit_rows], y[fit_rows])
        probability[held_rows] = model.predict_proba(x[held_rows])[:, 1]
    return probability


def rates(probability: np.ndarray, y: np.ndarray, langs: Sequence[str], threshold: float) -> dict[str, dict[str, float]]:
    """Per language and overall: in-scope answered, out-of-scope refused, counts."""
    langs_arr = np.asarray(langs)
    out: dict[str, dict[str, float]] = {}
    for lang in ("zh", "en", "all"):
        mask = np.ones(len(y), dtype=bool) if lang == "all" else langs_arr == lang
        inside, outside = mask & (y == 1), mask & (y == 0)
        out[lang] = {
            "in_scope_answered": round(float(np.mean(probability[inside] >= threshold)), 4) if inside.any() else math.nan,
            "out_of_scope_refused": round(float(np.mean(probability[outside] < threshold)), 4) if outside.any() else math.nan,
            "n_in_scope": int(inside.sum()),
            "n_out_of_scope": int(outside.sum()),
        }
    return out


def margin(probability: np.ndarray, y: np.ndarray, langs: Sequence[str], threshold: float) -> float:
    """How far the worse language is above (or below) both targets."""
    r = rates(probability, y, langs, threshold)
    return min(
        min(r[lang]["in_scope_answered"] - TARGET_ANSWERED, r[lang]["out_of_scope_refused"] - TARGET_REFUSED)
        for lang in ("zh", "en")
    )


def choose_threshold(probability: np.ndarray, y: np.ndarray, langs: Sequence[str]) -> float:
    """The threshold with the widest margin over both targets in the worse
    language; among equals, the middle of the widest run of them."""
    candidates = np.unique(np.concatenate([probability, [0.5]]))
    midpoints = (candidates[:-1] + candidates[1:]) / 2 if len(candidates) > 1 else candidates
    grid = np.clip(midpoints, 1e-4, 1 - 1e-4)
    scores = np.array([margin(probability, y, langs, t) for t in grid])
    best = scores.max()
    runs: list[list[int]] = []
    for i in np.flatnonzero(np.isclose(scores, best)):
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(int(i))
        else:
            runs.append([int(i)])
    widest = max(runs, key=lambda run: (grid[run[-1]] - grid[run[0]], -run[0]))
    return float((grid[widest[0]] + grid[widest[-1]]) / 2)


@dataclass
class FitResult:
    model: dict[str, object]
    cv: dict[str, dict[str, float]]
    test: dict[str, dict[str, float]]
    test_mistakes: list[dict[str, object]]


def fit(
    questions: Sequence[ScopeQuestion],
    rows: Sequence[dict[str, float]],
    index_version: str,
    inputs_sha256: str,
    seed: int = SEED,
    features: Sequence[str] = FEATURES,
    c_grid: Sequence[float] = C_GRID,
) -> FitResult:
    import sklearn

    train, test = split(questions, seed)
    x = matrix(rows, features)
    y = np.array([int(q.in_scope) for q in questions])
    langs = [q.lang for q in questions]
    strata = [q.stratum for q in questions]
    x_train, y_train = x[train], y[train]
    langs_train, strata_train = [langs[i] for i in train], [strata[i] for i in train]
    # the regularisation strength and the threshold: from out-of-fold probabilities only
    best: tuple[float, float, float, np.ndarray] | None = None
    for c in c_grid:
        oof = out_of_fold(x_train, y_train, strata_train, c, seed)
        threshold = choose_threshold(oof, y_train, langs_train)
        score = margin(oof, y_train, langs_train, threshold)
        if best is None or score > best[0] + 1e-9:
            best = (score, c, threshold, oof)
    assert best is not None
    _, c, threshold, oof = best
    pipeline = _pipeline(c).fit(x_train, y_train)
    scaler, regression = pipeline[0], pipeline[1]
    test_probability = pipeline.predict_proba(x[test])[:, 1]
    cv = rates(oof, y_train, langs_train, threshold)
    test_rates = rates(test_probability, y[test], [langs[i] for i in test], threshold)
    mistakes = [
        {"text": questions[i].text, "in_scope": questions[i].in_scope, "group": questions[i].group, "p": round(float(p), 3)}
        for i, p in zip(test, test_probability, strict=True)
        if (p >= threshold) != questions[i].in_scope
    ]
    model = {
        "format": MODEL_FORMAT,
        "about": "Scope classifier of qa_service.scope, written by `python -m qa_service fit-scope`; do not edit by hand.",
        "index_version": index_version,
        "inputs_sha256": inputs_sha256,
        "seed": seed,
        "C": c,
        "threshold": round(threshold, 6),
        "features": list(features),
        "mean": [round(float(v), 8) for v in scaler.mean_],
        "scale": [round(float(v), 8) for v in scaler.scale_],
        "coef": [round(float(v), 8) for v in regression.coef_[0]],
        "intercept": round(float(regression.intercept_[0]), 8),
        "fitted_with": f"scikit-learn {sklearn.__version__}",
        "questions": {"train": len(train), "test": len(test), "by_stratum": dict(sorted(Counter(strata).items()))},
        "figures": {"cross_validated": cv, "test": test_rates},
    }
    ScopeModel.from_json(model)  # what the service will load
    return FitResult(model, cv, test_rates, mistakes)

