/* newsroom comment widget: what the API may ask a post to carry besides the reader's text,
   loaded by comments.js on the form's first focus (docs/embed.md). GET /form-token: the token of
   when the form was loaded, when the API sets a minimum time before posting; GET /challenge: an
   ALTCHA proof of work, solved by altcha.js (loaded only then). A 404 from either: not asked. */
(() => {
  "use strict";
  const wait = (ms) => new Promise((ok) => setTimeout(ok, ms));

  /** Start fetching one form's extras now (`call`: the widget's fetch; `altchaJs`: the
      solver's URL). Answers `next(code, checking)`: the fields of the next post, after a
      refusal with error `code` if any; `checking()` is called while the reader has to wait. */
  window.newsroomForm = (call, altchaJs) => {
    let pow, solved, ft;
    const solver = () => window.newsroomAltcha || new Promise((ok, no) => document.head.append(
      Object.assign(document.createElement("script"), { src: altchaJs, onload: ok, onerror: no })));
    const proof = () => (pow ||= call("/challenge")
      .then(async (r) => r.ok && (await solver(), window.newsroomAltcha(r.data)))
      .catch(() => 0).finally(() => (solved = 1)));
    const stamp = () => (ft ||= call("/form-token").then((r) => r.ok && r.data, () => 0));
    proof();
    stamp();
    return async (code, checking) => {
      if (/^form_token_/.test(code)) {
        // Expired (the page was left open for a day) or asked for since it was loaded: a new
        // token, and its minimum waited out before the post goes again, so it is not held.
        checking();
        ft = null;
        await wait(((await stamp()).minimum_seconds || 0) * 1e3);
      }
      if (!solved) checking();
      const altcha = await proof(), token = await stamp();
      if (altcha) { pow = solved = null; proof(); } // a solution counts once: the next one starts now
      return { altcha: altcha || undefined, form_token: (token && token.token) || undefined };
    };
  };
})();
