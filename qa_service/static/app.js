/* Social-insurance QA page: plain JS, no framework, no build step.
 *
 * Every piece of text from the API (answers, titles, article text, error
 * messages) reaches the DOM through text nodes (textContent / append(string)),
 * never through innerHTML, so nothing the service returns is parsed as markup.
 */
"use strict";

(() => {
  // ------------------------------------------------------------------ strings

  const EXAMPLES = [
    { q: "我从武汉调到西安上班，原来交的养老保险还有用吗？", lang: "zh" },
    { q: "失业保险金最长能领多久？", lang: "zh" },
    { q: "工伤保险费由谁缴纳？", lang: "zh" },
    { q: "Does my pension history follow me to another province?", lang: "en" },
    { q: "Who pays work-injury insurance premiums?", lang: "en" },
  ];

  const SECTION_TITLES = {
    zh: { intro: "引言", note: "注意事项", "legal-basis": "法律依据" },
    en: { intro: "Introduction", note: "Note", "legal-basis": "Legal basis" },
  };

  const T = {
    zh: {
      pageTitle: "社会保险法问答",
      skip: "跳到主要内容",
      title: "社会保险法问答",
      subtitle: "依据法律法规原文作答，每句话都注明出处",
      tabAsk: "提问",
      tabLookup: "条文检索（客服）",
      questionLabel: "您的问题",
      questionPlaceholder: "用中文或英文提问，例如：换城市工作后养老保险怎么办？",
      askButton: "提问",
      askBusy: "正在查找…",
      askHint: "按 Enter 提交，Shift+Enter 换行。",
      examplesTitle: "示例问题",
      searchTitle: "检索条文",
      searchLabel: "关键词或条文引用",
      searchPlaceholder: "例如：失业保险金 期限，或 社保法第58条",
      docLabel: "文件",
      chapterLabel: "章",
      topkLabel: "结果数",
      searchButton: "检索",
      searchBusy: "检索中…",
      openTitle: "按条号打开",
      numberLabel: "条号",
      numberPlaceholder: "例如 58、第五十八条或 step-2",
      openButton: "打开",
      openBusy: "载入中…",
      disclaimer: "答案摘自法律法规原文，仅供参考，不构成法律意见；具体办理请咨询当地社会保险经办机构。",
      allDocs: "全部文件",
      allChapters: "全部章节",
      noChapters: "（本文件不分章）",
      loadingAnswer: "正在检索法规原文并组织回答…",
      loadingSearch: "正在检索…",
      loadingArticle: "正在载入条文…",
      answerTitle: "回答",
      sourcesTitle: "引用的条文",
      seeAlsoTitle: "相关条文",
      seeAlsoRefused: "您可以参考以下相关条文",
      refusedTitle: "无法依据现有法规回答",
      copy: "复制引用",
      copyN: (n) => `复制引用 [${n}]`,
      copyArticle: "复制条文",
      copied: "已复制",
      copyFailed: "复制失败",
      marker: (n) => `引用 ${n}`,
      articleLoading: "正在载入条文全文…",
      articleFailed: "未能载入条文全文，以下仅显示引用原文。",
      quoteNotFound: "引用原文未能在条文中定位：",
      renderingsTitle: "参考译文（本站自译，非官方译文；以引用的原文为准）",
      renderingOf: (n) => `引用 [${n}] 的参考译文`,
      refersTo: "本条引用的条文",
      referredBy: "引用本条的条文",
      none: "无",
      open: "打开",
      results: (n) => `找到 ${n} 条结果`,
      resultsTitle: "检索结果",
      noResults: "没有找到匹配的条文，请换个说法或放宽筛选条件。",
      score: "得分",
      foundBy: "命中",
      chapter: "章节",
      meta: (resp) => `${resp.citations.length} 处引用 · 用时 ${formatMs(resp.took_ms)} · ${resp.mode === "llm" ? "大模型生成" : "原文摘录"}`,
      versions: (c, i) => `语料版本 ${c} · 索引版本 ${i}`,
      needQuestion: "请先输入问题。",
      needQuery: "请输入关键词或条文引用。",
      needDoc: "请选择文件。",
      needNumber: "请输入条号，例如 58。",
      errNetworkTitle: "无法连接到服务",
      errNetwork: "请检查网络连接，或稍后再试。",
      errServerTitle: "服务暂时不可用",
      errServer: (status) => `服务器返回 HTTP ${status}，请稍后再试。`,
      errRejectedTitle: "请求未被接受",
      errBusyTitle: "请求过于频繁",
      errBusy: (seconds) => (seconds ? `请在 ${seconds} 秒后重试。` : "请稍后重试。"),
      docsFailed: "无法载入文件列表。",
      retry: "重试",
      kind: { law: "法律", "administrative regulation": "行政法规", "departmental rule": "部门规章", "normative document": "规范性文件", guidance: "办事指南" },
    },
    en: {
      pageTitle: "Social Insurance QA",
      skip: "Skip to main content",
      title: "Social Insurance QA",
      subtitle: "Answers from the text of Chinese social-insurance law, every sentence cited",
      tabAsk: "Ask",
      tabLookup: "Article lookup (agents)",
      questionLabel: "Your question",
      questionPlaceholder: "Ask in Chinese or English, e.g. What happens to my pension if I move to another city?",
      askButton: "Ask",
      askBusy: "Searching…",
      askHint: "Press Enter to submit, Shift+Enter for a new line.",
      examplesTitle: "Examples",
      searchTitle: "Search the articles",
      searchLabel: "Keywords or an article reference",
      searchPlaceholder: "e.g. unemployment benefit duration, or 社保法第58条",
      docLabel: "Document",
      chapterLabel: "Chapter",
      topkLabel: "Results",
      searchButton: "Search",
      searchBusy: "Searching…",
      openTitle: "Open an article by number",
      numberLabel: "Article number",
      numberPlaceholder: "e.g. 58, 第五十八条 or step-2",
      openButton: "Open",
      openBusy: "Loading…",
      disclaimer: "Answers quote the laws and regulations verbatim. They are for information only and are not legal advice; your local social insurance agency can help with your case.",
      allDocs: "All documents",
      allChapters: "All chapters",
      noChapters: "(no chapters)",
      loadingAnswer: "Searching the legal texts and composing an answer…",
      loadingSearch: "Searching…",
      loadingArticle: "Loading the article…",
      answerTitle: "Answer",
      sourcesTitle: "Cited articles",
      seeAlsoTitle: "See also",
      seeAlsoRefused: "These articles may still help",
      refusedTitle: "Not answerable from these laws",
      copy: "Copy citation",
      copyN: (n) => `Copy citation [${n}]`,
      copyArticle: "Copy article",
      copied: "Copied",
      copyFailed: "Copy failed",
      marker: (n) => `Citation ${n}`,
      articleLoading: "Loading the full article…",
      articleFailed: "Could not load the full article; showing the quoted text only.",
      quoteNotFound: "Quoted text not located in the article:",
      renderingsTitle: "Unofficial translation by this service — the quoted original is the authoritative text",
      renderingOf: (n) => `Unofficial translation of citation [${n}]`,
      refersTo: "Refers to",
      referredBy: "Referred to by",
      none: "None",
      open: "Open",
      results: (n) => `${n} result${n === 1 ? "" : "s"}`,
      resultsTitle: "Search results",
      noResults: "No matching articles. Try other words or fewer filters.",
      score: "score",
      foundBy: "found by",
      chapter: "Chapter",
      meta: (resp) => `${resp.citations.length} citation${resp.citations.length === 1 ? "" : "s"} · ${formatMs(resp.took_ms)} · ${resp.mode === "llm" ? "LLM answer" : "extractive"}`,
      versions: (c, i) => `Corpus ${c} · index ${i}`,
      needQuestion: "Please type a question first.",
      needQuery: "Please type keywords or an article reference.",
      needDoc: "Please choose a document.",
      needNumber: "Please type an article number, e.g. 58.",
      errNetworkTitle: "Cannot reach the service",
      errNetwork: "Check your connection or try again in a moment.",
      errServerTitle: "The service is unavailable right now",
      errServer: (status) => `The server answered HTTP ${status}. Please try again in a moment.`,
      errRejectedTitle: "The request was not accepted",
      errBusyTitle: "Too many requests",
      errBusy: (seconds) => (seconds ? `Please try again in ${seconds} s.` : "Please try again in a moment."),
      docsFailed: "Could not load the list of documents.",
      retry: "Retry",
      kind: { law: "Law", "administrative regulation": "Administrative regulation", "departmental rule": "Departmental rule", "normative document": "Normative document", guidance: "Guidance" },
    },
  };

  // ------------------------------------------------------------------ helpers

  const $ = (id) => document.getElementById(id);

  /** Build an element; string children become text nodes (never parsed as HTML). */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === "class") el.className = value;
        else if (key === "text") el.textContent = value;
        else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
        else el.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }

  const t = (key, ...args) => {
    const value = T[state.lang][key];
    return typeof value === "function" ? value(...args) : value;
  };

  function formatMs(ms) {
    return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
  }

  const ZH_DIGITS = "零一二三四五六七八九";

  /** 19 → 十九, 58 → 五十八, 105 → 一百零五 (article numbers as the statutes write them). */
  function toChinese(n) {
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
  function fromChinese(text) {
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
  function parseArticleInput(raw) {
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

  function sectionTitle(section, lang) {
    if (!section) return "";
    if (section.startsWith("step-")) {
      const n = section.slice(5);
      return lang === "zh" ? `第${n}步` : `Step ${n}`;
    }
    return SECTION_TITLES[lang][section] || section;
  }

  /** 第十九条 / Article 19 / Step 2 */
  function articleLabel(item, lang = state.lang) {
    if (item.article !== null && item.article !== undefined) {
      return lang === "zh" ? `第${toChinese(item.article)}条` : `Article ${item.article}`;
    }
    return sectionTitle(item.section, lang);
  }

  function docTitle(item, lang = state.lang) {
    return lang === "zh" ? item.title : item.title_en || item.title;
  }

  /** 《…》 around a title; inner 《》 become 〈〉 as Chinese typography nests them. */
  function bookTitle(title) {
    return `《${title.replace(/《/g, "〈").replace(/》/g, "〉")}》`;
  }

  /** The citation as an agent pastes it: 《中华人民共和国社会保险法》第十九条：… */
  function citationText(item, quote, lang = state.lang) {
    if (lang === "zh") {
      const where = item.article !== null && item.article !== undefined
        ? `第${toChinese(item.article)}条`
        : `（${sectionTitle(item.section, "zh")}）`;
      return `${bookTitle(item.title)}${where}：${quote}`;
    }
    return `${item.title_en || item.title}, ${articleLabel(item, "en")}: ${quote}`;
  }

  /** "doc:58" or "doc#step-2" → [doc, "58" | "step-2"]. */
  function splitKey(key) {
    const hash = key.indexOf("#");
    if (hash >= 0) return [key.slice(0, hash), key.slice(hash + 1)];
    const colon = key.lastIndexOf(":");
    return [key.slice(0, colon), key.slice(colon + 1)];
  }

  /** The service counts offsets in code points (Python str); JS strings in UTF-16 units. */
  function codeUnitOffset(text, codePoints) {
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
  function headingLength(text) {
    const m = text.match(/^第[零〇一二两三四五六七八九十百千\d]+条[ \u3000]*/);
    return m ? m[0].length : 0;
  }

  // ------------------------------------------------------------------ API

  class ApiError extends Error {
    constructor(kind, status, message, retryAfter = null) {
      super(message);
      this.kind = kind; // "network" | "server" | "rejected" | "busy" (429)
      this.status = status;
      this.retryAfter = retryAfter;
    }
  }

  async function api(path, { method = "GET", body, signal } = {}) {
    let response;
    try {
      response = await fetch(path, {
        method,
        signal,
        headers: body === undefined ? { Accept: "application/json" } : { "Content-Type": "application/json", Accept: "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw new ApiError("network", 0, String((err && err.message) || err));
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (response.ok && data) return data;
    const message = data && typeof data.message === "string" ? data.message : response.statusText || "";
    if (response.ok || response.status >= 500) throw new ApiError("server", response.status, message);
    if (response.status === 429) {
      const retry = parseInt(response.headers.get("Retry-After") || "", 10);
      throw new ApiError("busy", 429, message, Number.isFinite(retry) ? retry : null);
    }
    throw new ApiError("rejected", response.status, message);
  }

  const articleCache = new Map();

  function articlePath(docId, ref) {
    return `/v1/articles/${encodeURIComponent(docId)}/${encodeURIComponent(String(ref))}`;
  }

  /** Cached GET /v1/articles/{doc}/{n}; failures are not cached. */
  function fetchArticle(docId, ref) {
    const path = articlePath(docId, ref);
    if (!articleCache.has(path)) {
      const promise = api(path).catch((err) => {
        articleCache.delete(path);
        throw err;
      });
      articleCache.set(path, promise);
    }
    return articleCache.get(path);
  }

  const refOf = (item) => (item.article !== null && item.article !== undefined ? item.article : item.section);

  // ------------------------------------------------------------------ state

  function initialLang() {
    const param = new URLSearchParams(location.search).get("lang");
    if (param === "zh" || param === "en") return param;
    try {
      const saved = localStorage.getItem("siqa-lang");
      if (saved === "zh" || saved === "en") return saved;
    } catch (_) { /* storage may be disabled */ }
    const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "zh"];
    return String(langs[0]).toLowerCase().startsWith("zh") ? "zh" : "en";
  }

  const state = {
    lang: "zh",
    docs: null, // DocumentsResponse
    ask: null, // { kind: "answer", response } | { kind: "error", error } | { kind: "local", message }
    search: null, // { kind: "results", response } | { kind: "error", error } | { kind: "local", message }
    article: null, // { kind: "article", article } | { kind: "error", error } | { kind: "local", message }
  };

  // ------------------------------------------------------------------ generic UI pieces

  function setBusy(button, busy, busyKey, idleKey) {
    button.classList.toggle("is-busy", busy);
    button.setAttribute("aria-busy", busy ? "true" : "false");
    button.querySelector(".btn-label").textContent = t(busy ? busyKey : idleKey);
  }

  function errorBox(error, lead = null) {
    let title;
    let detail;
    if (error.kind === "network") {
      title = t("errNetworkTitle");
      detail = t("errNetwork");
    } else if (error.kind === "server") {
      title = t("errServerTitle");
      detail = t("errServer", error.status);
    } else if (error.kind === "busy") {
      title = t("errBusyTitle");
      detail = t("errBusy", error.retryAfter);
    } else {
      title = t("errRejectedTitle");
      detail = null;
    }
    return h("div", { class: `alert alert-error alert-${error.kind}`, role: "alert", "data-kind": error.kind },
      h("p", { class: "alert-title" }, lead ? `${lead} ${title}` : title),
      detail ? h("p", { class: "alert-body" }, detail) : null,
      error.message ? h("p", { class: "alert-message" }, h("code", null, error.message)) : null);
  }

  function noticeBox(message) {
    return h("div", { class: "alert alert-info", role: "alert" }, h("p", { class: "alert-title" }, message));
  }

  function loadingBox(message) {
    return h("div", { class: "loading" },
      h("span", { class: "spinner spinner-dark", "aria-hidden": "true" }),
      h("span", null, message),
      h("div", { class: "skeleton", "aria-hidden": "true" }, h("span"), h("span"), h("span")));
  }

  async function copyText(text) {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        return true;
      }
    } catch (_) { /* fall back below */ }
    const area = h("textarea", { class: "offscreen", readonly: true, "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (_) {
      ok = false;
    }
    area.remove();
    return ok;
  }

  function copyButton(labelText, getText, extraClass = "") {
    const label = h("span", { class: "btn-label" }, labelText);
    const svg = svgEl("svg", { class: "icon", viewBox: "0 0 20 20", "aria-hidden": "true", focusable: "false" });
    const button = h("button", { type: "button", class: `btn btn-ghost btn-small copy-btn ${extraClass}`.trim() }, svg, label);
    svg.append(svgEl("rect", { x: "6.5", y: "6.5", width: "10", height: "11", rx: "2" }), svgEl("path", { d: "M4 13.5V4.5a2 2 0 0 1 2-2h7" }));
    let timer = null;
    button.addEventListener("click", async () => {
      const text = getText();
      const ok = await copyText(text);
      button.classList.toggle("is-done", ok);
      label.textContent = ok ? t("copied") : t("copyFailed");
      clearTimeout(timer);
      timer = setTimeout(() => {
        button.classList.remove("is-done");
        label.textContent = labelText;
      }, 2000);
    });
    button.dataset.copy = "";
    return button;
  }

  function svgEl(tag, attrs) {
    const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    return el;
  }

  function sourceHeader(item, { level = "h3", markers = [] } = {}) {
    const title = docTitle(item);
    const zhTitleLang = state.lang === "zh" || !item.title_en ? "zh-CN" : "en";
    return h("header", { class: "source-head" },
      markers.length ? h("span", { class: "marker-badges" }, markers.map((n) => h("span", { class: "marker-badge", "aria-label": t("marker", n) }, String(n)))) : null,
      h("div", { class: "source-titles" },
        h(level, { class: "source-title" },
          h("span", { class: "doc-title", lang: zhTitleLang }, title),
          h("span", { class: "article-label" }, articleLabel(item))),
        h("p", { class: "source-meta" },
          item.chapter ? h("span", { class: "chapter", lang: "zh-CN" }, item.chapter) : null,
          state.lang === "en" && item.title_en && item.title !== item.title_en ? h("span", { class: "orig-title", lang: "zh-CN" }, item.title) : null)));
  }

  /** Article text, one <p> per paragraph, the quoted ranges (code units) wrapped in <mark>. */
  function articleText(text, ranges = []) {
    const box = h("div", { class: "article-text", lang: /[\u4e00-\u9fff]/.test(text) ? "zh-CN" : "en" });
    // segments covering the text: heading, plain and marked stretches
    const segments = [];
    const head = headingLength(text);
    let pos = 0;
    const plain = (to) => {
      if (pos < head && to > pos) {
        segments.push({ start: pos, end: Math.min(head, to), kind: "head" });
        pos = Math.min(head, to);
      }
      if (to > pos) segments.push({ start: pos, end: to, kind: "text" });
      pos = Math.max(pos, to);
    };
    for (const range of ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start)) {
      const start = Math.max(range.start, pos);
      if (start >= range.end) continue;
      plain(start);
      segments.push({ start, end: range.end, kind: "mark", id: range.id, marker: range.marker });
      pos = range.end;
    }
    plain(text.length);
    // paragraphs; a mark across a paragraph break is split, the id stays on its first part
    for (const para of text.matchAll(/[^\n]+/g)) {
      const from = para.index;
      const to = from + para[0].length;
      const p = h("p");
      for (const seg of segments) {
        if (seg.end <= from || seg.start >= to) continue;
        const piece = text.slice(Math.max(seg.start, from), Math.min(seg.end, to));
        if (seg.kind === "head") p.append(h("strong", { class: "article-heading" }, piece));
        else if (seg.kind === "text") p.append(piece);
        else {
          const first = seg.start >= from;
          const last = seg.end <= to;
          p.append(h("mark", {
            id: first && seg.id ? seg.id : null, tabindex: first && seg.id ? "-1" : null, "data-marker": seg.marker || null,
          }, piece));
          if (last && seg.marker) p.append(h("sup", { class: "mark-marker", "aria-hidden": "true" }, String(seg.marker)));
        }
      }
      if (p.textContent.trim()) box.append(p);
    }
    return box;
  }

  function articleLinks(article) {
    const group = (titleKey, links, cls) => h("div", { class: `link-group ${cls}` },
      h("h4", { class: "link-title" }, t(titleKey)),
      links.length
        ? h("ul", { class: "link-list" }, links.map((link) => {
          const [docId, ref] = splitKey(link.key);
          const doc = state.docs && state.docs.documents.find((d) => d.doc_id === docId);
          const title = doc ? docTitle(doc) : link.title;
          return h("li", null, h("button", {
            type: "button", class: "link-btn", "data-key": link.key,
            onclick: () => openArticle(docId, ref, { syncForm: true }),
          }, h("span", { lang: state.lang === "zh" ? "zh-CN" : null }, title), " ", h("span", { class: "article-label" }, articleLabel(link))));
        }))
        : h("p", { class: "muted" }, t("none")));
    return h("div", { class: "article-links" },
      group("refersTo", article.refers_to, "refers-to"),
      group("referredBy", article.referred_by, "referred-by"));
  }

  // ------------------------------------------------------------------ Ask panel

  let askController = null;

  async function submitQuestion(question) {
    const text = question.trim();
    const status = $("ask-status");
    if (!text) {
      state.ask = { kind: "local", message: "needQuestion" };
      renderAsk();
      $("question").focus();
      return;
    }
    if (askController) askController.abort();
    const controller = new AbortController();
    askController = controller;
    const button = $("ask-button");
    setBusy(button, true, "askBusy", "askButton");
    const result = $("ask-result");
    result.setAttribute("aria-busy", "true");
    result.replaceChildren(loadingBox(t("loadingAnswer")));
    status.textContent = t("loadingAnswer");
    try {
      const response = await api("/v1/ask", { method: "POST", body: { question }, signal: controller.signal });
      state.ask = { kind: "answer", response };
      setVersions(response.corpus_version, response.index_version);
    } catch (err) {
      if (err && err.name === "AbortError") return;
      state.ask = { kind: "error", error: err instanceof ApiError ? err : new ApiError("network", 0, String(err)) };
    } finally {
      if (askController === controller) {
        askController = null;
        setBusy(button, false, "askBusy", "askButton");
        result.removeAttribute("aria-busy");
        status.textContent = "";
      }
    }
    if (askController !== null) return; // a newer question is on its way
    // The interface follows the language of the question.
    const lang = state.ask.kind === "answer" ? state.ask.response.lang : null;
    if ((lang === "zh" || lang === "en") && lang !== state.lang) setLang(lang, { persist: false });
    else renderAsk();
    status.textContent = state.ask.kind === "answer"
      ? (state.ask.response.refused ? t("refusedTitle") : `${t("answerTitle")} · ${t("meta", state.ask.response)}`)
      : (result.querySelector(".alert-title") || {}).textContent || "";
  }

  function renderAsk() {
    const result = $("ask-result");
    const current = state.ask;
    if (!current) {
      result.replaceChildren();
      return;
    }
    if (current.kind === "error") {
      result.replaceChildren(errorBox(current.error));
      return;
    }
    if (current.kind === "local") {
      result.replaceChildren(noticeBox(t(current.message)));
      return;
    }
    const response = current.response;
    result.replaceChildren(response.refused ? renderRefusal(response) : renderAnswer(response));
  }

  // Only the numbers of the response's citations are markers: "[2009]" in a
  // document title (State Council General Office [2009] No. 66) stays text.
  function answerParagraphs(answer, citations) {
    const markers = new Set(citations.map((c) => String(c.marker)));
    return answer.split(/\n+/).filter((line) => line.trim()).map((line) => {
      const p = h("p");
      let last = 0;
      for (const m of line.matchAll(/\[(\d+)\]/g)) {
        if (!markers.has(m[1])) continue;
        p.append(line.slice(last, m.index));
        const n = m[1];
        p.append(h("a", {
          class: "marker", href: `#cite-${n}`, "data-marker": n, "aria-label": t("marker", n),
          onclick: (event) => {
            event.preventDefault();
            focusCitation(n);
          },
        }, n));
        last = m.index + m[0].length;
      }
      p.append(line.slice(last));
      return p;
    });
  }

  function focusCitation(n) {
    const target = document.getElementById(`cite-${n}`);
    if (!target) return;
    target.scrollIntoView({ behavior: "smooth", block: "center" });
    target.focus({ preventScroll: true });
    target.classList.remove("flash");
    void target.offsetWidth; // restart the animation
    target.classList.add("flash");
  }

  // A partial answer: one line, in the asker's language, naming the part the laws here do not cover.
  function partialNote(response) {
    if (!response.partial || !response.uncovered) return null;
    const en = response.lang === "en";
    return h("p", { class: "partial-note", role: "note", lang: en ? "en" : "zh-CN" }, en
      ? `This answer covers only the social-insurance part of your question: the laws this service answers from do not cover ${response.uncovered}.`
      : `本回答只涉及问题中社会保险的部分：本服务所依据的法律法规不涉及${response.uncovered}。`);
  }

  function renderAnswer(response) {
    const frag = document.createDocumentFragment();
    frag.append(h("section", { class: "answer card", id: "answer", "aria-labelledby": "answer-title" },
      h("h2", { class: "section-title", id: "answer-title" }, t("answerTitle")),
      h("div", { class: "answer-text", lang: response.lang === "zh" ? "zh-CN" : "en" }, answerParagraphs(response.answer, response.citations)),
      partialNote(response),
      renderingsBlock(response),
      h("p", { class: "answer-meta muted" }, t("meta", response))));

    // one card per cited article; several quotes of one article share it
    const groups = new Map();
    for (const c of response.citations) {
      if (!groups.has(c.key)) groups.set(c.key, []);
      groups.get(c.key).push(c);
    }
    if (groups.size) {
      frag.append(h("h2", { class: "section-title sources-title" }, t("sourcesTitle")));
      const list = h("ol", { class: "citations" });
      for (const cites of groups.values()) list.append(citationCard(cites));
      frag.append(list);
    }
    if (response.see_also.length) frag.append(seeAlsoSection(response.see_also, t("seeAlsoTitle")));
    return frag;
  }

  /** The project's renderings of the quotes into the asker's language, beside the
   * answer: marked unofficial, the verbatim quote above stays authoritative. */
  function renderingsBlock(response) {
    const rendered = response.citations.filter((c) => c.rendering);
    if (!rendered.length) return null;
    const lang = rendered[0].rendering.lang === "zh" ? "zh-CN" : "en";
    return h("section", { class: "renderings", "aria-label": t("renderingsTitle") },
      h("p", { class: "muted small rendering-note" }, t("renderingsTitle")),
      h("ol", { class: "rendering-list" }, rendered.map((c) =>
        h("li", { class: "rendering", "data-marker": String(c.marker), lang, "aria-label": t("renderingOf", c.marker) },
          h("span", { class: "rendering-marker" }, `[${c.marker}]`), " ", c.rendering.text))));
  }

  function citationCard(cites) {
    const first = cites[0];
    const body = h("div", { class: "cite-body" });
    const quotesOnly = (note) => {
      body.replaceChildren(
        note ? h("p", { class: "muted small" }, note) : null,
        ...cites.map((c) => h("blockquote", { class: "quote", id: `cite-${c.marker}`, tabindex: "-1", lang: "zh-CN" },
          h("mark", null, c.quote))));
    };
    quotesOnly(null);
    body.append(h("p", { class: "muted small loading-inline" }, h("span", { class: "spinner spinner-dark", "aria-hidden": "true" }), t("articleLoading")));

    fetchArticle(first.doc_id, refOf(first)).then((article) => {
      const ranges = [];
      const lost = [];
      for (const c of cites) {
        let start = codeUnitOffset(article.text, c.start - article.start);
        let end = codeUnitOffset(article.text, c.end - article.start);
        if (article.text.slice(start, end) !== c.quote) {
          start = article.text.indexOf(c.quote);
          end = start + c.quote.length;
        }
        if (start < 0 || c.start < article.start) lost.push(c);
        else ranges.push({ start, end, id: `cite-${c.marker}`, marker: c.marker });
      }
      body.replaceChildren(articleText(article.text, ranges),
        ...lost.map((c) => h("div", { class: "quote-lost" }, h("p", { class: "muted small" }, t("quoteNotFound")),
          h("blockquote", { class: "quote", id: `cite-${c.marker}`, tabindex: "-1", lang: "zh-CN" }, h("mark", null, c.quote)))));
    }, () => quotesOnly(t("articleFailed")));

    const renderings = cites.filter((c) => c.rendering).map((c) =>
      h("p", { class: "rendering card-rendering", "data-marker": String(c.marker), lang: c.rendering.lang === "zh" ? "zh-CN" : "en" },
        h("span", { class: "rendering-marker" }, `[${c.marker}]`), " ", c.rendering.text));
    return h("li", { class: "card cite-card", "data-key": first.key, "data-markers": cites.map((c) => c.marker).join(" ") },
      sourceHeader(first, { markers: cites.map((c) => c.marker) }),
      body,
      renderings.length ? h("div", { class: "cite-renderings" }, h("p", { class: "muted small rendering-note" }, t("renderingsTitle")), ...renderings) : null,
      h("div", { class: "card-actions" }, cites.map((c) => copyButton(cites.length > 1 ? t("copyN", c.marker) : t("copy"), () => citationText(c, c.quote)))));
  }

  function seeAlsoSection(items, title) {
    return h("section", { class: "see-also", "aria-label": title },
      h("h2", { class: "section-title" }, title),
      h("ul", { class: "see-also-list" }, items.map((item) => {
        const [docId, ref] = splitKey(item.key);
        const body = h("div", { class: "see-also-body" });
        const details = h("details", { class: "card see-also-item", "data-key": item.key },
          h("summary", null,
            h("span", { class: "summary-text" },
              h("span", { class: "summary-main" },
                h("span", { class: "doc-title", lang: state.lang === "zh" ? "zh-CN" : "en" }, docTitle(item)), " ",
                h("span", { class: "article-label" }, articleLabel(item))),
              item.chapter ? h("span", { class: "chapter small", lang: "zh-CN" }, item.chapter) : null)),
          body);
        details.addEventListener("toggle", () => {
          if (!details.open || body.dataset.loaded) return;
          body.replaceChildren(h("p", { class: "muted small" }, t("articleLoading")));
          fetchArticle(docId, ref).then((article) => {
            body.dataset.loaded = "1";
            body.replaceChildren(articleText(article.text),
              h("div", { class: "card-actions" }, copyButton(t("copyArticle"), () => citationText(article, article.text.slice(headingLength(article.text))))));
          }, (err) => body.replaceChildren(errorBox(err)));
        });
        return h("li", null, details);
      })));
  }

  function renderRefusal(response) {
    const frag = document.createDocumentFragment();
    frag.append(h("section", { class: "refusal card", id: "refusal", "data-reason": response.refusal_reason || "", "aria-labelledby": "refusal-title" },
      h("div", { class: "refusal-icon", "aria-hidden": "true" }, "!"),
      h("div", null,
        h("h2", { class: "section-title", id: "refusal-title" }, t("refusedTitle")),
        h("div", { class: "answer-text", lang: response.lang === "zh" ? "zh-CN" : "en" }, answerParagraphs(response.answer, response.citations)))));
    if (response.see_also.length) frag.append(seeAlsoSection(response.see_also, t("seeAlsoRefused")));
    return frag;
  }

  // ------------------------------------------------------------------ Lookup panel

  let docsLoading = null;

  function loadDocuments() {
    if (!docsLoading) docsLoading = fetchDocuments().finally(() => { docsLoading = null; });
    return docsLoading;
  }

  async function fetchDocuments() {
    const status = $("lookup-status");
    try {
      state.docs = await api("/v1/documents");
      setVersions(state.docs.corpus_version, state.docs.index_version);
      fillSelects();
      if (status.dataset.docsError) {
        status.replaceChildren();
        delete status.dataset.docsError;
      }
    } catch (err) {
      state.docs = null;
      status.dataset.docsError = "1";
      const box = errorBox(err instanceof ApiError ? err : new ApiError("network", 0, String(err)), t("docsFailed"));
      box.append(h("button", { type: "button", class: "btn btn-secondary btn-small", onclick: () => loadDocuments() }, t("retry")));
      status.replaceChildren(box);
    }
  }

  function option(value, label, selected) {
    const o = h("option", { value }, label);
    if (selected) o.selected = true;
    return o;
  }

  function fillSelects() {
    if (!state.docs) return;
    const docs = state.docs.documents;
    const searchDoc = $("search-doc");
    const openDoc = $("open-doc");
    const keepSearch = searchDoc.value;
    const keepOpen = openDoc.value || (docs[0] && docs[0].doc_id);
    searchDoc.replaceChildren(option("", t("allDocs"), !keepSearch), ...docs.map((d) => option(d.doc_id, docTitle(d), d.doc_id === keepSearch)));
    openDoc.replaceChildren(...docs.map((d) => option(d.doc_id, docTitle(d), d.doc_id === keepOpen)));
    fillChapters();
  }

  function fillChapters() {
    const select = $("search-chapter");
    const keep = select.value;
    const docId = $("search-doc").value;
    const docs = state.docs ? state.docs.documents : [];
    const all = option("", t("allChapters"), true);
    if (docId) {
      const doc = docs.find((d) => d.doc_id === docId);
      const chapters = doc ? doc.chapters : [];
      select.replaceChildren(chapters.length ? all : option("", t("noChapters"), true), ...chapters.map((c) => option(c, c, c === keep)));
      select.disabled = chapters.length === 0;
    } else {
      select.replaceChildren(all, ...docs.filter((d) => d.chapters.length).map((d) =>
        h("optgroup", { label: docTitle(d) }, d.chapters.map((c) => option(c, c, false)))));
      if (keep) select.value = keep;
      if (select.value !== keep) select.value = "";
      select.disabled = false;
    }
  }

  let searchController = null;

  async function submitSearch() {
    const query = $("search-query").value;
    const result = $("search-result");
    if (!query.trim()) {
      state.search = { kind: "local", message: "needQuery" };
      renderSearch();
      $("search-query").focus();
      return;
    }
    const filters = {};
    if ($("search-doc").value) filters.doc_id = [$("search-doc").value];
    if ($("search-chapter").value) filters.chapter = [$("search-chapter").value];
    const body = { query, top_k: parseInt($("search-topk").value, 10) || 10 };
    if (Object.keys(filters).length) body.filters = filters;

    if (searchController) searchController.abort();
    const controller = new AbortController();
    searchController = controller;
    const button = $("search-button");
    setBusy(button, true, "searchBusy", "searchButton");
    result.setAttribute("aria-busy", "true");
    result.replaceChildren(loadingBox(t("loadingSearch")));
    try {
      const response = await api("/v1/search", { method: "POST", body, signal: controller.signal });
      state.search = { kind: "results", response };
    } catch (err) {
      if (err && err.name === "AbortError") return;
      state.search = { kind: "error", error: err instanceof ApiError ? err : new ApiError("network", 0, String(err)) };
    } finally {
      if (searchController === controller) {
        searchController = null;
        setBusy(button, false, "searchBusy", "searchButton");
        result.removeAttribute("aria-busy");
      }
    }
    renderSearch();
  }

  function renderSearch() {
    const result = $("search-result");
    const current = state.search;
    if (!current) return result.replaceChildren();
    if (current.kind === "error") return result.replaceChildren(errorBox(current.error));
    if (current.kind === "local") return result.replaceChildren(noticeBox(t(current.message)));
    const response = current.response;
    const header = h("div", { class: "results-head" },
      h("h2", { class: "section-title" }, t("resultsTitle")),
      h("span", { class: "muted small" }, `${t("results", response.results.length)} · ${formatMs(response.took_ms)}`));
    if (!response.results.length) return result.replaceChildren(header, noticeBox(t("noResults")));
    result.replaceChildren(header, h("ol", { class: "search-results" }, response.results.map((r) => {
      const ref = refOf(r);
      return h("li", { class: "card result-card", "data-key": r.key },
        sourceHeader(r),
        h("p", { class: "result-text", lang: /[\u4e00-\u9fff]/.test(r.text) ? "zh-CN" : "en" }, r.text),
        h("div", { class: "card-actions" },
          h("span", { class: "found-by muted small" },
            `${t("score")} ${r.score.toFixed(4)}`,
            r.found_by.length ? ` · ${t("foundBy")} ${r.found_by.map((f) => `${f.retriever} #${f.rank}`).join(", ")}` : ""),
          h("span", { class: "spacer" }),
          copyButton(t("copyArticle"), () => citationText(r, r.text.slice(headingLength(r.text)))),
          h("button", { type: "button", class: "btn btn-secondary btn-small open-btn", onclick: () => openArticle(r.doc_id, ref, { syncForm: true }) }, t("open"))));
    })));
  }

  let openToken = 0;

  async function openArticle(docId, ref, { syncForm = false } = {}) {
    if (syncForm) {
      $("open-doc").value = docId;
      $("open-number").value = String(ref);
    }
    const token = ++openToken;
    const view = $("article-view");
    const button = $("open-button");
    setBusy(button, true, "openBusy", "openButton");
    view.setAttribute("aria-busy", "true");
    view.replaceChildren(loadingBox(t("loadingArticle")));
    try {
      const article = await fetchArticle(docId, ref);
      if (token !== openToken) return;
      state.article = { kind: "article", article };
    } catch (err) {
      if (token !== openToken) return;
      state.article = { kind: "error", error: err instanceof ApiError ? err : new ApiError("network", 0, String(err)) };
    } finally {
      if (token === openToken) {
        setBusy(button, false, "openBusy", "openButton");
        view.removeAttribute("aria-busy");
      }
    }
    renderArticle();
    const heading = view.querySelector(".source-title");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      view.scrollIntoView({ behavior: "smooth", block: "start" });
      heading.focus({ preventScroll: true });
    }
  }

  function renderArticle() {
    const view = $("article-view");
    const current = state.article;
    if (!current) return view.replaceChildren();
    if (current.kind === "error") return view.replaceChildren(errorBox(current.error));
    if (current.kind === "local") return view.replaceChildren(noticeBox(t(current.message)));
    const a = current.article;
    view.replaceChildren(h("article", { class: "card article-card", "data-key": a.key },
      h("div", { class: "article-top" },
        sourceHeader(a, { level: "h2" }),
        h("span", { class: "kind-badge" }, (T[state.lang].kind[a.kind]) || a.kind)),
      articleText(a.text),
      h("div", { class: "card-actions" }, copyButton(t("copyArticle"), () => citationText(a, a.text.slice(headingLength(a.text))))),
      articleLinks(a)));
  }

  function submitOpen() {
    const docId = $("open-doc").value;
    const raw = $("open-number").value;
    if (!docId) {
      state.article = { kind: "local", message: "needDoc" };
      return renderArticle();
    }
    if (!raw.trim()) {
      state.article = { kind: "local", message: "needNumber" };
      renderArticle();
      $("open-number").focus();
      return undefined;
    }
    return openArticle(docId, parseArticleInput(raw));
  }

  // ------------------------------------------------------------------ language, tabs, versions

  function setVersions(corpus, index) {
    $("versions").textContent = t("versions", corpus, index);
    $("versions").dataset.corpus = corpus;
    $("versions").dataset.index = index;
  }

  function setLang(lang, { persist = true } = {}) {
    state.lang = lang;
    if (persist) {
      try {
        localStorage.setItem("siqa-lang", lang);
      } catch (_) { /* ignore */ }
    }
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.title = lang === "zh" ? "社会保险法问答 · Social Insurance QA" : "Social Insurance QA · 社会保险法问答";
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
    for (const button of document.querySelectorAll(".lang-btn")) button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
    for (const [id, busyKey, idleKey] of [["ask-button", "askBusy", "askButton"], ["search-button", "searchBusy", "searchButton"], ["open-button", "openBusy", "openButton"]]) {
      const button = $(id);
      button.querySelector(".btn-label").textContent = t(button.classList.contains("is-busy") ? busyKey : idleKey);
    }
    const versions = $("versions");
    if (versions.dataset.corpus) setVersions(versions.dataset.corpus, versions.dataset.index);
    fillSelects();
    if (!$("ask-result").hasAttribute("aria-busy")) renderAsk();
    if (!$("search-result").hasAttribute("aria-busy")) renderSearch();
    if (!$("article-view").hasAttribute("aria-busy")) renderArticle();
  }

  const TABS = ["ask", "lookup"];

  function selectTab(name, { focus = false, updateHash = true } = {}) {
    for (const other of TABS) {
      const tab = $(`tab-${other}`);
      const selected = other === name;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      $(`panel-${other}`).hidden = !selected;
      if (selected && focus) tab.focus();
    }
    if (updateHash) history.replaceState(null, "", name === "ask" ? location.pathname + location.search : `#${name}`);
    if (name === "lookup" && !state.docs) loadDocuments();
  }

  // ------------------------------------------------------------------ wiring

  function init() {
    state.lang = initialLang();

    const examples = $("examples");
    examples.replaceChildren(...EXAMPLES.map((ex) => h("li", null, h("button", {
      type: "button", class: "chip", lang: ex.lang === "zh" ? "zh-CN" : "en",
      onclick: () => {
        $("question").value = ex.q;
        submitQuestion(ex.q);
      },
    }, ex.q))));

    $("ask-form").addEventListener("submit", (event) => {
      event.preventDefault();
      submitQuestion($("question").value);
    });
    $("question").addEventListener("keydown", (event) => {
      // Enter submits; Shift+Enter is a new line; Enter that confirms an IME composition does nothing.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        $("ask-form").requestSubmit();
      }
    });
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      submitSearch();
    });
    $("search-doc").addEventListener("change", fillChapters);
    $("open-form").addEventListener("submit", (event) => {
      event.preventDefault();
      submitOpen();
    });

    for (const button of document.querySelectorAll(".lang-btn")) {
      button.addEventListener("click", () => setLang(button.dataset.lang));
    }

    TABS.forEach((name, i) => {
      const tab = $(`tab-${name}`);
      tab.addEventListener("click", () => selectTab(name));
      tab.addEventListener("keydown", (event) => {
        let next = null;
        if (event.key === "ArrowRight") next = TABS[(i + 1) % TABS.length];
        else if (event.key === "ArrowLeft") next = TABS[(i - 1 + TABS.length) % TABS.length];
        else if (event.key === "Home") next = TABS[0];
        else if (event.key === "End") next = TABS[TABS.length - 1];
        if (next) {
          event.preventDefault();
          selectTab(next, { focus: true });
        }
      });
    });

    setLang(state.lang, { persist: false });
    selectTab(location.hash === "#lookup" ? "lookup" : "ask", { updateHash: false });
    loadDocuments();
    document.body.dataset.ready = "true";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
