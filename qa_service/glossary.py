"""A bilingual glossary of the field, for dictionary-based cross-language search.

The guidance is English and most questions are Chinese; BM25 and e5 match
only within a language, and USE's cross-lingual similarity is too weak to rank
the guidance for a Chinese question. Glossing the question's domain terms
into the other language gives those retrievers something to match."""

from __future__ import annotations

import re

# Chinese term -> English words as the guidance (and English questions) use them.
ZH_EN: dict[str, str] = {
    "原参保地": "original insured place",
    "老家": "original place",
    "参保地": "insured place",
    "停保": "stop suspend terminate insurance",
    "停掉": "stop suspend",
    "暂停": "suspend",
    "手续": "formalities procedures",
    "保险关系": "insurance relationship insured relationship",
    "参保关系": "insured relationship",
    "换城市": "job transfer cross-regional employment target place",
    "调动": "job transfer",
    "跨地区": "cross-regional",
    "新城市": "target place",
    "目标地": "target place",
    "留学": "study abroad",
    "出国": "abroad",
    "身份证": "ID card",
    "户口本": "household registration book",
    "申请表": "application form",
    "律师": "lawyer",
    "法律依据": "legal basis",
}

_EN_WORD = re.compile(r"[A-Za-z]+")


MIN_TERMS = 2  # one shared word is not enough evidence (for the guidance, for a glossed query)


_ZH_TERMS = sorted(ZH_EN, key=len, reverse=True)


def gloss_to_english(text: str) -> str:
    """The English words for the field's Chinese terms in `text`, longest term
    first: a term inside a matched one is not counted again (参保地 inside 原参保地
    is one term, not two). Empty unless at least MIN_TERMS terms occur."""
    matched: set[str] = set()
    for term in _ZH_TERMS:
        if term in text:
            matched.add(term)
            text = text.replace(term, "|")
    found = [en for zh, en in ZH_EN.items() if zh in matched]  # in the glossary's order
    return " ".join(found) if len(found) >= MIN_TERMS else ""


# English words of the field -> the statutes' Chinese terms. General vocabulary of
# social insurance (as an English reader of the statutes would put it), not tied
# to any question; longer phrases are matched first, whole words only.
EN_ZH: dict[str, str] = {
    # insurances and benefits
    "social insurance": "社会保险",
    "social security": "社会保险 社会保障",
    "insurance": "保险",
    "insured": "参保 参加 保险",
    "pension": "基本养老保险 养老金 基本养老金",
    "retirement": "退休 法定退休年龄 基本养老金",
    "retire": "退休 法定退休年龄",
    "old-age": "养老保险",
    "medical insurance": "基本医疗保险",
    "health insurance": "基本医疗保险",
    "medical": "医疗 医疗费用",
    "hospital": "医疗机构 住院 医疗费用",
    "doctor": "就医 医疗",
    "treatment": "治疗 医疗费用 就医",
    "medicine": "药品",
    "drug": "药品",
    "pharmacy": "药品经营单位 药店",
    "emergency": "急诊 抢救",
    "work injury": "工伤 工伤保险",
    "work-injury": "工伤 工伤保险",
    "work-related injury": "工伤",
    "injured": "受到 伤害 工伤",
    "injury": "伤害 工伤",
    "hurt": "伤害 工伤",
    "accident": "事故 伤害",
    "occupational disease": "职业病",
    "disability": "伤残 劳动能力鉴定 伤残津贴",
    "disabled": "伤残 丧失劳动能力",
    "work ability": "劳动能力鉴定",
    "unemployment": "失业 失业保险",
    "unemployed": "失业",
    "jobless": "失业",
    "laid off": "失业 非因本人意愿中断就业",
    "dismissed": "解除劳动合同 非因本人意愿中断就业",
    "fired": "解除劳动合同 非因本人意愿中断就业",
    "quit": "本人意愿 中断就业 辞职",
    "resign": "本人意愿 辞职",
    "unemployment benefits": "失业保险金",
    "unemployment benefit": "失业保险金",
    "unemployment payments": "失业保险金",
    "maternity": "生育 生育保险",
    "childbirth": "生育 生育医疗费用",
    "pregnancy": "生育 生育医疗费用",
    "maternity allowance": "生育津贴",
    "maternity leave": "生育津贴 产假",
    "benefits": "待遇",
    "benefit": "待遇",
    "allowance": "津贴 补助金",
    "subsidy": "补助金 补贴",
    "funeral": "丧葬补助金",
    "death": "死亡 丧葬补助金 抚恤金 因工死亡",
    "dies": "死亡 丧葬补助金 抚恤金",
    "died": "死亡 丧葬补助金 抚恤金",
    "survivor": "遗属 抚恤金 供养亲属",
    "dependents": "供养亲属 抚恤金",
    "lump-sum": "一次性",
    "lump sum": "一次性",
    "one-off": "一次性",
    "monthly": "按月",
    # people and bodies
    "employer": "用人单位",
    "employers": "用人单位",
    "company": "用人单位",
    "boss": "用人单位",
    "employee": "职工",
    "employees": "职工",
    "worker": "职工 劳动者",
    "workers": "职工 劳动者",
    "staff": "工作人员 职工",
    "migrant worker": "农民工 进城务工",
    "rural": "农村 农村居民 新型农村社会养老保险",
    "village": "农村",
    "farmer": "农民 农村居民",
    "farmers": "农民 农村居民",
    "land": "被征地农民 土地",
    "urban residents": "城镇居民 城镇居民社会养老保险",
    "residents": "居民",
    "self-employed": "个体工商户 灵活就业人员",
    "freelancer": "灵活就业人员",
    "flexible employment": "灵活就业人员",
    "gig": "灵活就业人员",
    "part-time": "非全日制从业人员",
    "foreigner": "外国人 在中国境内就业",
    "foreigners": "外国人 在中国境内就业",
    "foreign": "外国人",
    "student": "学生 大学生",
    "students": "学生 大学生",
    "children": "未成年人 学生",
    "elderly": "老年人 年满六十周岁",
    "spouse": "配偶",
    "wife": "配偶",
    "husband": "配偶",
    "family": "家属 近亲属",
    "agency": "社会保险经办机构",
    "social insurance agency": "社会保险经办机构",
    "handling agency": "社会保险经办机构",
    "authority": "社会保险行政部门",
    "administrative department": "社会保险行政部门",
    "government": "人民政府",
    "tax": "税务部门 征收",
    "collection agency": "社会保险费征收机构",
    "collecting agency": "社会保险费征收机构",
    "bank": "银行",
    "supervisory committee": "社会保险监督委员会",
    "supervision": "监督",
    "audit": "审计",
    "court": "人民法院 诉讼",
    "lawsuit": "提起诉讼",
    "sue": "提起诉讼",
    "complain": "投诉 举报",
    "complaint": "投诉 举报",
    "report": "举报",
    "appeal": "行政复议 行政诉讼",
    "reconsideration": "行政复议",
    "dispute": "争议 劳动争议",
    # money and contributions
    "contribution": "缴费 缴纳 社会保险费",
    "contributions": "缴费 缴纳 社会保险费",
    "contribute": "缴费 缴纳",
    "pay in": "缴费 缴纳",
    "pay": "缴纳 缴费 支付",
    "pays": "缴纳 缴费 支付",
    "paid": "缴纳 缴费 支付",
    "paying": "缴纳 缴费 支付",
    "paid into": "缴费 缴纳",
    "premium": "社会保险费 缴费",
    "premiums": "社会保险费 缴费",
    "fees": "费用 社会保险费",
    "contribution base": "缴费基数 工资总额",
    "salary": "工资 缴费工资",
    "wage": "工资",
    "wages": "工资",
    "percentage": "比例 费率",
    "rate": "比例 费率",
    "late": "逾期 滞纳金",
    "late fee": "滞纳金",
    "overdue": "逾期 欠缴",
    "arrears": "欠缴 补缴",
    "unpaid": "未缴 欠缴",
    "fine": "罚款",
    "fined": "罚款",
    "penalty": "罚款 处罚 法律责任",
    "punished": "处罚 罚款",
    "fraud": "骗取 欺诈",
    "cheat": "骗取 欺诈 伪造",
    "fake": "伪造 虚假",
    "false": "虚假 伪造",
    "fund": "基金 社会保险基金",
    "funds": "基金 社会保险基金",
    "budget": "预算",
    "interest": "利息",
    "invest": "投资运营",
    "investment": "投资运营",
    "reserve": "储备",
    "subsidies": "补贴 财政补贴",
    "government subsidy": "政府补贴 财政",
    "personal account": "个人账户",
    "individual account": "个人账户",
    "account": "账户",
    "pooling": "统筹 统筹基金",
    "reimburse": "报销 支付 结算",
    "reimbursed": "报销 支付 结算",
    "reimbursement": "报销 支付 结算",
    "covered": "支付 纳入 报销",
    "cover": "支付 纳入 报销",
    "bills": "费用 医疗费用",
    "costs": "费用",
    "cost": "费用",
    "settled directly": "直接结算",
    "settle": "结算",
    "settlement": "结算",
    "advance": "先行支付 垫付",
    "recover": "追偿",
    "refund": "退还 一次性支付",
    "withdraw": "支取 提前支取",
    "take money out": "提前支取 个人账户",
    "inherit": "继承 个人账户",
    "inherited": "继承 个人账户",
    # places, moves, procedures
    "transfer": "转移 转移接续",
    "transferred": "转移 转移接续",
    "move": "转移 跨统筹地区",
    "moving": "转移 跨统筹地区",
    "another city": "跨统筹地区 异地",
    "another province": "跨省 跨统筹地区",
    "different city": "异地 跨统筹地区",
    "provinces": "省 跨省",
    "province": "省",
    "city": "统筹地区",
    "abroad": "境外 出国",
    "overseas": "境外",
    "settle abroad": "出国 定居",
    "hukou": "户籍 户籍所在地",
    "household registration": "户籍 户籍所在地",
    "home province": "户籍所在地",
    "hometown": "户籍所在地",
    "register": "登记 社会保险登记",
    "registration": "登记 社会保险登记",
    "sign up": "登记 参加",
    "enroll": "参加 登记",
    "new job": "就业 用人单位",
    "job": "就业 工作",
    "records": "记录 个人权益记录 缴费记录",
    "record": "记录 个人权益记录",
    "check": "查询",
    "statement": "对账单 告知",
    "free": "免费 不得收取费用",
    "privacy": "个人信息 保密",
    "personal information": "个人信息 保密",
    "documents": "材料 证明",
    "materials": "材料",
    "apply": "申请",
    "application": "申请",
    "days": "日",
    "working days": "工作日",
    "within": "之内 内",
    "years": "年 缴费年限",
    "fifteen years": "累计缴费满十五年",
    "15 years": "累计缴费满十五年",
    "identity": "身份证明",
    "card": "社会保障卡",
    "social security card": "社会保障卡",
    "online": "网上",
    "certificate": "证明 凭证",
    "suspend": "中止 暂停",
    "stop": "停止 终止",
    "terminate": "终止",
    "temporary": "临时",
    "business": "单位 个体工商户",
    "law": "社会保险法",
    "regulation": "条例",
    "rules": "规定 办法",
}

_EN_PHRASES = sorted(EN_ZH, key=len, reverse=True)
_EN_PHRASE_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def gloss_to_chinese(text: str) -> str:
    """The statutes' Chinese terms for the field's English words in `text`, longest
    phrase first (a word inside a matched phrase is not glossed again); empty
    unless at least MIN_TERMS terms occur (one term alone ranked worse on dev.jsonl)."""
    lowered = f" {' '.join(_EN_PHRASE_WORD.findall(text.lower()))} "
    found: list[str] = []
    for phrase in _EN_PHRASES:
        needle = f" {phrase} "
        if needle in lowered:
            found.append(EN_ZH[phrase])
            lowered = lowered.replace(needle, " | ")
    return " ".join(found) if len(found) >= MIN_TERMS else ""
