"""Answer, answer in part, or refuse: the decision and the refusal messages.

References first: a question naming an existing article is answered, one
naming an article that does not exist is refused (`no_such_article`). Every
other question is weighed by the scope classifier (qa_service.scope): one
fitted decision over the evidence the service computes. When it refuses, the
reason is `instructions` if the question is an instruction to the system,
else `out_of_scope`. When it answers, the neighbouring fields the question
names and no passage of the answer covers, and the instruments outside the
corpus whose articles it names, are returned as uncovered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from corpus import ArticleRef
from corpus.language import CJK
from ingest.embedders import Embedder
from ingest.live import LiveIndex
from qa_service.retrieval import HybridResult
from qa_service.scope import INJECTION, NeighbouringField, resolve_model, signals, uncovered_fields
from qa_service.settings import ServiceSettings

MESSAGES = {
    "out_of_scope": {
        "zh": "抱歉，这个问题超出了本服务所依据的社会保险法律法规的范围，无法给出有依据的回答。"
        "您可以参考下面列出的相关条文，或咨询当地社会保险经办机构。",
        "en": "Sorry, this question is outside the social-insurance laws and rules this service answers from, "
        "so it cannot give an answer it can back with a citation. The passages below are the closest ones; "
        "your local social insurance agency can help with anything else.",
    },
    "instructions": {
        "zh": "抱歉，本服务只回答社会保险法律法规方面的问题，不执行问题中的指令。",
        "en": "Sorry, this service only answers questions about social-insurance law and does not follow "
        "instructions contained in a question.",
    },
    "no_such_article": {
        "zh": "抱歉，语料中没有您所指的条文：{refs}。",
        "en": "Sorry, the corpus has no such article: {refs}.",
    },
}


def refusal_message(reason: str, lang: str, **fields: str) -> str:
    return MESSAGES[reason][lang].format(**fields)


@dataclass
class Decision:
    refuse: bool
    reason: str | None = None
    detail: dict[str, str] | None = None
    # the scope classifier's probability that the corpus answers the question (None: decided by a reference)
    probability: float | None = None
    uncovered: list[NeighbouringField] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return not self.refuse and bool(self.uncovered)

    def uncovered_names(self, lang: str) -> str | None:
        if not self.uncovered:
            return None
        return ("、" if lang == "zh" else " and ").join(f.name(lang) for f in self.uncovered)


def decide(
    question: str,
    lang: str,
    result: HybridResult,
    index: LiveIndex,
    embedders: Mapping[str, Embedder],
    settings: ServiceSettings,
) -> Decision:
    """Answer or refuse `question` (normalised). References first; then the
    scope classifier over the question's evidence."""
    named = [r for r in result.references if r.doc_id is not None]
    if named:
        if any(h.found_by.get("reference") for h in result.hits):
            return Decision(False)
        missing = [r for r in named if index.passage(r.key or "") is None]
        if missing:
            return Decision(True, "no_such_article", {"refs": describe_refs(missing, index, lang)})
    model = resolve_model(settings.scope_model, settings.data_dir, index.build_id, settings.scope_questions)
    vectors = {name: np.asarray(e.embed_query(question), dtype=np.float32) for name, e in embedders.items()}  # cached by retrieval
    answer, probability = model.in_scope(signals(question, lang, result.references, index, vectors))
    if not result.hits or not answer:
        return Decision(True, "instructions" if INJECTION.search(question) else "out_of_scope", probability=probability)
    answering = [h.passage for h in result.hits[: settings.answer_passages]]
    return Decision(False, probability=probability,
                    uncovered=uncovered_fields(question, answering) + outside_instruments(result.references))


def outside_instruments(refs: list[ArticleRef]) -> list[NeighbouringField]:
    """The instruments outside the corpus whose articles the question names
    (《工伤保险条例》第十四条, Article 38 of the Labour Contract Law): an answer from
    the corpus covers the question only in part, and says so."""
    names = list(dict.fromkeys(r.outside for r in refs if r.doc_id is None and r.outside))
    return [
        NeighbouringField("outside-instrument", {"zh": f"《{n}》" if CJK.search(n) else n, "en": n}, ())
        for n in names
    ]


def describe_refs(refs: list[ArticleRef], index: LiveIndex, lang: str) -> str:
    parts = []
    for ref in refs:
        doc = next(d for d in index.manifest.documents if d.doc_id == ref.doc_id)
        count = f"（共{doc.articles}条）" if lang == "zh" and doc.articles else (f" (it has {doc.articles} articles)" if doc.articles else "")
        if lang == "zh":
            parts.append(f"《{doc.title}》第{ref.article}条{count}")
        else:
            parts.append(f"Article {ref.article} of the {doc.title_en}{count}")
    return "、".join(parts) if lang == "zh" else "; ".join(parts)
