// A hookline webhook receiver using only Node's standard library (node:http,
// node:crypto). It verifies each delivery's Standard Webhooks signature (v1,
// HMAC-SHA256) and timestamp, dedupes on webhook-id, answers 204 and prints
// the event type. Plain JavaScript typed with JSDoc, so `tsc --checkJs
// --strict` checks it; renamed receiver.ts it compiles as TypeScript (with
// --strict once the JSDoc types move into the signatures).
//
//   WEBHOOK_SECRET=whsec_... PORT=3000 node receiver.js
//
// See docs/receiving.md for why each step is there.
"use strict";

const http = require("node:http");
const { createHmac, timingSafeEqual } = require("node:crypto");

// How far webhook-timestamp may be from this machine's clock: a captured
// request cannot be replayed after it.
const TOLERANCE_SECONDS = 5 * 60;
const MAX_BODY = 1 << 20;

/**
 * Turns "whsec_<base64>" into the HMAC key: the decoded bytes, not the text.
 * @param {string} secret
 * @returns {Buffer}
 */
function decodeSecret(secret) {
  if (!secret.startsWith("whsec_")) {
    throw new Error("want the endpoint's whsec_... secret");
  }
  return Buffer.from(secret.slice("whsec_".length), "base64");
}

/**
 * Whether any of the space-separated "v1,<base64>" signatures (more than one
 * while the endpoint's secret is being rotated) is the HMAC-SHA256 of
 * "<id>.<timestamp>.<body>".
 * @param {Buffer} key
 * @param {string} id
 * @param {string} timestamp
 * @param {Buffer} body
 * @param {string} header
 * @returns {boolean}
 */
function verify(key, id, timestamp, body, header) {
  const want = createHmac("sha256", key)
    .update(id + "." + timestamp + ".")
    .update(body)
    .digest();
  for (const sig of header.split(" ")) {
    const comma = sig.indexOf(",");
    if (comma < 0 || sig.slice(0, comma) !== "v1") {
      continue; // v1a (ed25519) or a version this receiver does not know
    }
    const got = Buffer.from(sig.slice(comma + 1), "base64");
    // timingSafeEqual takes the same time wherever the bytes differ; it
    // needs equal lengths.
    if (got.length === want.length && timingSafeEqual(got, want)) {
      return true;
    }
  }
  return false;
}

let key;
try {
  key = decodeSecret(process.env.WEBHOOK_SECRET || "");
} catch (err) {
  console.error("WEBHOOK_SECRET: " + (err instanceof Error ? err.message : err));
  process.exit(1);
}
const seen = new Set(); // webhook-ids handled; use your database in production

/**
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {string} reason
 */
function reject(res, status, reason) {
  console.error("rejected: " + reason);
  res.writeHead(status, { "content-type": "text/plain" });
  res.end(reason);
}

const server = http.createServer((req, res) => {
  if (req.method !== "POST") {
    return reject(res, 405, "POST only");
  }
  // Verify the raw bytes as they arrived: a body decoded and encoded again
  // (key order, spacing, escapes) no longer matches its signature. Do not
  // let a JSON body parser run before this.
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      reject(res, 413, "body too large");
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    /** @param {string} name */
    const header = (name) => {
      const value = req.headers[name];
      return typeof value === "string" ? value : "";
    };
    const id = header("webhook-id");
    const timestamp = header("webhook-timestamp");
    const signatures = header("webhook-signature");
    if (!id || !timestamp || !signatures) {
      return reject(res, 400, "missing webhook-id, webhook-timestamp or webhook-signature");
    }
    if (!/^[0-9]+$/.test(timestamp)) {
      return reject(res, 400, "webhook-timestamp is not unix seconds");
    }
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) {
      return reject(res, 401, "webhook-timestamp outside the tolerance");
    }
    if (!verify(key, id, timestamp, body, signatures)) {
      return reject(res, 401, "no valid signature");
    }
    let event;
    try {
      event = JSON.parse(body.toString("utf8"));
    } catch {
      return reject(res, 400, "body is not a JSON event");
    }
    // Deliveries are at least once: the same webhook-id may come again.
    const duplicate = seen.has(id);
    seen.add(id);
    // Answer fast: hand slow work to a queue of your own.
    console.log((duplicate ? "duplicate " : "received ") + id + " " + event.type);
    res.writeHead(204);
    res.end();
  });
});

// HOST=0.0.0.0 to take deliveries from other machines.
const host = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || 3000);
server.listen(port, host, () => console.error(`listening on ${host}:${port}`));
