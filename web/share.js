// The console's officer links: a pilot shares one drone with an officer en route (a link
// that expires and can be revoked), sees who shared what, and revokes. The link's text
// is shown once, here, right after it is made; the service keeps only its digest.

import { h } from "./dom.js";

const LIST_REFRESH_MS = 15_000;

function shownTime(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export class SharePanel {
  /**
   * @param {{form: HTMLFormElement, drone: HTMLSelectElement, label: HTMLInputElement,
   *          ttl: HTMLSelectElement, result: HTMLElement, url: HTMLInputElement,
   *          copy: HTMLButtonElement, list: HTMLOListElement, status: HTMLElement}} els
   * @param {() => import("./api.js").Api} apiOf  the signed-in console's API
   */
  constructor(els, apiOf) {
    this.els = els;
    this.apiOf = apiOf;
    this.timer = null;
    els.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.share();
    });
    els.copy.addEventListener("click", () => this.copy());
  }

  /** Signed in: which drones may be shared, and whether this person may share at all. */
  start(droneIds, canShare) {
    const { drone, form } = this.els;
    drone.replaceChildren(...droneIds.map((id) => h("option", { value: id }, id)));
    form.hidden = !canShare;
    this.canShare = canShare;
    this.refresh();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.refresh(), LIST_REFRESH_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.els.result.hidden = true;
    this.els.url.value = "";
  }

  /** Ready to share this drone (the fleet row's "share" button). */
  choose(droneId) {
    this.els.drone.value = droneId;
    this.els.label.focus();
  }

  async share() {
    const { drone, label, ttl, result, url, status } = this.els;
    const body = { drone_id: drone.value, ttl_s: Number(ttl.value) };
    if (label.value.trim()) body.label = label.value.trim();
    try {
      const made = await this.apiOf().post("/viewer-links", body);
      url.value = new URL(made.url, window.location.origin).href;
      result.hidden = false;
      status.textContent = `Link for ${made.link.drone_id} made; it ends at ${shownTime(made.link.expires_at)}. It is shown only now.`;
      label.value = "";
      url.select();
      await this.refresh();
    } catch (err) {
      status.textContent = `Could not share: ${err.message}`;
    }
  }

  async copy() {
    const { url, status } = this.els;
    try {
      await navigator.clipboard.writeText(url.value);
      status.textContent = "Link copied.";
    } catch {
      url.select(); // no clipboard permission: selected for the person to copy
      status.textContent = "Select and copy the link.";
    }
  }

  async refresh() {
    let links;
    try {
      links = await this.apiOf().background("/viewer-links");
    } catch (err) {
      this.els.list.replaceChildren(h("li", { class: "muted" }, err.status === 403 ? "Links are listed for supervisors and pilots." : `Links unavailable: ${err.message}`));
      return;
    }
    const active = links.filter((link) => link.active);
    this.els.list.replaceChildren(
      ...(active.length ? active.map((link) => this.row(link)) : [h("li", { class: "muted" }, "No active links.")]),
    );
  }

  row(link) {
    const who = link.label ? `${link.label} · ` : "";
    const revoke = h("button", { type: "button", class: "danger", dataset: { revoke: link.id }, onclick: () => this.revoke(link) }, "Revoke");
    revoke.hidden = !this.canShare;
    return h(
      "li",
      { dataset: { linkId: link.id } },
      h("strong", {}, link.drone_id),
      ` ${who}by ${link.created_by}, ends ${shownTime(link.expires_at)} `,
      revoke,
    );
  }

  async revoke(link) {
    try {
      await this.apiOf().delete(`/viewer-links/${encodeURIComponent(link.id)}`);
      this.els.status.textContent = `Link for ${link.drone_id}${link.label ? ` (${link.label})` : ""} revoked: its page now says it has expired.`;
    } catch (err) {
      this.els.status.textContent = `Could not revoke: ${err.message}`;
    }
    await this.refresh();
  }
}
