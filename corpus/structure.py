"""The structure of a passage, as data: what each sentence is part of.

A statute article is made of paragraphs (款); a paragraph may end in a lead-in
("…下列…：") that introduces numbered items (项, "（一）…"); a sentence of the
law may run on in ；-separated branches that share one subject — alternatives
(SIL art. 16, second paragraph) or the tiers of an enumerated rule (SIL
art. 46: 满一年不足五年的 … 十二个月；满五年不足十年的 … 十八个月；…). The
guidance is made of sections (intro, steps, note, legal basis), each passage of
its own, whose sentences know their place.

Sentences come from the one splitter, `corpus.sentences`; this module only
annotates them, so quotes built from these units stay slices of the source file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.numerals import to_int
from corpus.passage import Passage
from corpus.sentences import Sentence, split_sentences

ITEM = re.compile(r"^[（(]([一二三四五六七八九十]+)[）)]")
LEAD_IN_END = ("：", ":")
BRANCH_END = ("；", ";")
# A sentence that goes on from the one before it and means little alone: the
# exception or special case of a rule (其中，丧失国籍的… / 但是…), or the next step
# of a procedure (社会保险经办机构收到申请后，…并将个人账户储存额一次性支付给本人).
CONTINUATION = re.compile(r"^(?:其中|但是|但|同时|此外|上述|前述|[^，。；：]{0,16}(?:收到|受理)[^，。；：]{0,10}(?:后|之日起))")
# "满一年不足五年", "满5年不足10年", "十年以上", "不足十五年": the ranges a tier applies to.
_NUM = r"([0-9]+|[一二三四五六七八九十百两]+)"
_UNIT = r"(年|个月|周岁|岁)"
_FROM_TO = re.compile(rf"满{_NUM}{_UNIT}不足{_NUM}{_UNIT}")
_AT_LEAST = re.compile(rf"{_NUM}{_UNIT}以上")
_BELOW = re.compile(rf"不足{_NUM}{_UNIT}")
_REACHED = re.compile(rf"满{_NUM}{_UNIT}")


@dataclass(frozen=True)
class Tier:
    """The range of a quantity (years, months, age) that one tier applies to: [low, high)."""

    unit: str
    low: float
    high: float

    def contains(self, value: float, unit: str) -> bool:
        return unit == self.unit and self.low <= value < self.high


@dataclass(frozen=True)
class Role:
    """What one sentence is part of. Indices are positions in the passage's sentence list."""

    paragraph: int  # 1-based 款 of the article (items belong to the paragraph of their lead-in)
    line: int  # 0-based non-blank line of the passage
    item: int | None  # 项 number, when the sentence is (part of) a numbered item
    lead_in: bool  # ends in ：and introduces items
    items: tuple[int, ...]  # for a lead-in: the sentences of the items it introduces
    branch_group: tuple[int, ...]  # the ；-branches of one sentence of the law, itself included
    tier: Tier | None  # for a branch of a tiered rule: the range it applies to
    heading: bool  # a title or heading line: never a quote
    continues: bool = False  # goes on from the sentence before it on its line (CONTINUATION)


@dataclass(frozen=True)
class Structure:
    passage: Passage
    sentences: list[Sentence]
    roles: list[Role]

    def lead_in_of(self, index: int) -> int | None:
        """The lead-in that introduces the item sentence `index`, if any."""
        for i, role in enumerate(self.roles):
            if role.lead_in and index in role.items:
                return i
        return None

    def unit_of(self, index: int) -> tuple[int, ...]:
        """The smallest quotable unit around a sentence: its whole ；-group; an
        item with its lead-in (the items themselves are chosen by the caller)."""
        role = self.roles[index]
        if role.item is not None:
            lead = self.lead_in_of(index)
            item_group = self.item_sentences(index)
            return tuple(sorted({*(() if lead is None else (lead,)), *item_group}))
        # and the sentences it goes on from, and those that go on from it
        first, last = min(role.branch_group), max(role.branch_group)
        while self.roles[first].continues and first > 0:
            first = min(self.roles[first - 1].branch_group)
        while last + 1 < len(self.roles) and self.roles[last + 1].continues:
            last = max(self.roles[last + 1].branch_group)
        return tuple(range(first, last + 1))

    def item_sentences(self, index: int) -> tuple[int, ...]:
        """All sentences of the item that sentence `index` belongs to."""
        line = self.roles[index].line
        return tuple(i for i, r in enumerate(self.roles) if r.line == line)

    def items_of(self, lead: int) -> list[tuple[int, ...]]:
        """The items a lead-in introduces, each as its sentences, in order."""
        seen: dict[int, list[int]] = {}
        for i in self.roles[lead].items:
            seen.setdefault(self.roles[i].line, []).append(i)
        return [tuple(v) for _, v in sorted(seen.items())]

    def paragraph_tiers(self) -> dict[int, tuple[Tier, tuple[int, ...]]]:
        """Paragraphs that are the tiers of one rule (SIL art. 16: 累计缴费满十五年的… /
        累计缴费不足十五年的…): paragraph -> (the range its opening states, its
        sentences), when at least two paragraphs open with ranges of one quantity
        that do not overlap; {} otherwise."""
        opening: dict[int, tuple[Tier, list[int]]] = {}
        sentences: dict[int, list[int]] = {}
        for i, role in enumerate(self.roles):
            if role.heading:
                continue
            sentences.setdefault(role.paragraph, []).append(i)
        for paragraph, members in sentences.items():
            if (tier := tier_of(self.sentences[members[0]].text)) is not None:
                opening[paragraph] = (tier, members)
        ranges = [t for t, _ in opening.values()]
        disjoint = all(a.unit == b.unit and (a.high <= b.low or b.high <= a.low) for n, a in enumerate(ranges) for b in ranges[n + 1 :])
        if len(opening) < 2 or not disjoint:
            return {}
        return {p: (t, tuple(m)) for p, (t, m) in opening.items()}

    def tiers(self, index: int) -> list[int]:
        """The tier branches of the tiered rule sentence `index` belongs to ([] if none)."""
        group = self.roles[index].branch_group
        return [i for i in group if self.roles[i].tier is not None] if len(group) > 1 else []


def _number(text: str) -> float:
    return float(to_int(text.replace("两", "二")))


def tier_of(text: str) -> Tier | None:
    """The range a tier's condition states, if it states one."""
    if m := _FROM_TO.search(text):
        if m.group(2) == m.group(4):
            return Tier(_unit(m.group(2)), _number(m.group(1)), _number(m.group(3)))
    if m := _AT_LEAST.search(text):
        return Tier(_unit(m.group(2)), _number(m.group(1)), float("inf"))
    if m := _BELOW.search(text):
        return Tier(_unit(m.group(2)), 0.0, _number(m.group(1)))
    if m := _REACHED.search(text):
        return Tier(_unit(m.group(2)), _number(m.group(1)), float("inf"))
    return None


def _unit(word: str) -> str:
    return {"年": "year", "个月": "month", "周岁": "age", "岁": "age"}[word]


def analyse(passage: Passage, sentences: list[Sentence] | None = None) -> Structure:
    """Annotate the passage's sentences (from `split_sentences` unless given)."""
    sentences = sentences if sentences is not None else split_sentences(passage)
    text = passage.text
    # non-blank lines of the passage, by offset in the source file
    line_starts: list[int] = []
    offset = passage.start
    for raw in text.splitlines(keepends=True):
        if raw.strip():
            line_starts.append(offset)
        offset += len(raw)

    def line_of(sentence: Sentence) -> int:
        return max(i for i, start in enumerate(line_starts) if start <= sentence.start)

    lines = [line_of(s) for s in sentences]
    first_on_line = {}
    for i, line in enumerate(lines):
        first_on_line.setdefault(line, i)
    item_number: dict[int, int] = {}
    for line, i in first_on_line.items():
        if m := ITEM.match(sentences[i].text):
            item_number[line] = to_int(m.group(1))

    heading_texts = {passage.title.strip(), passage.title_en.strip()}
    paragraph = 0
    paragraphs: list[int] = []
    for i, line in enumerate(lines):
        if first_on_line[line] == i and line not in item_number:
            paragraph += 1
        paragraphs.append(max(paragraph, 1))

    # ；-groups: consecutive sentences of one line, each but the last ending in ；
    groups: list[tuple[int, ...]] = []
    current: list[int] = []
    for i, sentence in enumerate(sentences):
        if current and lines[current[-1]] == lines[i] and sentences[current[-1]].text.endswith(BRANCH_END) and lines[i] not in item_number:
            current.append(i)
        else:
            if current:
                groups.append(tuple(current))
            current = [i]
    if current:
        groups.append(tuple(current))
    group_of = {i: g for g in groups for i in g}

    roles: list[Role] = []
    for i, sentence in enumerate(sentences):
        group = group_of[i]
        is_lead = sentence.text.endswith(LEAD_IN_END) and i == max(j for j, l in enumerate(lines) if l == lines[i])
        items: tuple[int, ...] = ()
        dangling = False
        if is_lead:
            following = []
            line = lines[i] + 1
            while line in item_number:
                following.extend(j for j, l in enumerate(lines) if l == line)
                line += 1
            if not following:  # "Legal basis:" introduces the unnumbered lines after it
                following = [j for j in range(i + 1, len(sentences))]
            items = tuple(following)
            is_lead = bool(items)
            # "…take the following steps:" as the last words of a passage introduces
            # what other passages say: alone it answers nothing, like a heading
            dangling = not items
        tier = None
        if len(group) > 1:
            ranges = [tier_of(sentences[j].text) for j in group]
            if sum(r is not None for r in ranges) >= 2:
                tier = ranges[group.index(i)]
        roles.append(
            Role(
                paragraph=paragraphs[i],
                line=lines[i],
                item=item_number.get(lines[i]),
                lead_in=is_lead,
                items=items,
                branch_group=group,
                tier=tier,
                heading=sentence.text.strip() in heading_texts or dangling,
                continues=i > 0 and lines[i - 1] == lines[i] and lines[i] not in item_number
                and bool(CONTINUATION.match(sentence.text)),
            )
        )
    return Structure(passage, sentences, roles)
