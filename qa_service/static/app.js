/* Social-insurance QA page: plain JS modules, no framework, no build step.
 * This entry module switches the language and the tabs and wires the page;
 * strings (i18n.js), the API client (api.js), shared widgets (widgets.js) and
 * the two panels (ask.js, lookup.js) live in their own modules.
 */

import { initAsk, renderAsk } from "./ask.js";
import { t } from "./i18n.js";
import { fillSelects, initLookup, loadDocuments, renderArticle, renderSearch } from "./lookup.js";
import { initialLang, state } from "./state.js";
import { $, setVersions } from "./widgets.js";

// ------------------------------------------------------------------ language, tabs

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

  // The interface follows the language of the question.
  initAsk({ followLanguage: (lang) => setLang(lang, { persist: false }) });
  initLookup();

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
