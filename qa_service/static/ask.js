/* The Ask panel (website visitors): the question, the answer with its markers,
 * the cited articles with the quotes marked, renderings, see-also, refusals. */

import { api, asApiError, fetchArticle } from "./api.js";
import { EXAMPLES, t } from "./i18n.js";
import { state } from "./state.js";
import { citationText, codeUnitOffset, docTitle, articleLabel, headingLength, refOf, splitKey } from "./text.js";
import { $, articleText, copyButton, errorBox, h, loadingBox, setBusy, setVersions, showPlainState, sourceHeader } from "./widgets.js";

let askController = null;
let followLanguage = () => {};

/** Examples, the form and Enter to submit; `followLanguage(lang)` switches the
 * interface to the language of an answered question. */
export function initAsk({ followLanguage: follow }) {
  followLanguage = follow;
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
}

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
    state.ask = { kind: "error", error: asApiError(err) };
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
  if ((lang === "zh" || lang === "en") && lang !== state.lang) followLanguage(lang);
  else renderAsk();
  status.textContent = state.ask.kind === "answer"
    ? (state.ask.response.refused ? t("refusedTitle") : `${t("answerTitle")} · ${t("meta", state.ask.response)}`)
    : (result.querySelector(".alert-title") || {}).textContent || "";
}

export function renderAsk() {
  const result = $("ask-result");
  if (showPlainState(result, state.ask)) return;
  const response = state.ask.response;
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
