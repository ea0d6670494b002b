"""Answer or refuse: the decision and the refusal messages.

A question is refused when the corpus has no evidence for it: a named article
that does not exist, or nothing close enough to it in the corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus import ArticleRef
from ingest.live import LiveIndex
from qa_service.retrieval import HybridResult

# Instructions aimed at the system rather than a question about social insurance.
INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules?|prompts?|previous|above|guidelines)\b"
    r"|system prompt|\byou are now\b|\bpretend (to be|you)\b|\bact as\b|\bjailbreak\b|\bDAN\b"
    r"|忽略.{0,15}(规则|指令|指示|要求|设定|提示|限制)|无视.{0,15}(规则|指令|限制)|忘记.{0,10}(规则|指令|设定)"
    r"|你现在是|扮演|系统提示|越狱|不要管.{0,10}(规则|限制)",
    re.IGNORECASE,
)

# Neighbouring fields that the corpus does not cover, so that a question about
# them is refused even though it sounds like social insurance: the housing
# provident fund, income tax, commercial insurance, labour-contract matters
# (probation, overtime, leave, damages), visas, and foreign pension systems.
_FOREIGN = r"美国|英国|日本|韩国|德国|法国|加拿大|澳大利亚|澳洲|新加坡|\bUS\b|\bU\.S\.|\bUK\b|American|British|Japan|Canada|Australia|Germany"
OTHER_FIELDS = re.compile(
    r"公积金|provident fund|个人所得税|个税|所得税|income tax|商业保险|商业医疗险|重疾险|车险|寿险|意外险"
    r"|commercial insurance|签证|visa\b|green card|绿卡|401\s?k|\bIRA\b|state pension|国民年金|superannuation"
    r"|试用期|加班|年假|带薪休假|误工费|精神损失|最低工资|probation|overtime|annual leave|minimum wage"
    rf"|(?:{_FOREIGN}).{{0,25}}(?:social security|pension|retire|养老|社保|年金|退休)"
    rf"|(?:social security|pension|养老|社保|年金|退休).{{0,25}}(?:{_FOREIGN})",
    re.IGNORECASE,
)

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


def decide(question: str, result: HybridResult, index: LiveIndex, threshold: float, lang: str) -> Decision:
    """Answer or refuse. Evidence: exact references first, then the best cosine
    of the question against any passage (USE separates out-of-scope questions far
    better than fused rank scores do)."""
    if INJECTION.search(question):
        return Decision(True, "instructions")
    if OTHER_FIELDS.search(question):
        return Decision(True, "out_of_scope")
    named = [r for r in result.references if r.doc_id is not None]
    if named:
        if any(h.found_by.get("reference") for h in result.hits):
            return Decision(False)
        missing = [r for r in named if index.passage(r.key or "") is None]
        if missing:
            return Decision(True, "no_such_article", {"refs": describe_refs(missing, index, lang)})
    similarity = result.top_similarity.get("use", max(result.top_similarity.values(), default=0.0))
    if not result.hits or similarity < threshold:
        return Decision(True, "out_of_scope")
    return Decision(False)


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
