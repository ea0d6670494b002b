/* Text helpers without the DOM: Chinese numerals, article labels, citation
 * text as agents paste it, passage keys, and offsets in the service's code points. */

import { SECTION_TITLES } from "./i18n.js";
import { state } from "./state.js";

const ZH_DIGITS = "零一二三四五六七八九";

/** 19 → 十九, 58 → 五十八, 105 → 一百零五 (article numbers as the statutes write them). */
export function toChinese(n) {
  n = Number(n);
  if (!Number.isInteger(n) || n < 0 || n > 9999) return String(n);
  if (n < 10) return ZH_DIGITS[n];
  if (n < 20) return "十" + (n % 10 ? ZH_DIGITS[n % 10] : "");
  if (n < 100) return ZH_DIGITS[Math.floor(n / 10)] + "十" + (n % 10 ? ZH_DIGITS[n % 10] : "");
  if (n < 1000) {
    const rest = n % 100;
    const head = ZH_DIGITS[Math.floor(n / 100)] + "百";
    if (rest === 0) return head;
    if (rest < 10) return head + "零" + ZH_DIGITS[rest];
    return head + ZH_DIGITS[Math.floor(rest / 10)] + "十" + (rest % 10 ? ZH_DIGITS[rest % 10] : "");
  }
  const rest = n % 1000;
  const head = ZH_DIGITS[Math.floor(n / 1000)] + "千";
  if (rest === 0) return head;
  return head + (rest < 100 ? "零" : "") + (rest < 20 && rest >= 10 ? "一" : "") + toChinese(rest);
}

/** 五十八 → 58, 一百零五 → 105; NaN when not a Chinese numeral. */
export function fromChinese(text) {
  const digit = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
  const unit = { 十: 10, 百: 100, 千: 1000 };
  let total = 0;
  let current = 0;
  for (const ch of text) {
    if (ch in digit) current = digit[ch];
    else if (ch in unit) {
      total += (current || 1) * unit[ch];
      current = 0;
    } else return NaN;
  }
  return total + current;
}

/** What the user typed in the number box → the path segment of /v1/articles. */
export function parseArticleInput(raw) {
  const text = raw.trim().replace(/\s+/g, "");
  let m = text.match(/^(?:第)?(\d+)(?:条)?$/) || text.match(/^(?:art(?:icle)?\.?)(\d+)$/i);
  if (m) return String(parseInt(m[1], 10));
  m = text.match(/^(?:第)?([零〇一二两三四五六七八九十百千]+)(?:条)?$/);
  if (m) {
    const n = fromChinese(m[1]);
    if (Number.isInteger(n) && n > 0) return String(n);
  }
  return raw.trim().toLowerCase();
}

export function sectionTitle(section, lang) {
  if (!section) return "";
  if (section.startsWith("step-")) {
    const n = section.slice(5);
    return lang === "zh" ? `第${n}步` : `Step ${n}`;
  }
  return SECTION_TITLES[lang][section] || section;
}

/** 第十九条 / Article 19 / Step 2 */
export function articleLabel(item, lang = state.lang) {
  if (item.article !== null && item.article !== undefined) {
    return lang === "zh" ? `第${toChinese(item.article)}条` : `Article ${item.article}`;
  }
  return sectionTitle(item.section, lang);
}

export function docTitle(item, lang = state.lang) {
  return lang === "zh" ? item.title : item.title_en || item.title;
}

/** 《…》 around a title; inner 《》 become 〈〉 as Chinese typography nests them. */
export function bookTitle(title) {
  return `《${title.replace(/《/g, "〈").replace(/》/g, "〉")}》`;
}

/** The citation as an agent pastes it: 《中华人民共和国社会保险法》第十九条：… */
export function citationText(item, quote, lang = state.lang) {
  if (lang === "zh") {
    const where = item.article !== null && item.article !== undefined
      ? `第${toChinese(item.article)}条`
      : `（${sectionTitle(item.section, "zh")}）`;
    return `${bookTitle(item.title)}${where}：${quote}`;
  }
  return `${item.title_en || item.title}, ${articleLabel(item, "en")}: ${quote}`;
}

/** "doc:58" or "doc#step-2" → [doc, "58" | "step-2"]. */
export function splitKey(key) {
  const hash = key.indexOf("#");
  if (hash >= 0) return [key.slice(0, hash), key.slice(hash + 1)];
  const colon = key.lastIndexOf(":");
  return [key.slice(0, colon), key.slice(colon + 1)];
}

/** The service counts offsets in code points (Python str); JS strings in UTF-16 units. */
export function codeUnitOffset(text, codePoints) {
  if (!/[\uD800-\uDFFF]/.test(text)) return codePoints;
  let units = 0;
  let seen = 0;
  for (const ch of text) {
    if (seen === codePoints) break;
    units += ch.length;
    seen += 1;
  }
  return units;
}

/** Article heading such as "第十九条 " at the start of the text. */
export function headingLength(text) {
  const m = text.match(/^第[零〇一二两三四五六七八九十百千\d]+条[ \u3000]*/);
  return m ? m[0].length : 0;
}

export const refOf = (item) => (item.article !== null && item.article !== undefined ? item.article : item.section);
