// HTTP access to the dfr API (/api/v1): bearer token, JSON in and out, errors as ApiError.

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
  /** @param {string} token @param {(err: ApiError) => void} onUnauthorized */
  constructor(token, onUnauthorized = () => {}) {
    this.token = token;
    this.onUnauthorized = onUnauthorized;
  }

  get(path) {
    return this.request("GET", path);
  }

  post(path, body) {
    return this.request("POST", path, body);
  }

  async request(method, path, body) {
    const headers = { Authorization: `Bearer ${this.token}`, Accept: "application/json" };
    const init = { method, headers, cache: "no-store" };
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

  /** A websocket URL on this origin with the token as ?token= (browsers cannot set headers). */
  socketUrl(path, params = {}) {
    const url = new URL(path, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", this.token);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return url.toString();
  }
}
