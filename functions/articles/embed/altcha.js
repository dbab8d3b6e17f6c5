/* newsroom comment widget: the ALTCHA proof-of-work solver, loaded by comments.js only when the
   API asks for one (docs/embed.md). A port of the altcha package's solve_challenge (PoW v2,
   PBKDF2): derive nonce + big-endian uint32 counter until the key starts with keyPrefix. */
(() => {
  "use strict";
  const bytes = (x) => Uint8Array.from(x.match(/../g) || [], (b) => parseInt(b, 16));
  const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");

  /** The payload the API takes as `altcha`: base64 JSON of the challenge and its solution. */
  window.newsroomAltcha = async (challenge) => {
    const p = challenge.parameters, started = performance.now();
    const nonce = bytes(p.nonce), salt = bytes(p.salt), prefix = p.keyPrefix.toLowerCase();
    const hash = p.algorithm.split("/")[1] || "SHA-256";
    const password = new Uint8Array(nonce.length + 4);
    password.set(nonce);
    for (let counter = 0; ; counter++) {
      new DataView(password.buffer).setUint32(nonce.length, counter);
      const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
      const derivedKey = hex(await crypto.subtle.deriveBits(
        { name: "PBKDF2", hash, salt, iterations: p.cost }, key, (p.keyLength || 32) * 8));
      if (derivedKey.startsWith(prefix)) {
        const solution = { counter, derivedKey, time: performance.now() - started };
        return btoa(JSON.stringify({ challenge, solution }));
      }
    }
  };
})();
