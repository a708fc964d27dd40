/**
 * The browser playground at GET /playground: static HTML, CSS and JavaScript modules, embedded as
 * text imports so `deno compile` binaries carry them. The page has no server-side API of its own:
 * it signs every KMS call with SigV4 in the browser (aws4fetch) and sends it to POST /, so it gets
 * the same protocol and the same access control as any other client.
 *
 * @module
 */
import { Hono } from "hono";
import html from "../playground/index.html" with { type: "text" };
import css from "../playground/style.css" with { type: "text" };
import actionJs from "../playground/action.js" with { type: "text" };
import appJs from "../playground/app.js" with { type: "text" };
import cliJs from "../playground/cli.js" with { type: "text" };
import confirmJs from "../playground/confirm.js" with { type: "text" };
import domJs from "../playground/dom.js" with { type: "text" };
import keysJs from "../playground/keys.js" with { type: "text" };
import kmsClientJs from "../playground/kms_client.js" with { type: "text" };
import operationsJs from "../playground/operations.js" with { type: "text" };
import outputJs from "../playground/output.js" with { type: "text" };
import pemJs from "../playground/pem.js" with { type: "text" };
import resultsJs from "../playground/results.js" with { type: "text" };
import sessionJs from "../playground/session.js" with { type: "text" };
import aws4fetchJs from "../node_modules/aws4fetch/dist/aws4fetch.esm.mjs" with { type: "text" };

const JS = "text/javascript; charset=utf-8";

/** Every asset below /playground/, by file name. */
const ASSETS: ReadonlyMap<string, { body: string; type: string }> = new Map([
  ["style.css", { body: css, type: "text/css; charset=utf-8" }],
  ["action.js", { body: actionJs, type: JS }],
  ["app.js", { body: appJs, type: JS }],
  ["cli.js", { body: cliJs, type: JS }],
  ["confirm.js", { body: confirmJs, type: JS }],
  ["dom.js", { body: domJs, type: JS }],
  ["keys.js", { body: keysJs, type: JS }],
  ["kms_client.js", { body: kmsClientJs, type: JS }],
  ["operations.js", { body: operationsJs, type: JS }],
  ["output.js", { body: outputJs, type: JS }],
  ["pem.js", { body: pemJs, type: JS }],
  ["results.js", { body: resultsJs, type: JS }],
  ["session.js", { body: sessionJs, type: JS }],
  ["vendor/aws4fetch.js", { body: aws4fetchJs, type: JS }],
]);

/**
 * Only the app's own origin: no inline script or style, no third-party requests, no framing.
 * `data:` images cover the empty favicon; downloads use `blob:` URLs, which CSP does not govern.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

function _reply(body: string, type: string): Response {
  return new Response(body, {
    headers: {
      "content-type": type,
      "content-security-policy": CONTENT_SECURITY_POLICY,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": "no-store",
    },
  });
}

/**
 * `GET /`: a browser opening the server's address is sent to the playground (302, with a link
 * for clients that do not follow redirects). `POST /` stays the API.
 */
export function rootToPlayground(): Response {
  const body =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>edge-kms</title>' +
    "</head><body><p>This is an AWS KMS-compatible API (POST /). Try it in the " +
    '<a href="/playground">playground</a>.</p></body></html>\n';
  const response = _reply(body, "text/html; charset=utf-8");
  return new Response(response.body, {
    status: 302,
    headers: { ...Object.fromEntries(response.headers), location: "/playground" },
  });
}

/** The playground sub-app; mount it with `app.route("/playground", playgroundApp())`. */
export function playgroundApp(): Hono {
  const app = new Hono();
  app.get("/", () => _reply(html, "text/html; charset=utf-8"));
  app.get("/:path{.+}", (c) => {
    const asset = ASSETS.get(c.req.param("path"));
    return asset === undefined ? c.notFound() : _reply(asset.body, asset.type);
  });
  return app;
}
