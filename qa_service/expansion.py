"""Colloquial words -> the statute's own terms, appended to a Chinese query.

People write 社保局, 退休金, 公司, 换城市; the statutes say 社会保险经办机构,
基本养老金, 用人单位, 跨统筹地区. A small domain thesaurus (general vocabulary
of the field, not tied to any question) bridges the two for BM25, which only
matches words that are literally there."""

from __future__ import annotations

THESAURUS: dict[str, str] = {
    "社保局": "社会保险经办机构",
    "社保中心": "社会保险经办机构",
    "社保部门": "社会保险经办机构 社会保险行政部门",
    "社保": "社会保险",
    "医保": "基本医疗保险",
    "养老金": "基本养老金 养老保险待遇",
    "退休金": "基本养老金 养老保险待遇",
    "退休工资": "基本养老金",
    "失业金": "失业保险金",
    "公司": "用人单位",
    "单位": "用人单位",
    "老板": "用人单位",
    "换城市": "跨统筹地区 就业 转移",
    "换工作": "就业 转移接续",
    "外地": "跨统筹地区",
    "外省": "跨省 跨统筹地区",
    "异地": "跨统筹地区 异地",
    "调到": "跨统筹地区 就业",
    "生孩子": "生育 生育医疗费用 生育津贴",
    "怀孕": "生育 生育医疗费用",
    "产假": "生育津贴",
    "看病": "医疗费用 就医",
    "住院": "医疗费用 住院",
    "交了": "缴费 缴纳",
    "交钱": "缴纳 缴费",
    "交社保": "缴纳 社会保险费",
    "断交": "中断 缴费",
    "断缴": "中断 缴费",
    "停保": "中断 终止 参保",
    "年限": "缴费年限 累计",
    "退休": "法定退休年龄",
    "农村": "新型农村社会养老保险 农村居民",
    "农民工": "农民工 进城务工",
    "打工": "进城务工 就业",
    "个体户": "个体工商户",
    "自由职业": "灵活就业人员",
    "打零工": "非全日制从业人员 灵活就业人员",
    "兼职": "非全日制从业人员",
    "去世": "死亡 丧葬补助金 抚恤金",
    "骗保": "骗取 社会保险基金",
    "转过去": "转移接续",
    "转关系": "转移接续",
    "领多久": "领取 期限",
    "报销": "支付 结算 医疗费用",
    "辞职": "本人意愿 中断就业",
    "被辞退": "非因本人意愿中断就业 解除劳动合同",
    "开除": "解除劳动合同",
    "受伤": "工伤",
    "职业病": "职业病 工伤",
    "查询": "查询 个人权益记录",
}


def expand(text: str) -> str:
    """The query followed by the statute terms of every colloquial word it contains."""
    extra = [terms for word, terms in THESAURUS.items() if word in text]
    return f"{text} {' '.join(extra)}" if extra else text
