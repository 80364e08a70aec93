// The console's sign-in page: a person's user name, password and authenticator code (the
// service answers with its HttpOnly session cookie), or a machine's access token, from
// the form or a link's #token= fragment (taken out of the address bar at once). The form
// shows the system use notice (CJIS 5.5.4) first: it can be sent only once the notice is
// on the screen, and says so (notice_acknowledged).

import { Api, ApiError } from "./api.js";

const $ = (id) => document.getElementById(id);

export function tokenFromFragment() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const token = params.get("token");
  if (token !== null) {
    // The token must not stay in the address bar, history or a shared screenshot.
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  return token;
}

/** The service's system use notice into the form; until it is there, the form cannot be sent. */
export async function loadNotice() {
  const text = $("signin-notice-text");
  try {
    const notice = await new Api(null).get("/session/notice");
    text.textContent = notice.text;
    $("signin-submit").disabled = false;
  } catch (err) {
    text.textContent = `The system use notice could not be loaded (${err.message}); sign-in waits for it: reload the page.`;
  }
}

/** The sign-in page; ``viaToken``: the machine-token form is opened (its error is shown). */
export function showSignIn(message, viaToken = false) {
  const page = $("console"); // the viewer page has none: its sign-in sits over the video
  if (page) page.hidden = true;
  if (viaToken) $("token-form").querySelector("details").open = true;
  $("signin").hidden = false;
  const error = $("signin-error");
  error.hidden = !message;
  error.textContent = message ?? "";
  $(viaToken ? "signin-token" : "signin-username").focus();
}

export function signInMessage(err, viaToken = false) {
  if (err.status === 401 && viaToken) {
    return `The service refused this token (${err.message}). Check the token and sign in again.`;
  }
  if (err.status === 401) return `Not signed in: ${err.message}.`;
  if (err.status === 429) return `Too many sign-in attempts: ${err.message}`;
  if (err.status === 0) return `Cannot reach the dfr service: ${err.message}.`;
  return `Sign-in failed: HTTP ${err.status} — ${err.message}`;
}

/** The account form: user name, password, code → the session cookie, true once signed in. */
export async function signInAccount() {
  const body = {
    username: $("signin-username").value.trim(),
    password: $("signin-password").value,
    notice_acknowledged: true, // the form is sent only with the notice shown above it
  };
  const code = $("signin-code").value.trim();
  if (code) body.code = code;
  $("signin-password").value = "";
  $("signin-code").value = "";
  try {
    await new Api(null).post("/session", body);
  } catch (err) {
    showSignIn(err instanceof ApiError ? signInMessage(err) : String(err));
    return false;
  }
  return true;
}
