/* The service's HTTP API: JSON calls whose failures are ApiErrors, and the article cache. */

export class ApiError extends Error {
  constructor(kind, status, message, retryAfter = null) {
    super(message);
    this.kind = kind; // "network" | "server" | "rejected" | "busy" (429)
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export async function api(path, { method = "GET", body, signal } = {}) {
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

/** Any failure of a call as an ApiError (an unexpected one counts as a network failure). */
export function asApiError(err) {
  return err instanceof ApiError ? err : new ApiError("network", 0, String(err));
}

const articleCache = new Map();

export function articlePath(docId, ref) {
  return `/v1/articles/${encodeURIComponent(docId)}/${encodeURIComponent(String(ref))}`;
}

/** Cached GET /v1/articles/{doc}/{n}; failures are not cached. */
export function fetchArticle(docId, ref) {
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
