/* The page's state: the interface language and what each panel shows. */

export function initialLang() {
  const param = new URLSearchParams(location.search).get("lang");
  if (param === "zh" || param === "en") return param;
  try {
    const saved = localStorage.getItem("siqa-lang");
    if (saved === "zh" || saved === "en") return saved;
  } catch (_) { /* storage may be disabled */ }
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "zh"];
  return String(langs[0]).toLowerCase().startsWith("zh") ? "zh" : "en";
}

export const state = {
  lang: "zh",
  docs: null, // DocumentsResponse
  ask: null, // { kind: "answer", response } | { kind: "error", error } | { kind: "local", message }
  search: null, // { kind: "results", response } | { kind: "error", error } | { kind: "local", message }
  article: null, // { kind: "article", article } | { kind: "error", error } | { kind: "local", message }
};
