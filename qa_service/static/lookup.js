/* The Lookup panel (customer-service agents): the document list, search with
 * document and chapter filters, and an article opened by number with its links. */

import { api, asApiError, fetchArticle } from "./api.js";
import { T, formatMs, t } from "./i18n.js";
import { state } from "./state.js";
import { articleLabel, citationText, docTitle, headingLength, parseArticleInput, refOf, splitKey } from "./text.js";
import { $, articleText, copyButton, errorBox, h, loadingBox, noticeBox, setBusy, setVersions, showPlainState, sourceHeader } from "./widgets.js";

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

/** The search and open-by-number forms. */
export function initLookup() {
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitSearch();
  });
  $("search-doc").addEventListener("change", fillChapters);
  $("open-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitOpen();
  });
}

let docsLoading = null;

export function loadDocuments() {
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
    const box = errorBox(asApiError(err), t("docsFailed"));
    box.append(h("button", { type: "button", class: "btn btn-secondary btn-small", onclick: () => loadDocuments() }, t("retry")));
    status.replaceChildren(box);
  }
}

function option(value, label, selected) {
  const o = h("option", { value }, label);
  if (selected) o.selected = true;
  return o;
}

export function fillSelects() {
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
    state.search = { kind: "error", error: asApiError(err) };
  } finally {
    if (searchController === controller) {
      searchController = null;
      setBusy(button, false, "searchBusy", "searchButton");
      result.removeAttribute("aria-busy");
    }
  }
  renderSearch();
}

export function renderSearch() {
  const result = $("search-result");
  if (showPlainState(result, state.search)) return;
  const response = state.search.response;
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
    state.article = { kind: "error", error: asApiError(err) };
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

export function renderArticle() {
  const view = $("article-view");
  if (showPlainState(view, state.article)) return;
  const a = state.article.article;
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
