// The built site, checked in a real browser: Debian's Chromium (/usr/bin/chromium, or
// $BOOK_CHROMIUM), driven headless by playwright-core, which downloads no browser.
//
// The site is served on a free loopback port; every HTML page of it is opened, and then
//   - the page logged no console error and threw no exception;
//   - no request failed, none got an HTTP error, and none left this machine;
//   - every Mermaid block of its Markdown became an SVG, no "Syntax error" is shown, and
//     every label fits its box;
//   - every link to this site, from any page, goes to a file that exists, and its #fragment
//     names an element of the target page as the browser rendered it (headings, #L lines);
//     and everything a page loads (<link>, <script>, <img>) is a file of the site;
//   - a screenshot is written to SCREENSHOTS/<page>.png (the whole page for the book's pages,
//     the first screen for the code pages).
// Then the local search is opened and must find a word of the book.
// Every wait is for a condition (the app mounted, the diagrams drawn, the requests done),
// each bounded by a timeout that only a failure reaches.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { chromium } from "playwright-core";
import { mermaidBlocks } from "./stage.mjs";

const CHROMIUM = process.env.BOOK_CHROMIUM ?? "/usr/bin/chromium";
// As Chromium must run here (as root, no GPU, and without reaching Google's services).
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const TIMEOUT = 30_000; // for any one condition; reached only when something is wrong
const SEARCH_WORD = "record_overflow";

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css",
  ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
  ".woff2": "font/woff2", ".woff": "font/woff", ".txt": "text/plain; charset=utf-8",
};

// The file a site path names ("/book/" -> "/book/index.html"), or null outside the site.
function fileOf(siteDir, pathname) {
  let p;
  try {
    p = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (p.endsWith("/")) p += "index.html";
  const file = path.resolve(siteDir, `.${p}`);
  return file.startsWith(siteDir + path.sep) ? file : null;
}

function serve(siteDir) {
  const server = http.createServer((req, res) => {
    const file = fileOf(siteDir, new URL(req.url, "http://localhost").pathname);
    fs.readFile(file ?? "", (err, data) => {
      if (err) {
        res.writeHead(404, { "Content-Type": "text/plain" });
        res.end("not found\n");
        return;
      }
      // As a real host would: the hashed assets are cached, so each page does not load and
      // compile the same scripts again.
      const cache = file.startsWith(path.join(siteDir, "assets") + path.sep) ? "public, max-age=31536000, immutable" : "no-cache";
      res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream", "Cache-Control": cache });
      res.end(data);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

function htmlPages(siteDir) {
  return fs
    .readdirSync(siteDir, { recursive: true })
    .map((f) => String(f).split(path.sep).join("/"))
    .filter((f) => f.endsWith(".html") && f !== "404.html")
    .map((f) => `/${f}`.replace(/(^|\/)index\.html$/, "$1"))
    .sort();
}

// "/book/" -> "book/index", "/common/net.hpp.html" -> "common/net.hpp": the staged Markdown
// page and the screenshot's name.
function pageName(url) {
  return (url.endsWith("/") ? `${url}index` : url.replace(/\.html$/, "")).slice(1);
}

export async function run({ siteDir, screenshots }) {
  siteDir = path.resolve(siteDir);
  const srcDir = path.join(path.dirname(siteDir), "src");
  fs.rmSync(screenshots, { recursive: true, force: true });
  const started = Date.now();
  const problems = [];
  const report = (where, what) => problems.push(`${where}: ${what}`);

  const server = await serve(siteDir);
  const origin = `http://127.0.0.1:${server.address().port}`;
  let browser;
  try {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run ./scripts/bootstrap (Debian package chromium)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false, args: FLAGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    let current = "(no page)";
    // Nothing may leave this machine: such a request is refused and reported.
    await context.route((url) => url.origin !== origin, (route) => {
      report(current, `request to another host: ${route.request().url()}`);
      return route.abort();
    });

    const pages = htmlPages(siteDir);
    const ids = new Map(); // page url -> Set of element ids
    const links = []; // {from, url, what}
    let diagrams = 0;

    // One tab goes from page to page (each a full load). `state` is the page being checked.
    const page = await context.newPage();
    let state = { url: "(none)", inflight: 0, leaving: true, failed: () => {}, settled: () => {} };
    const fail = (what) => {
      report(state.url, what);
      state.failed();
    };
    // (a message and the first lines of its stack)
    page.on("console", (m) => m.type() === "error" && fail(`console error: ${m.text().split("\n").slice(0, 4).join("\n")}`));
    page.on("pageerror", (e) => fail(`uncaught exception: ${e.message}`));
    page.on("request", () => state.inflight++);
    const done = () => --state.inflight <= 0 && state.settled();
    page.on("requestfinished", done);
    page.on("requestfailed", (r) => {
      done();
      // Leaving a page cancels what it was still fetching (VitePress prefetches the pages it
      // links to): that is not a failure.
      if (state.leaving && r.failure()?.errorText === "net::ERR_ABORTED") return;
      if (new URL(r.url()).origin === origin) fail(`request failed: ${r.url()} (${r.failure()?.errorText})`);
    });
    page.on("response", (r) => r.status() >= 400 && fail(`HTTP ${r.status()} for ${r.url()}`));
    // Resolves when `promise` does, or after TIMEOUT with `onTimeout()`; no timer is left behind.
    const within = (promise, onTimeout) => {
      let timer;
      return Promise.race([promise, new Promise((resolve) => (timer = setTimeout(() => resolve(onTimeout()), TIMEOUT)))])
        .finally(() => clearTimeout(timer));
    };

    for (const url of pages) {
      current = url;
      state.leaving = true;
      const failure = new Promise((resolve) => (state = { url, inflight: 0, leaving: true, failed: resolve, settled: () => {} }));
      const source = path.join(srcDir, `${pageName(url)}.md`);
      const expected = fs.existsSync(source) ? mermaidBlocks(fs.readFileSync(source, "utf8")).length : 0;
      diagrams += expected;
      try {
        await page.goto(origin + url, { waitUntil: "load", timeout: TIMEOUT });
        state.leaving = false;
        // The app has mounted, and every diagram is drawn (or something failed first).
        await page.waitForFunction(() => document.querySelector("#app")?.__vue_app__ !== undefined, null, { timeout: TIMEOUT });
        if (expected > 0) {
          await Promise.race([
            page.waitForFunction((n) => {
              const blocks = [...document.querySelectorAll(".vp-doc .mermaid")];
              return blocks.length >= n && blocks.every((b) => b.querySelector("svg"));
            }, expected, { timeout: TIMEOUT }).catch(() => {}),
            failure,
          ]);
        }
        await page.evaluate(() => document.fonts.ready.then(() => true));
        if (state.inflight > 0) {
          await within(Promise.race([new Promise((resolve) => (state.settled = resolve)), failure]),
            () => report(url, `${state.inflight} request(s) still open after ${TIMEOUT / 1000} s`));
        }

        const drawn = await page.evaluate(() => {
          const blocks = [...document.querySelectorAll(".vp-doc .mermaid")];
          return {
            blocks: blocks.length,
            svgs: blocks.filter((b) => b.querySelector("svg")).length,
            // Mermaid draws its error as an SVG (in the block, or appended to <body>); the words in
            // the page's own text (a code listing that checks for them) are not an error.
            syntaxError: [...blocks, ...document.querySelectorAll("svg")].some((s) =>
              /Syntax error/i.test(s.textContent ?? "")),
            // A label drawn in a box smaller than its text is cut off (the box clips it).
            clipped: [...document.querySelectorAll(".vp-doc .mermaid svg foreignObject")].flatMap((box) => {
              const label = box.firstElementChild;
              const outer = box.getBoundingClientRect();
              if (!label || outer.width === 0 || outer.height === 0) return [];
              const inner = label.getBoundingClientRect();
              return inner.width > outer.width + 1 || inner.height > outer.height + 1
                ? [`"${label.textContent.trim().slice(0, 50)}" (${Math.ceil(inner.width)}x${Math.ceil(inner.height)} px of text ` +
                  `in a ${Math.floor(outer.width)}x${Math.floor(outer.height)} px box)`]
                : [];
            }),
          };
        });
        for (const label of drawn.clipped) report(url, `a Mermaid label is cut off: ${label}`);
        if (drawn.blocks !== expected) report(url, `${expected} Mermaid block(s) in the page's Markdown, ${drawn.blocks} on the page`);
        if (drawn.svgs < drawn.blocks) report(url, `${drawn.blocks - drawn.svgs} of ${drawn.blocks} Mermaid block(s) did not become an SVG`);
        if (drawn.syntaxError) report(url, `the page shows "Syntax error" (a Mermaid diagram that does not parse)`);

        ids.set(url, new Set(await page.$$eval("[id]", (els) => els.map((e) => e.id))));
        // Links, and what the page loads (the icon, scripts, styles, images): the second may
        // be fetched after the checks above (the icon is), so each must be a file of the site.
        links.push(...(await page.$$eval("a[href], link[href], script[src], img[src]", (els) => els.map((e) => ({
          // (an <a> inside an SVG has an SVGAnimatedString for href)
          url: new URL(typeof e.href === "string" ? e.href : e.href?.baseVal ?? e.src, document.baseURI).href,
          what: e.tagName === "A" ? `link "${(e.textContent ?? "").trim().slice(0, 60)}"` : `<${e.tagName.toLowerCase()}>`,
        })))).map((l) => ({ from: url, ...l })));
        const shot = path.join(screenshots, `${pageName(url)}.png`);
        fs.mkdirSync(path.dirname(shot), { recursive: true });
        const codePage = await page.$(".source-page");
        await page.screenshot({ path: shot, fullPage: !codePage });
      } catch (e) {
        report(url, `could not be checked: ${e.message.split("\n")[0]}`);
      }
    }
    state.leaving = true;
    await page.close();

    // Every link to this site resolves, and so does its #fragment.
    const files = new Map(); // path -> exists
    let checked = 0;
    for (const link of links) {
      const target = new URL(link.url);
      if (target.origin !== origin) continue;
      checked++;
      const key = target.pathname.replace(/(^|\/)index\.html$/, "$1");
      const file = fileOf(siteDir, target.pathname);
      if (!files.has(key)) files.set(key, file !== null && fs.existsSync(file));
      const label = `${link.what} to ${target.pathname}${target.hash}`;
      if (!files.get(key)) {
        report(link.from, `${label}: no such page or file`);
      } else if (target.hash && target.hash !== "#") {
        const known = ids.get(key);
        const id = decodeURIComponent(target.hash.slice(1));
        if (!known) report(link.from, `${label}: the target is not a page, it has no #${id}`);
        else if (!known.has(id)) report(link.from, `${label}: no element with id "${id}" on ${key}`);
      }
    }

    // The local search finds a word of the book.
    current = "search";
    const search = await context.newPage();
    search.on("pageerror", (e) => report("search", `uncaught exception: ${e.message}`));
    try {
      await search.goto(`${origin}/book/`, { waitUntil: "load", timeout: TIMEOUT });
      await search.waitForFunction(() => document.querySelector("#app")?.__vue_app__ !== undefined, null, { timeout: TIMEOUT });
      await search.click(".VPNavBarSearch button", { timeout: TIMEOUT });
      await search.fill("#localsearch-input", SEARCH_WORD, { timeout: TIMEOUT });
      await search.waitForSelector(".VPLocalSearchBox .results .result", { timeout: TIMEOUT });
      const found = await search.$$eval(".VPLocalSearchBox .results .result", (rs) => rs.length);
      await search.screenshot({ path: path.join(screenshots, "search.png") });
      if (found === 0) report("search", `no result for "${SEARCH_WORD}"`);
    } catch (e) {
      report("search", `searching for "${SEARCH_WORD}" found nothing: ${e.message.split("\n")[0]}`);
    }
    await search.close();

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`browser: ${pages.length} pages, ${diagrams} Mermaid diagrams, ${checked} links to the site checked ` +
      `in ${seconds} s; screenshots in ${screenshots}`);
  } catch (e) {
    report("browser", e.message.split("\n")[0]);
  } finally {
    await browser?.close();
    server.close();
  }
  for (const p of problems) console.error(`FAIL ${p}`);
  console.log(`${problems.length === 0 ? 1 : 0} passed, ${problems.length === 0 ? 0 : 1} failed`);
  return problems.length === 0;
}
