/* newsroom comments widget: fills every [data-newsroom-comments] placeholder with its thread and
   "Leave a Reply" form, and every [data-newsroom-count] element with its count. Plain DOM, no
   framework, strict-CSP clean (no eval, no inline style). docs/embed.md is the site owner's guide. */
"use strict";
(() => {
  if (window.newsroom) return; // the script included twice
  const me = document.currentScript || document.querySelector('script[src*="/embed/comments.js"]');
  const API = ((me && me.dataset.api) ||
    (me ? me.src.replace(/[?#].*/, "").replace(/\/embed\/comments\.js$/, "") : "")).replace(/\/+$/, "");
  const VERSION = "__NEWSROOM_VERSION__";
  const DAY = 864e5;
  const KEEP_PENDING = 30 * DAY;

  const STRINGS = {
    en: {
      count: ["No comments", "1 comment", "{n} comments"],
      loading: "Loading comments…",
      loadFailed: "Could not load the comments.",
      more: "Load more comments",
      reply: "Reply",
      title: "Leave a Reply",
      replyingTo: "Replying to {name}",
      cancel: "Cancel",
      name: "Name",
      email: "Email",
      website: "Website",
      comment: "Comment",
      phone: "Leave this field empty",
      emailNote: "Your email address will not be published.",
      required: "Required fields are marked *",
      notify: "Notify me of replies by email",
      save: "Save my name, email, and website in this browser for the next time I comment.",
      post: "Post Comment",
      posted: "Your comment has been published.",
      held: "Your comment is awaiting moderation.",
      fix: "Please correct the marked fields.",
      flood: "You are commenting too quickly.",
      busy: "The comment server is busy.",
      checking: "Checking…",
      wait: ["Try again in 1 second.", "Try again in {n} seconds."],
      network: "Could not reach the comment server.",
      retry: "Retry",
      closed: "Comments are closed.",
      error: "Something went wrong. Please try again.",
      edit: "Edit",
      del: "Delete",
      editLabel: "Edit your comment",
      saveEdit: "Save",
      sure: "Delete this comment?",
      keep: "Keep",
      updated: "Your comment has been updated.",
      deleted: "Your comment was deleted.",
      locked: "This comment can no longer be changed.",
      bad: {},
    },
    de: {
      count: ["Keine Kommentare", "1 Kommentar", "{n} Kommentare"],
      loading: "Kommentare werden geladen …",
      loadFailed: "Die Kommentare konnten nicht geladen werden.",
      more: "Weitere Kommentare laden",
      reply: "Antworten",
      title: "Schreibe einen Kommentar",
      replyingTo: "Antwort an {name}",
      cancel: "Abbrechen",
      name: "Name",
      email: "E-Mail",
      website: "Website",
      comment: "Kommentar",
      phone: "Dieses Feld leer lassen",
      emailNote: "Deine E-Mail-Adresse wird nicht veröffentlicht.",
      required: "Erforderliche Felder sind mit * markiert",
      notify: "Benachrichtige mich über Antworten per E-Mail",
      save: "Meinen Namen, meine E-Mail-Adresse und meine Website in diesem Browser für die nächste Kommentierung speichern.",
      post: "Kommentar abschicken",
      posted: "Dein Kommentar wurde veröffentlicht.",
      held: "Dein Kommentar wartet auf Freischaltung.",
      fix: "Bitte korrigiere die markierten Felder.",
      flood: "Du kommentierst zu schnell.",
      busy: "Der Kommentar-Server ist ausgelastet.",
      checking: "Prüfung…",
      wait: ["Versuche es in 1 Sekunde erneut.", "Versuche es in {n} Sekunden erneut."],
      network: "Der Kommentar-Server ist nicht erreichbar.",
      retry: "Erneut versuchen",
      closed: "Die Kommentarfunktion ist geschlossen.",
      error: "Etwas ist schiefgelaufen. Bitte versuche es erneut.",
      edit: "Bearbeiten",
      del: "Löschen",
      editLabel: "Deinen Kommentar bearbeiten",
      saveEdit: "Speichern",
      sure: "Diesen Kommentar löschen?",
      keep: "Behalten",
      updated: "Dein Kommentar wurde geändert.",
      deleted: "Dein Kommentar wurde gelöscht.",
      locked: "Dieser Kommentar kann nicht mehr geändert werden.",
      // The API explains bad fields in English; these say it in German.
      bad: {
        author_name: "Bitte gib deinen Namen an.",
        author_email: "Bitte gib eine gültige E-Mail-Adresse an.",
        author_url: "Bitte gib eine Adresse an, die mit http:// oder https:// beginnt.",
        body: "Bitte schreibe einen Kommentar.",
      },
    },
  };

  const fmt = (s, v) => s.replace(/\{(\w+)\}/g, (_, k) => v[k]);

  /** The strings and the locale for an element: data-lang, its [lang], then the browser's. */
  function language(el) {
    const declared = (me && me.dataset.lang) || (el.closest("[lang]") || {}).lang;
    for (const tag of declared ? [declared] : navigator.languages || [navigator.language]) {
      const table = STRINGS[String(tag).toLowerCase().split("-")[0]];
      if (table) return [table, tag];
    }
    return [STRINGS.en, "en"];
  }

  function countText(S, locale, n) {
    return n === 0 ? S.count[0] : n === 1 ? S.count[1] : fmt(S.count[2], { n: n.toLocaleString(locale) });
  }

  /** An element: props are attributes, except class, text and on* (listeners). Never style. */
  function h(tag, props = {}, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (v == null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    e.append(...kids.filter((x) => x != null));
    return e;
  }

  const store = {
    get(k) {
      try { return JSON.parse(localStorage.getItem("newsroom:" + k)); } catch { return null; }
    },
    set(k, v) {
      try {
        if (v == null || v === "") localStorage.removeItem("newsroom:" + k);
        else localStorage.setItem("newsroom:" + k, JSON.stringify(v));
      } catch { /* storage off or full: the widget still works, it just forgets */ }
    },
  };

  const uuid = () => (crypto.randomUUID ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(""));

  /** fetch from the API; rejects only when the server could not be reached (or on abort). */
  async function call(path, init = {}) {
    const res = await fetch(API + path, { cache: "no-cache", ...init });
    const data = await res.json().catch(() => ({}));
    return { ok: res.ok, status: res.status, data: data || {}, headers: res.headers };
  }

  // ---- counts: one request for every slug on the page, one more per later new slug ----

  const countOf = new Map(); // slug -> Promise of {comment_count, comments_open} | false (no such article) | null (unknown)

  function counts(slugs) {
    const fresh = [...new Set(slugs)].filter((s) => !countOf.has(s));
    for (let i = 0; i < fresh.length; i += 100) {
      const batch = fresh.slice(i, i + 100);
      const items = call("/comment-counts?slugs=" + batch.map(encodeURIComponent).join(","))
        .then((r) => (r.ok && r.data.items) || null, () => null);
      for (const s of batch) {
        countOf.set(s, items.then((all) => {
          if (!all) countOf.delete(s); // ask again at the next mount
          return all ? all[s] || false : null;
        }));
      }
    }
    return Promise.all(slugs.map((s) => countOf.get(s)));
  }

  function showCount(el) {
    const [S, locale] = language(el);
    counts([el.dataset.newsroomCount]).then(([c]) => {
      if (c) el.textContent = countText(S, locale, c.comment_count);
    });
  }

  // ---- the thread ----

  const threads = new Map(); // placeholder -> its state
  let seq = 0;

  function mountThread(el) {
    const slug = el.dataset.newsroomComments;
    if (!slug || threads.has(el)) return;
    const [S, locale] = language(el);
    const st = { el, slug, S, locale, id: ++seq, ac: new AbortController(), nodes: new Map(), pending: new Map() };
    try { st.rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" }); } catch { st.rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" }); }
    st.dtf = new Intl.DateTimeFormat(st.rtf.resolvedOptions().locale, { dateStyle: "long", timeStyle: "short" });
    threads.set(el, st);
    el.classList.add("newsroom-comments", "newsroom-loading");
    el.replaceChildren(h("p", { class: "newsroom-note", text: S.loading }));
    if (!("IntersectionObserver" in window)) return load(st);
    st.io = new IntersectionObserver((seen) => {
      if (seen.some((e) => e.isIntersecting)) { st.io.disconnect(); load(st); }
    }, { rootMargin: "600px 0px" });
    st.io.observe(el);
  }

  function unmount(el) {
    const st = el && threads.get(el);
    if (!st) return;
    threads.delete(el);
    st.ac.abort();
    if (st.io) st.io.disconnect();
    el.replaceChildren();
    el.classList.remove("newsroom-comments", "newsroom-loading");
  }

  async function page(st) {
    const limit = st.el.dataset.limit;
    const q = [limit && "limit=" + encodeURIComponent(limit), st.cursor && "cursor=" + encodeURIComponent(st.cursor)];
    const query = q.filter(Boolean).join("&");
    const r = await call(`/articles/${encodeURIComponent(st.slug)}/comments${query ? "?" + query : ""}`, { signal: st.ac.signal });
    if (!r.ok) throw new Error(r.status);
    return r.data;
  }

  async function load(st) {
    const { el, S } = st;
    let info, first;
    try {
      [[info], first] = await Promise.all([counts([st.slug]), page(st)]);
    } catch {
      if (st.ac.signal.aborted) return;
      el.replaceChildren(h("p", { class: "newsroom-note", role: "alert" }, S.loadFailed + " ",
        h("button", { type: "button", class: "newsroom-link", onclick: () => load(st) }, S.retry)));
      return;
    }
    if (st.ac.signal.aborted) return;
    const own = owned(st); // forget the tokens whose window is over
    store.set("own:" + st.slug, own.length ? own : null);
    st.open = info !== false && (!info || info.comments_open);
    st.count = info ? info.comment_count : null;
    st.heading = h("h2", { class: "newsroom-heading", tabindex: -1 });
    st.list = h("div", { class: "newsroom-list" });
    st.more = h("button", { type: "button", class: "newsroom-button newsroom-secondary newsroom-more", onclick: () => more(st) }, S.more);
    st.live = h("div", { class: "newsroom-status", role: "status" }); // what Edit and Delete did
    el.replaceChildren(st.heading, st.list, st.more, st.live);
    addPage(st, first);
    el.append(st.open ? form(st) : h("p", { class: "newsroom-closed", text: S.closed }));
    el.classList.remove("newsroom-loading");
  }

  async function more(st) {
    st.more.disabled = true;
    if (st.moreMsg) st.moreMsg.remove();
    try {
      addPage(st, await page(st));
    } catch {
      if (!st.ac.signal.aborted) st.more.after((st.moreMsg = h("p", { class: "newsroom-note", role: "alert", text: st.S.loadFailed })));
    }
    st.more.disabled = false;
  }

  function addPage(st, data) {
    for (const c of data.items || []) if (!st.nodes.has(c.id)) st.list.append(comment(st, c));
    st.cursor = data.next_cursor;
    st.more.hidden = !st.cursor;
    showPending(st);
    heading(st);
  }

  function heading(st) {
    st.heading.textContent = countText(st.S, st.locale, st.count ?? st.nodes.size);
  }

  /** One approved comment more (or fewer) shown: the heading and the page's counts of it. */
  function recount(st, by) {
    if (st.count != null) st.count = Math.max(st.count + by, 0);
    heading(st);
    for (const e of document.querySelectorAll("[data-newsroom-count]")) if (e.dataset.newsroomCount === st.slug) e.textContent = st.heading.textContent;
  }

  function timeAgo(st, iso) {
    const s = (Date.parse(iso) - Date.now()) / 1000;
    for (const [unit, n] of [["year", 31536e3], ["month", 2592e3], ["week", 6048e2], ["day", 864e2], ["hour", 3600], ["minute", 60]]) {
      if (Math.abs(s) >= n) return st.rtf.format(Math.trunc(s / n), unit);
    }
    return st.rtf.format(Math.trunc(s), "second");
  }

  function safeUrl(u) {
    try {
      return u && /^https?:$/.test(new URL(u).protocol) ? u : null;
    } catch { return null; }
  }

  const SVG = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  };

  /** A 5x5 mirrored identicon from the API's hex seed: the colour from its first digits. */
  function avatar(seed) {
    const hex = String(seed || "").replace(/[^0-9a-f]/gi, "");
    const s = svg("svg", { class: "newsroom-avatar", viewBox: "-1 -1 7 7", "aria-hidden": "true", focusable: "false" });
    const fill = `hsl(${parseInt(hex.slice(0, 3) || "0", 16) % 360} 55% 45%)`;
    for (let i = 0; i < 15 && hex.length >= 18; i++) {
      if (!(parseInt(hex[i + 3], 16) & 1)) continue;
      const x = i % 3, y = (i / 3) | 0;
      for (const cx of new Set([x, 4 - x])) s.append(svg("rect", { x: cx, y, width: 1, height: 1, fill }));
    }
    return s;
  }

  /** One comment. Author text goes in as text; body_html (sanitised by the API) is the only HTML inserted. */
  function comment(st, c, pending) {
    const depth = Math.min(Math.max(c.depth | 0, 1), 5);
    const url = safeUrl(c.author_url);
    const body = h("div", { class: "newsroom-body", dir: "auto" });
    if (pending) body.textContent = c.body;
    else body.innerHTML = c.body_html; // sanitised HTML from the API: the one innerHTML of the widget
    const when = h("time", { class: "newsroom-time", datetime: c.created_at, title: st.dtf.format(new Date(c.created_at)) });
    when.textContent = timeAgo(st, c.created_at);
    const main = h("div", { class: "newsroom-main" },
      h("header", { class: "newsroom-meta" },
        url ? h("a", { class: "newsroom-author", href: url, rel: "nofollow ugc noopener", text: c.author_name })
          : h("span", { class: "newsroom-author", text: c.author_name }),
        when),
      body);
    const node = h("article", {
      class: `newsroom-comment newsroom-depth-${depth}${pending ? " newsroom-pending" : ""}`,
      id: "newsroom-comment-" + c.id, "data-depth": depth, tabindex: -1,
    }, avatar(c.avatar), main);
    if (pending) {
      main.append(h("p", { class: "newsroom-held", text: st.S.held }));
      st.pending.set(c.id, node);
    } else {
      if (st.open) main.append(h("button", { type: "button", class: "newsroom-link newsroom-reply", onclick: () => reply(st, node, c) }, st.S.reply));
      st.nodes.set(c.id, node);
    }
    ownActions(st, node, c, main);
    return node;
  }

  /** Put a comment where thread order wants it: after its parent's last descendant. */
  function place(st, node, parentId) {
    let at = parentId && st.nodes.get(parentId);
    if (!at) return st.list.append(node);
    const depth = +at.dataset.depth;
    for (let n; (n = at.nextElementSibling) && (n === st.form || +n.dataset.depth > depth);) at = n;
    at.after(node);
  }

  // ---- the reader's own held comments, kept in localStorage until approved or 30 days old ----

  function showPending(st) {
    const kept = (store.get("pending:" + st.slug) || [])
      .filter((p) => !st.nodes.has(p.id) && Date.now() - Date.parse(p.created_at) < KEEP_PENDING);
    store.set("pending:" + st.slug, kept.length ? kept : null);
    for (const [id, node] of st.pending) if (st.nodes.has(id)) { node.remove(); st.pending.delete(id); }
    for (const p of kept) place(st, st.pending.get(p.id) || comment(st, p, true), p.parent_id);
  }

  // ---- the reader's own comments: Edit and Delete while the API allows (editable_until) ----

  const owned = (st) => (store.get("own:" + st.slug) || []).filter((o) => Date.parse(o.until) > Date.now());

  function keepOwn(st, own, gone) {
    const rest = owned(st).filter((o) => o.id !== own.id);
    store.set("own:" + st.slug, gone ? (rest.length ? rest : null) : [...rest, own]);
  }

  function ownActions(st, node, c, main) {
    const own = owned(st).find((o) => o.id === c.id);
    if (!own || !st.open) return;
    const S = st.S;
    main.append(h("p", { class: "newsroom-own" },
      h("button", { type: "button", class: "newsroom-link", onclick: () => editing(st, node, c, own) }, S.edit), " ",
      h("button", { type: "button", class: "newsroom-link", onclick: () => confirming(st, node, c, own) }, S.del)));
    // Hidden when the window closes; the API refuses later tries anyway (403).
    setTimeout(() => node.querySelector(".newsroom-own")?.remove(), Math.min(Date.parse(own.until) - Date.now(), 2e9));
  }

  /** The reader's own comment is no longer theirs to change (window over, a reply, gone). */
  function locked(st, node, own) {
    keepOwn(st, own, true);
    for (const e of node.querySelectorAll(".newsroom-own,.newsroom-edit,.newsroom-confirm")) e.remove();
    node.querySelector(".newsroom-body").hidden = false;
    st.live.textContent = st.S.locked;
  }

  function ownCall(st, c, own, method, body) {
    return call(`/articles/${encodeURIComponent(st.slug)}/comments/${encodeURIComponent(c.id)}`, {
      method, body, signal: st.ac.signal,
      headers: { Authorization: "Bearer " + own.token, ...(body ? { "Content-Type": "application/json", "Idempotency-Key": own.key } : {}) },
    });
  }

  function editing(st, node, c, own) {
    const S = st.S, body = node.querySelector(".newsroom-body"), bar = node.querySelector(".newsroom-own");
    const fid = `newsroom-${st.id}-edit-${c.id}`;
    const text = h("textarea", { id: fid, name: "body", rows: 4, required: true, maxlength: 65525, dir: "auto", oninput: () => unmark(text) });
    text.value = own.body || "";
    const alert = h("div", { class: "newsroom-alert", role: "alert" });
    const save = h("button", { type: "submit", class: "newsroom-button" }, S.saveEdit);
    const close = () => { f.remove(); body.hidden = bar.hidden = false; bar.firstChild.focus(); };
    const f = h("form", {
      class: "newsroom-edit", onkeydown: (e) => e.key === "Escape" && close(),
      onsubmit: async (e) => {
        e.preventDefault();
        if (save.disabled) return;
        const json = JSON.stringify({ body: text.value });
        if (json !== own.sent) { own.sent = json; own.key = uuid(); } // a retry keeps its key
        save.disabled = true;
        alert.replaceChildren();
        try {
          const r = await ownCall(st, c, own, "PATCH", json);
          if (r.ok) return edited(st, node, c, { ...own, body: text.value, sent: null }, r.data);
          if (r.status === 401 || r.status === 403 || r.status === 404) return locked(st, node, own);
          if (!(r.status === 422 && mark(f, S, (r.data.error || {}).details || []))) alert.append(h("p", { text: refusal(S, r) }));
        } catch {
          if (!st.ac.signal.aborted) alert.append(h("p", { text: S.network }));
        } finally { save.disabled = false; }
      },
    }, h("p", { class: "newsroom-field" }, h("label", { for: fid, text: S.editLabel }), text), alert,
      h("p", { class: "newsroom-actions" }, save, " ",
        h("button", { type: "button", class: "newsroom-button newsroom-secondary", onclick: close }, S.cancel)));
    body.hidden = bar.hidden = true;
    body.after(f);
    text.focus();
  }

  /** Show an edit the API accepted: read back when public, else as the reader's own held comment. */
  async function edited(st, node, c, own, { status }) {
    keepOwn(st, own);
    const was = st.nodes.get(c.id) === node, mine = { ...c, body: own.body };
    let shown;
    if (status === "approved") {
      try {
        const r = await call(`/articles/${encodeURIComponent(st.slug)}/comments/${encodeURIComponent(c.id)}`, { signal: st.ac.signal });
        if (r.ok) shown = comment(st, r.data);
      } catch { /* shown as held below */ }
    }
    if (!shown) {
      if (was) { st.nodes.delete(c.id); recount(st, -1); }
      const held = (store.get("pending:" + st.slug) || []).filter((p) => p.id !== c.id);
      store.set("pending:" + st.slug, [...held, mine]);
      shown = comment(st, mine, true);
    }
    node.replaceWith(shown);
    st.live.textContent = status === "approved" ? st.S.updated : st.S.held;
    shown.querySelector(".newsroom-own button")?.focus();
  }

  function confirming(st, node, c, own) {
    const S = st.S, bar = node.querySelector(".newsroom-own"), qid = `newsroom-${st.id}-sure-${c.id}`;
    const close = () => { ask.remove(); bar.hidden = false; bar.lastChild.focus(); };
    const keep = h("button", { type: "button", class: "newsroom-link", onclick: close }, S.keep);
    const ask = h("p", { class: "newsroom-confirm", role: "group", "aria-labelledby": qid, onkeydown: (e) => e.key === "Escape" && close() },
      h("span", { id: qid, text: S.sure }), " ",
      h("button", { type: "button", class: "newsroom-link", onclick: () => removing(st, node, c, own, ask) }, S.del), " ", keep);
    bar.hidden = true;
    bar.after(ask);
    keep.focus();
  }

  async function removing(st, node, c, own, ask) {
    let r;
    try { r = await ownCall(st, c, own, "DELETE"); } catch { r = { status: 0, data: {}, headers: new Headers() }; }
    if (st.ac.signal.aborted) return;
    if (r.status === 204) {
      keepOwn(st, own, true);
      store.set("pending:" + st.slug, (store.get("pending:" + st.slug) || []).filter((p) => p.id !== c.id));
      if (st.nodes.get(c.id) === node) { st.nodes.delete(c.id); recount(st, -1); }
      st.pending.delete(c.id);
      node.remove();
      st.live.textContent = st.S.deleted;
      st.heading.focus();
    } else if (r.status === 401 || r.status === 403) locked(st, node, own);
    else {
      ask.querySelector("[role=alert]")?.remove();
      ask.append(h("span", { class: "newsroom-alert", role: "alert", text: " " + (r.status ? refusal(st.S, r) : st.S.network) }));
    }
  }

  // ---- the form ----

  function form(st) {
    const { S, slug } = st;
    const id = (k) => `newsroom-${st.id}-${k}`;
    const saved = store.get("author") || {};
    const label = (k, text, req) => h("label", { for: id(k) }, text, req ? h("span", { class: "newsroom-required", text: " *" }) : null);
    const field = (k, text, req, input) => h("p", { class: `newsroom-field newsroom-field-${k}` }, label(k, text, req), input);
    const check = (k, text, checked) => h("p", { class: "newsroom-check" },
      h("input", { type: "checkbox", id: id(k), name: k, checked }), label(k, text));
    const input = (k, attrs, value) => {
      const e = h(attrs.rows ? "textarea" : "input", { id: id(k), name: k, ...attrs, oninput: () => unmark(e) });
      e.value = value || "";
      return e;
    };
    st.replyTo = h("span");
    st.replyBox = h("p", { class: "newsroom-replying-to", hidden: true }, st.replyTo, " ",
      h("button", { type: "button", class: "newsroom-link", onclick: () => cancel(st, true) }, S.cancel));
    st.status = h("div", { class: "newsroom-status", role: "status" });
    st.alert = h("div", { class: "newsroom-alert", role: "alert" });
    st.submit = h("button", { type: "submit", class: "newsroom-button" }, S.post);
    const f = h("form", { class: "newsroom-form", onsubmit: (e) => { e.preventDefault(); submit(st); } },
      h("h3", { class: "newsroom-title", text: S.title }),
      st.replyBox,
      h("p", { class: "newsroom-notes" }, h("span", { id: id("email-notes"), text: S.emailNote }), " ", h("span", { text: S.required })),
      field("body", S.comment, true, input("body", { rows: 6, required: true, maxlength: 65525, dir: "auto" }, store.get("draft:" + slug))),
      h("div", { class: "newsroom-who" },
        field("author_name", S.name, true, input("author_name", { autocomplete: "name", required: true, maxlength: 245 }, saved.name)),
        field("author_email", S.email, true, input("author_email", { type: "email", autocomplete: "email", required: true, maxlength: 100, "aria-describedby": id("email-notes") }, saved.email)),
        field("author_url", S.website, false, input("author_url", { type: "url", autocomplete: "url", maxlength: 200 }, saved.url))),
      h("p", { class: "newsroom-hp", "aria-hidden": "true" }, label("phone", S.phone),
        h("input", { id: id("phone"), name: "phone", tabindex: -1, autocomplete: "off" })),
      check("notify_replies", S.notify, false),
      check("save", S.save, !!saved.name),
      st.status, st.alert,
      h("p", { class: "newsroom-actions" }, st.submit));
    f.elements.body.addEventListener("input", () => store.set("draft:" + slug, f.elements.body.value));
    f.addEventListener("focusin", () => extras(st), { once: true });
    f.elements.save.addEventListener("change", (e) => { if (!e.target.checked) store.set("author", null); });
    return (st.form = f);
  }

  function reply(st, node, c) {
    st.parent = c;
    st.replyButton = node.querySelector(".newsroom-reply");
    st.replyTo.textContent = fmt(st.S.replyingTo, { name: c.author_name });
    st.replyBox.hidden = false;
    st.form.className = `newsroom-form newsroom-replying newsroom-depth-${Math.min(c.depth + 1, 5)}`;
    node.after(st.form);
    st.form.elements.body.focus();
  }

  function cancel(st, focus) {
    const back = st.replyButton;
    st.parent = st.replyButton = null;
    st.replyBox.hidden = true;
    st.form.className = "newsroom-form";
    st.el.append(st.form);
    if (focus && back) back.focus();
  }

  function say(st, text, isError, ...extra) {
    st.status.replaceChildren();
    st.alert.replaceChildren();
    if (text) (isError ? st.alert : st.status).append(h("p", { text }), ...extra);
  }

  function mark(form, S, details) {
    let first;
    for (const d of details) {
      const e = form.elements[d.field];
      if (!e || !e.id || e.type === "checkbox") continue;
      unmark(e);
      const msg = h("p", { class: "newsroom-error", id: e.id + "-error", text: S.bad[d.field] || d.message.replace(/^Value error, (.)/, (_, c) => c.toUpperCase()) });
      e.setAttribute("aria-invalid", "true");
      e.setAttribute("aria-describedby", ((e.getAttribute("aria-describedby") || "") + " " + msg.id).trim());
      e.after(msg);
      first = first || e;
    }
    if (first) first.focus();
    return first;
  }

  function unmark(e) {
    if (!e.hasAttribute("aria-invalid")) return;
    e.removeAttribute("aria-invalid");
    const rest = e.getAttribute("aria-describedby").split(" ").filter((x) => x !== e.id + "-error").join(" ");
    if (rest) e.setAttribute("aria-describedby", rest); else e.removeAttribute("aria-describedby");
    document.getElementById(e.id + "-error")?.remove();
  }

  /** embed/form.js: a form token, a proof of work, when the API asks for them. */
  const extras = (st) => (st.fx ||= new Promise((ok, no) => window.newsroomForm ? ok() : document.head.append(
    h("script", { src: `${API}/embed/form.js?v=${VERSION}`, onload: ok, onerror: no })))
    .then(() => window.newsroomForm(call, `${API}/embed/altcha.js?v=${VERSION}`), () => () => ({})));

  async function submit(st) {
    if (st.busy) return;
    const F = st.form.elements, S = st.S;
    const post = {
      author_name: F.author_name.value, author_email: F.author_email.value, author_url: F.author_url.value.trim(),
      body: F.body.value, notify_replies: F.notify_replies.checked, phone: F.phone.value,
    };
    if (st.parent) post.parent_id = st.parent.id;
    store.set("author", F.save.checked ? { name: post.author_name, email: post.author_email, url: post.author_url } : null);
    st.busy = st.submit.disabled = true;
    st.form.setAttribute("aria-busy", "true");
    say(st);
    for (const e of st.form.querySelectorAll("[aria-invalid]")) unmark(e);
    try {
      let r, code;
      for (let i = 0; i < 2; i++) {
        Object.assign(post, await (await extras(st))(code, () => say(st, S.checking)));
        say(st);
        const json = JSON.stringify(post);
        if (json !== st.sent) { st.sent = json; st.key = uuid(); } // the same text retried keeps its key
        r = await call(`/articles/${encodeURIComponent(st.slug)}/comments`, {
          method: "POST", body: json, signal: st.ac.signal,
          headers: { "Content-Type": "application/json", "Idempotency-Key": st.key },
        });
        code = (r.data.error || {}).code;
        if (!/^(altcha|form_token)_/.test(code)) break;
      }
      if (r.status === 201) await posted(st, post, r.data);
      else failed(st, r);
    } catch {
      if (!st.ac.signal.aborted) {
        say(st, S.network, true, h("button", { type: "button", class: "newsroom-button newsroom-secondary", onclick: () => st.form.requestSubmit() }, S.retry));
      }
    } finally {
      st.busy = st.submit.disabled = false;
      st.form.removeAttribute("aria-busy");
    }
  }

  function failed(st, r) {
    const err = r.data.error || {};
    if (r.status === 422 && err.code === "invalid_request" && mark(st.form, st.S, err.details || [])) say(st, st.S.fix, true);
    else say(st, refusal(st.S, r), true);
  }

  /** What to tell the reader of a refusal other than bad fields. */
  function refusal(S, r) {
    const err = r.data.error || {}, secs = parseInt(r.headers.get("Retry-After"), 10);
    const wait = secs > 0 ? " " + fmt(S.wait[secs === 1 ? 0 : 1], { n: secs }) : "";
    if (r.status === 429 || r.status === 503) return (r.status === 429 ? S.flood : S.busy) + wait;
    return err.code === "comments_closed" ? S.closed : (err.message || S.error) + wait;
  }

  async function posted(st, post, { id, status, edit_token: token, editable_until: until }) {
    const parent = st.parent;
    if (token) keepOwn(st, { id, token, until, body: post.body });
    st.sent = null;
    st.form.elements.body.value = "";
    store.set("draft:" + st.slug, null);
    if (parent) cancel(st);
    let c;
    if (status === "approved") {
      try {
        const r = await call(`/articles/${encodeURIComponent(st.slug)}/comments/${encodeURIComponent(id)}`, { signal: st.ac.signal });
        if (r.ok) c = r.data;
      } catch { /* shown as held below; it appears with the thread on the next visit */ }
    }
    let node;
    if (c) {
      node = comment(st, c);
      place(st, node, c.parent_id);
      recount(st, 1);
      say(st, st.S.posted);
    } else {
      const mine = {
        id, author_name: post.author_name, author_url: post.author_url || null, body: post.body, created_at: new Date().toISOString(),
        parent_id: parent ? (parent.depth >= 5 ? parent.parent_id : parent.id) : null, depth: parent ? Math.min(parent.depth + 1, 5) : 1,
      };
      store.set("pending:" + st.slug, [...(store.get("pending:" + st.slug) || []), mine]);
      node = comment(st, mine, true);
      place(st, node, mine.parent_id);
      say(st, st.S.held);
    }
    node.scrollIntoView({ block: "nearest" });
  }

  // ---- start ----

  const SELECTOR = "[data-newsroom-comments],[data-newsroom-count]";

  /** Mount a placeholder or count element, or every one inside `root`; mounting twice does nothing. */
  function mount(root = document) {
    const els = root.matches && root.matches(SELECTOR) ? [root] : [...root.querySelectorAll(SELECTOR)];
    counts(els.map((e) => e.dataset.newsroomComments || e.dataset.newsroomCount).filter(Boolean));
    for (const e of els) {
      if (e.dataset.newsroomComments) mountThread(e);
      else showCount(e);
    }
  }

  function start() {
    if (!document.querySelector('link[href*="/embed/comments.css"]')) {
      document.head.append(h("link", { rel: "stylesheet", href: `${API}/embed/comments.css?v=${VERSION}` }));
    }
    mount();
  }

  window.newsroom = Object.freeze({ mount, unmount, version: VERSION });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
