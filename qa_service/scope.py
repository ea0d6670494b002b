"""In scope or not: the evidence for a question and the fitted model that weighs it.

One decision from evidence. For every question the service already has, or
computes in microseconds from what it has:

- the best cosine of the question, with USE and with e5, to any passage, any
  sentence and any passage question of the index version;
- the best BM25 score (jieba tokens, the colloquial thesaurus for Chinese,
  the lexicon's Chinese terms for English);
- the share of the question's content words that occur in the corpus
  vocabulary (passages and passage questions, jieba tokens);
- whether the question names a law outside the corpus (劳动合同法第三十八条);
- two word lists, as signals only: instructions aimed at the system
  (`INJECTION`) and the neighbouring fields of `neighbouring_fields.json`.

A logistic regression fitted by `python -m qa_service fit-scope`
(qa_service.scope_fit) turns them into the probability that the corpus
answers the question; the coefficients and the threshold are a JSON data file
(`ScopeModel`), keyed by the index version and the hash of the scope set it
was fitted on and of the lexicon. No word list refuses anything by itself: a question that
names the housing fund and asks about medical insurance has high cosines and
corpus words, and is answered (in part: `uncovered_fields`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from corpus import ArticleRef, Passage
from ingest.lexical import tokenize
from ingest.live import LiveIndex
from qa_service.lexicon import LEXICON_FILE, expand, gloss_to_chinese, lexicon

log = logging.getLogger("qa_service.scope")

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_MODEL = PACKAGE_DIR / "scope_model.json"
NEIGHBOURING_FIELDS = PACKAGE_DIR / "neighbouring_fields.json"
MODEL_FORMAT = 1
EMBEDDERS = ("use", "e5")
TABLES = ("passage", "sentence", "question")

# Instructions aimed at the system rather than a question about social insurance.
# A signal for the classifier and the name of the refusal reason, never a refusal by itself.
INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules?|prompts?|previous|above|guidelines|settings)\b"
    r"|system prompt|\byou are now\b|\bpretend (to be|you)\b|\bact as\b|\bjailbreak\b|\bDAN\b|developer mode"
    r"|\bforget (that )?you('re| are)\b"
    r"|忽略.{0,15}(规则|指令|指示|要求|设定|提示|限制)|无视.{0,15}(规则|指令|限制|设定)|忘记.{0,10}(规则|指令|设定|身份)"
    r"|你现在是|扮演|系统提示|越狱|不要管.{0,10}(规则|限制)|开发者模式",
    re.IGNORECASE,
)

# the signals, in the order a model file lists them (a model may use a subset,
# and products "a*b" of two of them)
SIGNALS = (
    *(f"{model}_{table}" for model in EMBEDDERS for table in TABLES),
    "bm25_top",
    "vocab_share",
    "content_words",
    "outside_reference",
    "instruction_words",
    "neighbour_words",
    "field_words",
    "english",
)


class ScopeModelError(ValueError):
    """A scope model file is missing or malformed; the message names the file."""


# --------------------------------------------------------------------------- neighbouring fields


@dataclass(frozen=True)
class NeighbouringField:
    topic: str
    names: Mapping[str, str]  # lang -> short name shown to the asker
    patterns: tuple[re.Pattern[str], ...]

    def named_in(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


@lru_cache(maxsize=4)
def neighbouring_fields(path: Path = NEIGHBOURING_FIELDS) -> tuple[NeighbouringField, ...]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        fields = []
        for entry in raw["fields"]:
            patterns = tuple(re.compile(p, re.IGNORECASE) for p in entry["match"])
            if not patterns or not entry["zh"] or not entry["en"]:
                raise ValueError(f"field {entry.get('topic')!r} needs match, zh and en")
            fields.append(NeighbouringField(entry["topic"], {"zh": entry["zh"], "en": entry["en"]}, patterns))
    except (OSError, ValueError, KeyError, TypeError, re.error) as exc:
        raise ScopeModelError(f"{path}: {exc}") from None
    return tuple(fields)


@lru_cache(maxsize=4)
def field_terms(path: Path = NEIGHBOURING_FIELDS) -> tuple[str, ...]:
    try:
        terms = json.loads(path.read_text(encoding="utf-8"))["field_terms"]
    except (OSError, ValueError, KeyError) as exc:
        raise ScopeModelError(f"{path}: {exc}") from None
    return tuple(str(t).lower() for t in terms)


def field_terms_named(text: str) -> int:
    """How many of the field's own names (社保, 失业金, pension …) the question uses."""
    lowered = text.lower()
    return sum(1 for term in field_terms() if term in lowered)


def fields_named(text: str) -> list[NeighbouringField]:
    return [f for f in neighbouring_fields() if f.named_in(text)]


def uncovered_fields(question: str, passages: Iterable[Passage]) -> list[NeighbouringField]:
    """The neighbouring fields the question names that none of the answer's
    passages mentions (the minimum wage is in 失业保险条例第十八条; the housing
    fund is nowhere in the corpus)."""
    texts = [p.text for p in passages]
    return [f for f in fields_named(question) if not any(f.named_in(t) for t in texts)]


# --------------------------------------------------------------------------- signals


_WORD = re.compile(r"[a-z]+")
_CJK = re.compile(r"[\u3400-\u9fff]")


def _content_words(text: str) -> list[str]:
    """jieba tokens without stop words, numbers and single Latin letters."""
    return [t for t in tokenize(text) if not t.isdigit() and (_CJK.search(t) or len(t) > 1)]


def _english_variants(token: str) -> tuple[str, ...]:
    """A crude stem, so that "injured" meets "injury" and "pays" meets "pay"."""
    out = [token]
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ed", "e"), ("ing", "e")):
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            out.append(token[: -len(suffix)] + repl)
    return tuple(out)


_VOCABULARIES: dict[str, frozenset[str]] = {}  # build id -> vocabulary (the live version and the one before)


def corpus_vocabulary(index: LiveIndex) -> frozenset[str]:
    """Content words of the passages, the passage questions and the field's
    glossaries (the statutes' terms and their colloquial and English names);
    built once per index version (about a second)."""
    cached = _VOCABULARIES.get(index.build_id)
    if cached is not None:
        return cached
    texts = (
        *(p.text for p in index.passages),
        *(q.text for q in index.questions),
        *lexicon().words(),
    )
    words: set[str] = set()
    for text in texts:
        for token in _content_words(text):
            words.update(_english_variants(token) if token.isascii() else (token,))
    vocabulary = frozenset(words)
    while len(_VOCABULARIES) >= 2:
        _VOCABULARIES.pop(next(iter(_VOCABULARIES)))
    _VOCABULARIES[index.build_id] = vocabulary
    return vocabulary


def vocabulary_share(text: str, vocabulary: frozenset[str]) -> tuple[float, int]:
    words = _content_words(text)
    if not words:
        return 0.0, 0
    known = sum(1 for w in words if any(v in vocabulary for v in (_english_variants(w) if w.isascii() else (w,))))
    return known / len(words), len(words)


def _best(vectors: np.ndarray | None, query: np.ndarray) -> float:
    if vectors is None or not len(vectors):
        return math.nan
    return float(np.max(vectors @ query))


def signals(
    text: str,
    lang: str,
    refs: Sequence[ArticleRef],
    index: LiveIndex,
    query_vectors: Mapping[str, np.ndarray],
) -> dict[str, float]:
    """The evidence for one (normalised) question. `query_vectors`: the question
    embedded as a query by each model (unit length); a model the index lacks
    gives NaN, which the model file's mean stands in for."""
    values: dict[str, float] = {}
    for model in EMBEDDERS:
        query = query_vectors.get(model)
        if query is None:
            values.update({f"{model}_{t}": math.nan for t in TABLES})
            continue
        query = np.asarray(query, dtype=np.float32)
        query = query / (np.linalg.norm(query) or 1.0)
        values[f"{model}_passage"] = _best(index.passage_vectors.get(model), query)
        values[f"{model}_sentence"] = _best(index.sentence_vectors.get(model), query)
        values[f"{model}_question"] = _best(index.question_vectors.get(model), query)
    queries = [expand(text)] if lang == "zh" else [text, gloss_to_chinese(text)]
    bm25 = max((s for q in queries if q for _, s in index.lexical.search(q, 1)), default=0.0)
    values["bm25_top"] = math.log1p(bm25)
    share, count = vocabulary_share(text, corpus_vocabulary(index))
    values["vocab_share"] = share
    values["content_words"] = math.log1p(count)
    values["outside_reference"] = float(any(r.doc_id is None for r in refs))
    values["instruction_words"] = float(bool(INJECTION.search(text)))
    values["neighbour_words"] = float(bool(fields_named(text)))
    values["field_words"] = math.log1p(field_terms_named(text))
    values["english"] = float(lang == "en")
    return values


# --------------------------------------------------------------------------- the fitted model


def inputs_sha256(scope_questions: Path, fields: Path = NEIGHBOURING_FIELDS, terms: Path = LEXICON_FILE) -> str:
    """What a fitted model depends on besides the index: the scope set it was
    fitted on, the neighbouring fields its word signals come from and the
    lexicon its BM25 and vocabulary signals use."""
    digest = hashlib.sha256()
    for path in (scope_questions, fields, terms):
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def feature_value(name: str, values: Mapping[str, float]) -> float:
    """A signal, or the product of two ("use_passage*english")."""
    if "*" in name:
        left, right = name.split("*", 1)
        return values[left] * values[right]
    return values[name]


@dataclass(frozen=True)
class ScopeModel:
    """Standardised logistic regression: p = sigmoid(intercept + coef · (x - mean) / scale)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    index_version: str
    inputs_sha256: str
    path: Path | None = None

    def probability(self, values: Mapping[str, float]) -> float:
        x = np.array([feature_value(f, values) for f in self.features], dtype=np.float64)
        x = np.where(np.isnan(x), self.mean, x)  # a missing model: its training mean
        z = self.intercept + float(np.dot(self.coef, (x - self.mean) / self.scale))
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def in_scope(self, values: Mapping[str, float]) -> tuple[bool, float]:
        p = self.probability(values)
        return p >= self.threshold, p

    @classmethod
    def from_json(cls, data: Mapping[str, object], path: Path | None = None) -> ScopeModel:
        where = str(path) if path else "scope model"
        try:
            if data.get("format") != MODEL_FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {MODEL_FORMAT}")
            features = tuple(str(f) for f in data["features"])  # type: ignore[union-attr]
            for name in features:
                for part in name.split("*"):
                    if part not in SIGNALS:
                        raise ValueError(f"unknown signal {part!r}")
            arrays = {k: np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")}
            for key, array in arrays.items():
                if array.shape != (len(features),) or not np.all(np.isfinite(array)):
                    raise ValueError(f"{key} must be {len(features)} finite numbers")
            if np.any(arrays["scale"] <= 0):
                raise ValueError("scale must be positive")
            threshold = float(data["threshold"])  # type: ignore[arg-type]
            intercept = float(data["intercept"])  # type: ignore[arg-type]
            if not 0.0 < threshold < 1.0 or not math.isfinite(intercept):
                raise ValueError(f"threshold must be in (0, 1), got {threshold}")
            return cls(
                features, arrays["mean"], arrays["scale"], arrays["coef"], intercept, threshold,
                str(data["index_version"]), str(data["inputs_sha256"]), path,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ScopeModelError(f"{where}: {exc}") from None

    @classmethod
    def load(cls, path: Path) -> ScopeModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ScopeModelError(f"{path}: no such file; run `python -m qa_service fit-scope`") from None
        except (OSError, ValueError) as exc:
            raise ScopeModelError(f"{path}: {exc}") from None
        if not isinstance(data, dict):
            raise ScopeModelError(f"{path}: not a JSON object")
        return cls.from_json(data, path)


def cache_path(data_dir: Path, build_id: str, inputs_sha256: str) -> Path:
    """Where fit-scope keeps the model fitted for one index version and scope set."""
    return data_dir / "scope" / f"scope-model-{build_id}-{inputs_sha256[:16]}.json"


@lru_cache(maxsize=8)
def _load_cached(path: Path, mtime_ns: int) -> ScopeModel:  # noqa: ARG001 - mtime keys the cache
    return ScopeModel.load(path)


def resolve_model(explicit: Path | None, data_dir: Path, build_id: str, scope_questions: Path) -> ScopeModel:
    """The model for this index version: an explicit file (SIQA_SCOPE_MODEL);
    else the one fit-scope cached for this index version and scope set; else
    the bundled one (qa_service/scope_model.json), with a warning when it was
    fitted on another index version or scope set."""
    if explicit is not None:
        return _load_cached(explicit, _mtime(explicit))
    try:
        sha = _inputs_sha256_cached(scope_questions, _mtime(scope_questions), _mtime(NEIGHBOURING_FIELDS))
    except (OSError, ScopeModelError):
        sha = ""
    cached = cache_path(data_dir, build_id, sha)
    if sha and cached.is_file():
        try:
            return _load_cached(cached, _mtime(cached))
        except ScopeModelError as exc:  # a damaged cache: the bundled model still answers
            log.error("%s; using the bundled scope model", exc, extra={"event": "scope_model_broken"})
    model = _load_cached(BUNDLED_MODEL, _mtime(BUNDLED_MODEL))
    if (model.index_version, model.inputs_sha256) != (build_id, sha):
        _warn_stale(model.index_version, build_id)
    return model


@lru_cache(maxsize=8)
def _inputs_sha256_cached(scope_questions: Path, *mtimes: int) -> str:  # noqa: ARG001 - mtimes key the cache
    return inputs_sha256(scope_questions)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        raise ScopeModelError(f"{path}: no such file; run `python -m qa_service fit-scope`") from None


@lru_cache(maxsize=8)
def _warn_stale(fitted: str, serving: str) -> None:
    log.warning(
        "the scope model was fitted on index %s or another scope set or lexicon, serving %s: run `python -m qa_service fit-scope`",
        fitted, serving, extra={"event": "scope_model_stale"},
    )
