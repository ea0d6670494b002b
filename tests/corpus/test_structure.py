"""Statute structure on the real corpus: paragraphs, items, lead-ins, ；-groups, tiers."""

from __future__ import annotations

import pytest

from corpus import DEFAULT_CORPUS_DIR, load_corpus
from corpus.structure import Structure, Tier, analyse, tier_of

CORPUS = load_corpus(DEFAULT_CORPUS_DIR)
PASSAGES = CORPUS.by_key()


def structure(key: str) -> Structure:
    return analyse(PASSAGES[key])


def texts(s: Structure, indices) -> list[str]:
    return [s.sentences[i].text for i in indices]


def test_sil_16_second_paragraph_is_one_sentence_of_two_branches() -> None:
    s = structure("social-insurance-law:16")
    assert [r.paragraph for r in s.roles] == [1, 2, 2]
    group = s.roles[1].branch_group
    assert group == (1, 2) == s.roles[2].branch_group
    assert texts(s, group)[1].startswith("也可以转入新型农村社会养老保险")
    assert s.unit_of(2) == (1, 2)  # a branch is never quoted without its sentence
    assert s.tiers(1) == []  # alternatives, not tiers of a quantity


@pytest.mark.parametrize(
    ("key", "items", "last_item"),
    [
        ("social-insurance-law:30", 4, "（四）在境外就医的。"),
        ("social-insurance-law:37", 4, "（四）法律、行政法规规定的其他情形。"),
        ("social-insurance-law:45", 3, "（三）已经进行失业登记，并有求职要求的。"),
        ("unemployment-insurance-regulation:14", 3, "(三)已办理失业登记，并有求职要求的。"),
    ],
)
def test_lead_in_knows_its_items(key: str, items: int, last_item: str) -> None:
    s = structure(key)
    lead = 0
    assert s.roles[lead].lead_in and s.sentences[lead].text.endswith(("：", ":"))
    listed = s.items_of(lead)
    assert len(listed) == items
    assert [s.roles[group[0]].item for group in listed] == list(range(1, items + 1))
    assert s.sentences[listed[-1][-1]].text == last_item
    for group in listed:  # every item knows its lead-in, and the unit of an item includes it
        assert s.lead_in_of(group[0]) == lead
        assert lead in s.unit_of(group[0])
    assert all(s.roles[i].paragraph == 1 for group in listed for i in group)


def test_sil_37_item_two_is_drinking() -> None:
    s = structure("social-insurance-law:37")
    (item,) = [i for i, r in enumerate(s.roles) if r.item == 2]
    assert s.sentences[item].text == "（二）醉酒或者吸毒；"
    assert texts(s, s.unit_of(item)) == ["职工因下列情形之一导致本人在工作中伤亡的，不认定为工伤：", "（二）醉酒或者吸毒；"]


def test_paragraph_after_a_list_is_the_next_paragraph() -> None:
    s = structure("social-insurance-law:30")
    assert [r.paragraph for r in s.roles] == [1, 1, 1, 1, 1, 2, 2]
    s = structure("unemployment-insurance-regulation:14")
    assert s.roles[-1].paragraph == 2 and not s.roles[-1].item


def test_sil_38_lists_its_expenses_under_one_lead_in() -> None:
    s = structure("social-insurance-law:38")
    assert s.roles[0].lead_in
    assert len(s.items_of(0)) >= 8
    assert s.sentences[s.items_of(0)[1][0]].text == "（二）住院伙食补助费；"


@pytest.mark.parametrize(
    ("key", "ranges"),
    [
        ("social-insurance-law:46", [(1, 5), (5, 10), (10, float("inf"))]),
        ("unemployment-insurance-regulation:17", [(1, 5), (5, 10), (10, float("inf"))]),
    ],
)
def test_unemployment_benefit_period_is_a_tiered_rule(key: str, ranges: list[tuple[float, float]]) -> None:
    s = structure(key)
    tiers = s.tiers(0)
    assert tiers == [0, 1, 2]
    assert [(s.roles[i].tier.low, s.roles[i].tier.high) for i in tiers] == ranges
    assert all(s.roles[i].tier.unit == "year" for i in tiers)
    assert s.roles[3].tier is None and s.roles[3].branch_group == (3,)  # 重新就业后… stands alone
    three_years = [i for i in tiers if s.roles[i].tier.contains(3, "year")]
    assert len(three_years) == 1 and ("十二个月" in s.sentences[three_years[0]].text or "12个月" in s.sentences[three_years[0]].text)


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        ("累计缴费满五年不足十年的", Tier("year", 5, 10)),
        ("累计缴费时间10年以上的", Tier("year", 10, float("inf"))),
        ("累计缴费不足十五年的", Tier("year", 0, 15)),
        ("用人单位应当按时足额缴纳", None),
    ],
)
def test_tier_ranges(text: str, tier: Tier | None) -> None:
    assert tier_of(text) == tier


def test_guidance_title_line_is_a_heading_and_steps_know_their_section() -> None:
    intro = structure("guidance-terminate-insured-relationship#intro")
    assert intro.roles[0].heading and intro.sentences[0].text == PASSAGES["guidance-terminate-insured-relationship#intro"].title
    # the intro ends by announcing the steps, which are passages of their own: alone it answers nothing
    assert intro.sentences[-1].text.endswith("take the following steps:") and intro.roles[-1].heading
    assert not any(r.heading for r in intro.roles[1:-1])
    step = structure("guidance-terminate-insured-relationship#step-2")
    assert step.passage.section == "step-2"
    assert step.sentences[0].text.startswith("2. Contact the original insurance")
    assert [s.index for s in step.sentences] == list(range(len(step.sentences)))


def test_every_sentence_has_a_role_and_headings_are_rare() -> None:
    headings = 0
    for passage in CORPUS.passages:
        s = analyse(passage)
        assert len(s.roles) == len(s.sentences)
        headings += sum(r.heading for r in s.roles)
        for i, role in enumerate(s.roles):
            assert i in role.branch_group
            if role.item is not None and s.lead_in_of(i) is None:
                pytest.fail(f"{passage.key}: item {role.item} has no lead-in")
    assert headings == 2  # the guidance repeats its title as a paragraph and announces its steps


def test_the_guidance_legal_basis_introduces_its_unnumbered_lines() -> None:
    """"Legal basis:" was quoted alone: a lead-in followed by lines without (一)…
    numbers was not known as one."""
    basis = structure("guidance-terminate-insured-relationship#legal-basis")
    assert basis.sentences[0].text == "Legal basis:" and basis.roles[0].lead_in
    items = basis.items_of(0)
    assert texts(basis, items[0])[0].startswith("Social Insurance Law of People's Republic of China")
    assert "Article 22" in texts(basis, items[1])[0]
    assert [i for item in items for i in item] == list(range(1, len(basis.sentences)))


def test_a_special_case_and_the_next_step_are_quoted_with_the_rule_they_go_on_from() -> None:
    # 若干规定第六条: 其中，丧失国籍的… then 社会保险经办机构收到申请后，…一次性支付给本人
    s = structure("social-insurance-law-implementing-provisions:6")
    special = next(i for i, t in enumerate(texts(s, range(len(s.sentences)))) if t.startswith("其中，丧失"))
    assert s.roles[special].continues and s.roles[special + 1].continues
    assert not s.roles[special - 1].continues
    unit = texts(s, s.unit_of(special))
    assert unit[0].startswith("个人在达到法定的领取基本养老金条件前离境定居的")
    assert unit[-1].endswith("并将个人账户储存额一次性支付给本人。")
    assert s.unit_of(special - 1) == s.unit_of(special)  # the rule brings its special case along
    # the second paragraph (inheritance) is another rule: not part of the unit
    assert all("继承" not in t for t in unit)


def test_the_outcome_of_an_application_comes_with_the_application() -> None:
    s = structure("social-insurance-law-implementing-provisions:3")
    applies = next(i for i, t in enumerate(texts(s, range(len(s.sentences)))) if t.endswith("书面申请终止职工基本养老保险关系。"))
    assert texts(s, s.unit_of(applies))[-1].endswith("一次性支付给本人。")
    first = structure("social-insurance-law:16")
    assert not any(r.continues for r in first.roles)  # 也可以… is a ；-branch, not a continuation


def test_paragraphs_that_open_with_disjoint_ranges_are_the_tiers_of_one_rule() -> None:
    """SIL art. 16: 累计缴费满十五年的… / 累计缴费不足十五年的… are two paragraphs, not ；-branches."""
    tiers = structure("social-insurance-law:16").paragraph_tiers()
    assert sorted((t.low, t.high) for t, _ in tiers.values()) == [(0, 15), (15, float("inf"))]
    eleven = [members for t, members in tiers.values() if t.contains(11, "year")]
    assert len(eleven) == 1
    s = structure("social-insurance-law:16")
    assert "转入新型农村社会养老保险" in "".join(s.sentences[i].text for i in eleven[0])


@pytest.mark.parametrize("key", ["social-insurance-law-implementing-provisions:3", "social-insurance-law:46", "social-insurance-law:10"])
def test_paragraphs_with_overlapping_or_no_ranges_are_not_tiers(key: str) -> None:
    """IP art. 3's two paragraphs both concern 不足十五年: one case, not two tiers."""
    assert structure(key).paragraph_tiers() == {}
