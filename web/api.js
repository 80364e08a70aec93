// HTTP access to the dfr API (/api/v1): a person's session cookie (token null) or a
// machine's bearer token, JSON in and out, errors as ApiError.

export const API_PREFIX = "/api/v1";

/** A failed request: the HTTP status and the server's {error, detail, field} body. */
export class ApiError extends Error {
  constructor(status, body, path) {
    const detail = (body && (body.detail || body.error)) || `HTTP ${status}`;
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.error = body?.error ?? null;
    this.field = body?.field ?? null;
    this.path = path;
  }

  /** The route does not exist on this server (yet): the UI degrades instead of failing. */
  get missing() {
    return this.status === 404 && (this.error === null || this.error === "Not Found");
  }
}

export class Api {
  /** @param {string | null} token  null: the session cookie signs every request
   *  @param {(err: ApiError) => void} onUnauthorized */
  constructor(token, onUnauthorized = () => {}) {
    this.token = token;
    this.onUnauthorized = onUnauthorized;
  }

  get(path) {
    return this.request("GET", path);
  }

  /** A refresh nobody asked for: served, but it does not keep a session from locking. */
  background(path) {
    return this.request("GET", path, undefined, { "X-Dfr-Background": "1" });
  }

  post(path, body) {
    return this.request("POST", path, body);
  }

  delete(path) {
    return this.request("DELETE", path);
  }

  async request(method, path, body, extraHeaders = {}) {
    const headers = { Accept: "application/json", ...extraHeaders };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const init = { method, headers, cache: "no-store", credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(API_PREFIX + path, init);
    } catch (err) {
      throw new ApiError(0, { error: "NetworkError", detail: `the service did not answer (${err.message})` }, path);
    }
    if (response.status === 204) return null;
    const text = await response.text();
    let parsed = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { detail: text.slice(0, 200) };
      }
    }
    if (!response.ok) {
      // FastAPI's own 404 for an unknown route is {"detail": "Not Found"}.
      const errBody = parsed && typeof parsed === "object" ? { ...parsed } : {};
      if (response.status === 404 && !errBody.error && errBody.detail === "Not Found") {
        errBody.error = "Not Found";
      }
      const err = new ApiError(response.status, errBody, path);
      if (response.status === 401) this.onUnauthorized(err);
      throw err;
    }
    return parsed;
  }

  /** A websocket URL on this origin: the session cookie goes with it by itself; a
   *  machine's token goes as ?token= (browsers cannot set headers on a websocket). */
  socketUrl(path, params = {}) {
    const url = new URL(path, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (this.token) url.searchParams.set("token", this.token);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return url.toString();
  }
}
