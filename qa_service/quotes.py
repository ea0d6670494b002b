"""Which parts of the retrieved passages an answer quotes.

Quotes are whole legal units (`corpus.structure`): a numbered item never
without its lead-in, a lead-in never without the items that answer, a ；-branch
never cut from its sentence, the tiers of a tiered rule all together (the one
that fits the asker's situation first). Selection is by completeness: what
answers in the best passage first, then another passage only when it adds
something — not a restatement of the same rule, not a neighbouring article on
another insurance. A procedural question about the guidance gets its steps in
order. Every quote is a span of the source file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from corpus import Passage
from corpus.sentences import Sentence, sentence_spans
from corpus.structure import Structure, analyse, tier_of
from ingest.live import LiveIndex
from ingest.sentence_index import QUOTE_EMBEDDER
from qa_service.retrieval import Hit
from qa_service.restatement import prevails, restated
from qa_service.situation import Situation, parse_situation

RANK_PRIOR = 0.08  # retrieval saw more than one sentence: a prior for the passage's fused rank
SAME_UNIT_GAP = 0.06  # another unit of the best passage joins when this close to its best
OTHER_TOPIC_GAP = 0.03  # a passage on another insurance joins only when this close to the best
SHORT_LIST = 100  # characters: a list this short is quoted whole (160 quoted lists that did not answer: dev median length +7, no nugget more)
SHORT_PARAGRAPH = 120  # characters: a paragraph this short is quoted whole
SHORT_ARTICLE = 200  # characters: the best passage, when this short, is quoted whole
SHORT_OTHER = 120  # characters: another passage, when this short, is quoted whole
GUIDANCE_KIND = "guidance"

# Questions that ask for the whole list rather than one case of it.
LIST_QUESTION = re.compile(
    r"哪些|哪几|下列|什么情况|什么情形|哪种情况|条件|情形|包括|范围|"
    r"\bwhich\b|\bwhat (?:are|counts|cases|situations|conditions|expenses|costs)\b|\bconditions?\b|\blist\b|\binclude",
    re.IGNORECASE,
)
# How to do something: the guidance answers these with its steps.
PROCEDURE = re.compile(
    r"怎么|如何|怎样|手续|材料|流程|步骤|程序|办理|证明|带什么|准备|"
    r"\bhow\b|\bsteps?\b|\bprocedures?\b|\bformalities\b|\bprepare\b|\bdocuments?\b|\bmaterials?\b|\bwhat do i need\b",
    re.IGNORECASE,
)
INSURANCES = {
    "pension": ("养老", "退休"),
    "medical": ("医疗", "医保", "就医"),
    "injury": ("工伤",),
    "unemployment": ("失业",),
    "maternity": ("生育",),
}
# The same insurances named in a question, in either language.
QUESTION_INSURANCES = {
    "pension": re.compile(r"养老|退休|pension|retire", re.IGNORECASE),
    "medical": re.compile(r"医疗|医保|就医|看病|住院|medical|hospital|health|doctor|surgery", re.IGNORECASE),
    "injury": re.compile(r"工伤|受伤|伤残|injur|hurt|accident|disab", re.IGNORECASE),
    "unemployment": re.compile(r"失业|unemploy|laid off|jobless", re.IGNORECASE),
    "maternity": re.compile(r"生育|生孩子|产假|怀孕|maternity|birth|pregnan", re.IGNORECASE),
}
ALWAYS_PASSAGES = 2  # the top fused ranks are quoted unless they restate or change the subject
QUESTION_END = ("？", "?")


def question_parts(question: str) -> list[str]:
    """The questions a visitor asks in one message (申请生育津贴要交什么材料？多久能批下来？),
    when there are several: each sentence ending in a question mark. A sentence
    that answers the second question may be far, by cosine, from the whole message."""
    parts = [question[a:b] for a, b in sentence_spans(question, semicolons=False)]
    asked = [p for p in parts if p.endswith(QUESTION_END)]
    return asked if len(asked) > 1 else []


@dataclass
class Quote:
    passage: Passage
    start: int
    end: int
    score: float
    sentences: tuple[Sentence, ...] = ()
    role: str = "quote"  # quote | lead-in | items | applies | other-tiers | step | basis | article
    restates: str | None = None  # key of an earlier quoted passage stating the same rule with other figures


_STRUCTURES: dict[str, dict[str, Structure]] = {}  # index version -> passage key -> structure


def structure_of(passage: Passage, index: LiveIndex) -> tuple[Structure, list[int]]:
    """The passage's structure, analysed once per index version and looked up by
    key (keying a cache on the passage itself hashed its whole text every request)."""
    rows = index.sentence_rows.get(passage.key, [])
    by_key = _STRUCTURES.get(index.build_id)
    if by_key is None:
        _STRUCTURES.clear()  # versions are replaced, not kept side by side
        by_key = _STRUCTURES[index.build_id] = {}
    structure = by_key.get(passage.key)
    if structure is None:
        structure = by_key[passage.key] = analyse(passage, [index.sentences[r] for r in rows])
    return structure, rows


def insurance_of(passage: Passage) -> str | None:
    """The insurance a passage is about: the one its chapter names (第三章 关于工伤保险),
    else the one its text names most, when one does strictly (a tie is no topic:
    SIL-IP art. 10's 医疗机构 is not medical insurance)."""
    for name, words in INSURANCES.items():
        if any(w in (passage.chapter or "") for w in words):
            return name
    counts = sorted(((sum(passage.text.count(w) for w in words), name) for name, words in INSURANCES.items()), reverse=True)
    return counts[0][1] if counts[0][0] > counts[1][0] else None


def names_insurance(passage: Passage, names: set[str]) -> bool:
    """Whether the passage's text is also about one of `names`: names it at least
    half as often as the insurance it names most (HR art. 20 on 医疗费用、生育医疗费用)."""
    counts = {name: sum(passage.text.count(w) for w in words) for name, words in INSURANCES.items()}
    top = max(counts.values())
    return top > 0 and any(2 * counts[name] >= top for name in names if counts[name])


def _span(passage: Passage, sentences: list[Sentence], score: float, role: str) -> Quote:
    return Quote(passage, sentences[0].start, sentences[-1].end, score, tuple(sentences), role)


def _runs(indices: list[int]) -> list[list[int]]:
    """Consecutive runs: non-adjacent sentences are separate quotes."""
    runs: list[list[int]] = []
    for i in sorted(set(indices)):
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


class _Scored:
    """One candidate passage with every sentence scored against the question."""

    def __init__(self, hit: Hit, rank: int, index: LiveIndex, query_vector: np.ndarray | None) -> None:
        self.passage = hit.passage
        self.rank = rank
        self.structure, self.rows = structure_of(hit.passage, index)
        vectors = index.sentence_vectors.get(QUOTE_EMBEDDER)
        if query_vector is not None and vectors is not None and self.rows:
            # one row per question asked (question_parts) after the whole message: the best of them
            by_question = vectors[self.rows] @ np.atleast_2d(query_vector).T
            self.vectors = vectors[self.rows]
        else:
            by_question = np.zeros((len(self.rows), 1))
            self.vectors = np.zeros((len(self.rows), 1))
        prior = RANK_PRIOR / rank
        body = np.array([not r.heading for r in self.structure.roles], dtype=bool)
        sims = by_question.max(axis=1) if len(self.rows) else np.zeros(0)
        self.scores = [float(s) + prior if b else -1.0 for s, b in zip(sims, body, strict=True)]
        # the passage's best sentence for each question asked, and its score: one that
        # answers only the second question is far from the whole message but close to its question
        if body.any():
            masked = np.where(body[:, None], by_question, -np.inf)
            self.best_by_question = masked.max(axis=0) + prior
            self.best_row_by_question = masked.argmax(axis=0)
        else:
            self.best_by_question = np.full(by_question.shape[1], -1.0)
            self.best_row_by_question = np.zeros(by_question.shape[1], dtype=int)

    def answers_a_part(self, best_by_question: np.ndarray) -> list[int]:
        """This passage's best sentence for each question asked (the rows after the
        whole message) that no other candidate answers better: a message's second
        question is answered by a sentence the whole message is far from (SIL 63's
        second paragraph for 还能采取哪些强制手段). Letting near-best passages join
        too (within 0.02-0.06) found no nugget more and lengthened answers."""
        return sorted({
            int(self.best_row_by_question[j])
            for j in range(1, len(self.best_by_question))
            if self.best_by_question[j] >= best_by_question[j]
        })

    @property
    def best(self) -> int:
        return int(np.argmax(self.scores))

    @property
    def best_score(self) -> float:
        return self.scores[self.best] if self.scores else -1.0


def select_quotes(
    hits: list[Hit],
    query_vector: np.ndarray | None,
    index: LiveIndex,
    max_passages: int,
    max_units: int,
    max_gap: float = 0.12,
    question: str = "",
) -> list[Quote]:
    """The quotes that answer, best passage first."""
    exact = [h for h in hits if "reference" in h.found_by]
    if exact:
        return [q for h in exact[:max_passages] if (q := whole_article(h.passage, index)) is not None]
    candidates = hits[:max_passages]
    if not candidates:
        return []
    if PROCEDURE.search(question) and (steps := guidance_steps(candidates[:2], index)):
        return steps
    scored = [_Scored(h, rank, index, query_vector) for rank, h in enumerate(candidates, 1)]
    scored = [s for s in scored if s.rows]
    if not scored:
        first = candidates[0].passage
        return [Quote(first, first.start, first.end, candidates[0].score)]
    situation = parse_situation(question)
    # a passage whose every stated range excludes the asker's (不足十五年 for 20 years
    # of contributions) answers someone else: the passages that may apply come first
    scored = sorted(scored, key=lambda s: _excludes_asker(s.structure, situation))
    wants_list = bool(LIST_QUESTION.search(question))
    primary = scored[0]
    best_overall = max(s.best_score for s in scored)
    best_by_question = np.max([s.best_by_question for s in scored], axis=0)
    chosen: list[int] = []  # sentence indices of the primary passage
    body = [i for i, r in enumerate(primary.structure.roles) if not r.heading]
    if sum(len(primary.structure.sentences[i].text) for i in body) <= SHORT_ARTICLE * _width(primary.passage):
        chosen = body  # a short article answers best whole
    seeds = [i for i, v in enumerate(primary.scores) if v >= primary.best_score - SAME_UNIT_GAP]
    seeds += [i for i in primary.answers_a_part(best_by_question) if i not in seeds]
    for seed in sorted(seeds, key=lambda i: -primary.scores[i]):
        if seed not in chosen:
            chosen.extend(_unit(primary, seed, wants_list))
    chosen.extend(_fitting_tiers(primary, situation))
    quotes = _quotes(primary, chosen, situation)
    asked = {name for name, words in QUESTION_INSURANCES.items() if words.search(question)}
    topics = asked | ({insurance_of(primary.passage)} - {None})
    taken_vectors = [(primary.passage.key, primary.vectors[i], primary.structure.sentences[i].text) for i in chosen]
    units = 1
    for other in scored[1:]:
        if units >= max_units:
            break
        score = other.best_score
        if other.rank > ALWAYS_PASSAGES and not (other.best_by_question >= best_by_question - max_gap).any():
            continue
        other_topic = insurance_of(other.passage)
        if (topics and other_topic and other_topic not in topics and not names_insurance(other.passage, asked)
                and score < best_overall - OTHER_TOPIC_GAP):
            continue  # a neighbouring article on another insurance, silent on the one asked about
        picked = _unit(other, other.best, wants_list)
        for seed in other.answers_a_part(best_by_question):
            picked = sorted(set(picked) | set(_unit(other, seed, wants_list)))
        body = [i for i, r in enumerate(other.structure.roles) if not r.heading]
        if sum(len(other.structure.sentences[i].text) for i in body) <= SHORT_OTHER * _width(other.passage):
            picked = body  # a short article is quoted whole: its best sentence by cosine is often not the one that answers
        picked = sorted(set(picked) | set(_fitting_tiers(other, situation)))
        same_rule = restated(other.vectors[picked], [other.structure.sentences[i].text for i in picked], taken_vectors, quotes)
        if same_rule is not None and same_rule[1]:
            # the same rule with the same figures adds nothing, but the prevailing
            # document's wording replaces a lower or older one's (a law over a regulation)
            if prevails(other.passage, index.passage(same_rule[0]), index):
                quotes = [q for q in quotes if q.passage.key != same_rule[0]]
                taken_vectors = [t for t in taken_vectors if t[0] != same_rule[0]]
                quotes.extend(_quotes(other, picked, situation))
                taken_vectors.extend((other.passage.key, other.vectors[i], other.structure.sentences[i].text) for i in picked)
            continue
        added = _quotes(other, picked, situation)
        for quote in added:
            quote.restates = same_rule[0] if same_rule else None
        quotes.extend(added)
        taken_vectors.extend((other.passage.key, other.vectors[i], other.structure.sentences[i].text) for i in picked)
        units += 1
    return quotes


def _unit(scored: _Scored, seed: int, wants_list: bool) -> list[int]:
    """The sentences quoted for a seed sentence: its whole unit."""
    structure = scored.structure
    role = structure.roles[seed]
    lead = seed if role.lead_in else structure.lead_in_of(seed)
    if lead is None:
        unit = list(structure.unit_of(seed))
        paragraph = [i for i, r in enumerate(structure.roles) if r.paragraph == role.paragraph and r.item is None and not r.lead_in and not r.heading]
        if sum(len(structure.sentences[i].text) for i in paragraph) <= SHORT_PARAGRAPH * _width(scored.passage):
            unit = sorted(set(unit) | set(paragraph))
        # a rule whose continuation is a lead-in (…待遇。其中，…包括下列情形：) brings its items
        return sorted(set(unit).union(*(_items(scored, i, seed, wants_list) for i in unit if structure.roles[i].lead_in)))
    picked = _items(scored, lead, seed, wants_list)
    # a lead-in that goes on from the sentence before it (其中，…包括下列情形：) needs that sentence
    before = [i for i in structure.unit_of(lead - 1) if i < lead] if structure.roles[lead].continues else []
    return [*before, lead, *picked]


def _items(scored: _Scored, lead: int, seed: int, wants_list: bool) -> list[int]:
    """The items a lead-in is quoted with: all of them for a question that asks
    for the list or when they are short, else the best ones (and the seed's own)."""
    structure = scored.structure
    items = structure.items_of(lead)
    length = sum(len(structure.sentences[i].text) for item in items for i in item)
    if wants_list or length <= SHORT_LIST:
        picked = [i for item in items for i in item]
    else:
        item_scores = [max(scored.scores[i] for i in item) for item in items]
        top = max(item_scores)
        picked = [i for item, s in zip(items, item_scores, strict=True) if s >= top - SAME_UNIT_GAP for i in item]
        if structure.roles[seed].item is not None and seed not in picked:
            picked.extend(structure.item_sentences(seed))
    return picked


def _width(passage: Passage) -> int:
    """English takes about three characters for one of Chinese: lengths scale with it."""
    return 3 if passage.lang == "en" else 1


def _fitting_tiers(scored: _Scored, situation: Situation) -> list[int]:
    """The whole tiered rule of a passage when one of its tiers fits the asker's
    situation: its ；-branches, or its paragraphs when they are the tiers."""
    structure = scored.structure
    for i, role in enumerate(structure.roles):
        if role.tier is not None and any(role.tier.contains(v, u) for v, u in situation.values):
            return list(role.branch_group)
    paragraphs = structure.paragraph_tiers()
    if any(t.contains(v, u) for t, _ in paragraphs.values() for v, u in situation.values):
        return [i for _, members in paragraphs.values() for i in members]
    return []


def _excludes_asker(structure: Structure, situation: Situation) -> bool:
    """Whether the passage states ranges of a quantity the asker gave (years of
    contributions, age) and none of them contains the asker's value."""
    if not situation.values:
        return False  # most questions state no situation: no sentence need be parsed
    ranges = [t for s, r in zip(structure.sentences, structure.roles, strict=True) if not r.heading and (t := tier_of(s.text))]
    relevant = [t for t in ranges if any(t.unit == unit for _, unit in situation.values)]
    return bool(relevant) and not any(t.contains(v, u) for t in relevant for v, u in situation.values)


def _quotes(scored: _Scored, indices: list[int], situation) -> list[Quote]:
    """Quotes for the chosen sentences of one passage, in text order; a tiered
    rule puts the tier that fits the asker's situation first."""
    structure = scored.structure
    sentences = structure.sentences
    quotes: list[Quote] = []
    indices = sorted(set(indices))
    done: set[int] = set()
    paragraphs = structure.paragraph_tiers()
    fits = [p for p, (t, _) in paragraphs.items() if any(t.contains(v, u) for v, u in situation.values)]
    if len(fits) == 1 and set(paragraphs[fits[0]][1]) <= set(indices):
        for paragraph, (_, members) in paragraphs.items():
            chosen = [m for m in members if m in indices]
            role = "applies" if paragraph == fits[0] else "other-tiers"
            done.update(chosen)
            for run in _runs(chosen):
                quotes.append(_span(scored.passage, [sentences[g] for g in run], max(scored.scores[g] for g in run), role))
    for i in indices:
        if i in done:
            continue
        tiers = structure.tiers(i)
        applies = [t for t in tiers if any(structure.roles[t].tier.contains(v, u) for v, u in situation.values)]
        if tiers and len(applies) == 1:
            group = list(structure.roles[i].branch_group)
            done.update(group)
            quotes.append(_span(scored.passage, [sentences[applies[0]]], scored.scores[applies[0]], "applies"))
            for run in _runs([g for g in group if g != applies[0]]):
                quotes.append(_span(scored.passage, [sentences[g] for g in run], max(scored.scores[g] for g in run), "other-tiers"))
            continue
    rest = [i for i in indices if i not in done]
    for run in _runs(rest):
        # a run may cross lines (a lead-in and its items): one verbatim span
        roles = {("lead-in" if structure.roles[g].lead_in else "items" if structure.roles[g].item else "quote") for g in run}
        role = "quote" if roles == {"quote"} else "lead-in" if "lead-in" in roles else "items"
        quotes.append(_span(scored.passage, [sentences[g] for g in run], max(scored.scores[g] for g in run), role))
    return sorted(quotes, key=lambda q: (q.role != "applies", q.start))


def whole_article(passage: Passage, index: LiveIndex) -> Quote | None:
    structure, _ = structure_of(passage, index)
    sentences = [s for s, r in zip(structure.sentences, structure.roles, strict=True) if not r.heading]
    if not sentences:
        return None
    return _span(passage, sentences, 1.0, "article")


def guidance_steps(top: list[Hit], index: LiveIndex) -> list[Quote]:
    """The guidance's steps in order, then its legal basis, when the guidance is
    what retrieval found for a procedural question."""
    doc = next((h.passage.doc_id for h in top if h.passage.kind == GUIDANCE_KIND), None)
    if doc is None:
        return []
    sections = [p for p in index.passages if p.doc_id == doc]
    steps = [p for p in sections if (p.section or "").startswith("step-")]
    basis = [p for p in sections if p.section == "legal-basis"]
    quotes = []
    for passage, role in [*((p, "step") for p in steps), *((p, "basis") for p in basis)]:
        if (quote := whole_article(passage, index)) is not None:
            quote.role = role
            quotes.append(quote)
    return quotes
