/* DOM building and the pieces both panels show: busy buttons, alerts, loading
 * boxes, copy buttons, source headers, article text with marked quotes, versions.
 *
 * Every piece of text from the API (answers, titles, article text, error
 * messages) reaches the DOM through text nodes (textContent / append(string)),
 * never through innerHTML, so nothing the service returns is parsed as markup.
 */

import { t } from "./i18n.js";
import { state } from "./state.js";
import { articleLabel, docTitle, headingLength } from "./text.js";

export const $ = (id) => document.getElementById(id);

/** Build an element; string children become text nodes (never parsed as HTML). */
export function h(tag, props, ...children) {
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

export function setBusy(button, busy, busyKey, idleKey) {
  button.classList.toggle("is-busy", busy);
  button.setAttribute("aria-busy", busy ? "true" : "false");
  button.querySelector(".btn-label").textContent = t(busy ? busyKey : idleKey);
}

export function errorBox(error, lead = null) {
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

export function noticeBox(message) {
  return h("div", { class: "alert alert-info", role: "alert" }, h("p", { class: "alert-title" }, message));
}

/** A panel's state when it is nothing yet, an error or a notice of the page's own
 * ({ kind: "local", message: <string key> }): shown in `box`, and true; false for
 * any other state, which the panel renders itself. */
export function showPlainState(box, current) {
  if (!current) box.replaceChildren();
  else if (current.kind === "error") box.replaceChildren(errorBox(current.error));
  else if (current.kind === "local") box.replaceChildren(noticeBox(t(current.message)));
  else return false;
  return true;
}

export function loadingBox(message) {
  return h("div", { class: "loading" },
    h("span", { class: "spinner spinner-dark", "aria-hidden": "true" }),
    h("span", null, message),
    h("div", { class: "skeleton", "aria-hidden": "true" }, h("span"), h("span"), h("span")));
}

export async function copyText(text) {
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

export function copyButton(labelText, getText, extraClass = "") {
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

export function svgEl(tag, attrs) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

export function sourceHeader(item, { level = "h3", markers = [] } = {}) {
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
export function articleText(text, ranges = []) {
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

export function setVersions(corpus, index) {
  $("versions").textContent = t("versions", corpus, index);
  $("versions").dataset.corpus = corpus;
  $("versions").dataset.index = index;
}
