#!/usr/bin/env node
// The book as a website (VitePress). Run through scripts/book, which installs what is missing:
//
//   ./scripts/book site [--out DIR]                build the static site into DIR/site
//   ./scripts/book site --test [--out DIR]         build it, then check every page in Chromium
//   ./scripts/book serve [--port N] [--host H]     serve the book with live reload, for writers
//
// DIR defaults to build/book-site. DIR/src holds the staged pages (stage.mjs), DIR/site the
// site, DIR/screenshots one screenshot per page after --test.

import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { BOOK, ROOT, stage } from "./stage.mjs";

const usage = `usage: scripts/book site [--out DIR] [--test]
       scripts/book serve [--out DIR] [--port N] [--host H]
  (or node book/.vitepress/site.mjs build|test|serve with the same options)`;

function fail(message, code = 1) {
  console.error(message);
  process.exit(code);
}

let command;
let options;
try {
  const parsed = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  options = parsed.values;
  if (options.help) {
    console.log(usage);
    process.exit(0);
  }
  if (parsed.positionals.length !== 1 || !["build", "test", "serve"].includes(parsed.positionals[0])) fail(usage, 2);
  command = parsed.positionals[0];
} catch (e) {
  fail(`${e.message}\n${usage}`, 2);
}

const out = path.resolve(options.out ?? path.join(ROOT, "build", "book-site"));
process.env.BOOK_SITE_DIR = out; // read by config.mts
const srcDir = path.join(out, "src");
const siteDir = path.join(out, "site");
const highlightCache = path.join(out, "cache", "highlight");

let vitepress;
try {
  vitepress = await import("vitepress");
} catch {
  fail("site: VitePress is not installed: run ./scripts/bootstrap (it runs `npm ci` in the repository)");
}

// The staged pages import Vue and the theme's packages, which Vite looks for in node_modules
// above them: outside the repository, DIR gets a link to the repository's.
function prepare() {
  fs.mkdirSync(srcDir, { recursive: true });
  if (path.relative(ROOT, out).startsWith("..")) {
    const link = path.join(out, "node_modules");
    if (!fs.existsSync(link)) fs.symlinkSync(path.join(ROOT, "node_modules"), link);
  }
}

async function buildSite() {
  const started = Date.now();
  prepare();
  const staged = await stage(srcDir, highlightCache);
  try {
    await vitepress.build(BOOK);
  } catch (e) {
    fail(`site: the build failed: ${e?.message ?? e}`);
  }
  const count = fs.readdirSync(siteDir, { recursive: true }).filter((f) => String(f).endsWith(".html")).length;
  console.log(`site: ${staged.pages} pages staged, ${count} HTML files in ${path.relative(process.cwd(), siteDir) || "."} ` +
    `(${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

if (command === "build") {
  await buildSite();
} else if (command === "test") {
  const started = Date.now();
  await buildSite();
  const { run } = await import("./browser-test.mjs");
  const ok = await run({ siteDir, screenshots: path.join(out, "screenshots") });
  console.log(`site test: ${ok ? "passed" : "FAILED"} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(ok ? 0 : 1);
} else {
  // serve: stage, start VitePress's dev server, and restage whenever book/ or a file shown
  // on the site changes; the dev server then reloads the pages that changed.
  prepare();
  let { paths } = await stage(srcDir, highlightCache);
  const watched = new Map();
  const directories = () => {
    const dirs = new Set([BOOK]);
    for (const page of paths) {
      const shown = page.endsWith("/index.md") ? page.slice(0, -"index.md".length) : page.replace(/\.md$/, "");
      const real = path.join(ROOT, shown);
      dirs.add(fs.statSync(real, { throwIfNoEntry: false })?.isDirectory() ? real : path.dirname(real));
    }
    return [...dirs].filter((d) => fs.existsSync(d));
  };
  let timer;
  let running = Promise.resolve(); // one restaging at a time
  const restage = () => {
    clearTimeout(timer);
    timer = setTimeout(() => (running = running.then(async () => {
      try {
        const staged = await stage(srcDir, highlightCache);
        paths = staged.paths;
        if (staged.written || staged.removed) {
          console.log(`site: restaged (${staged.written} page(s) written, ${staged.removed} removed)`);
        }
        watch();
      } catch (e) {
        console.error(`site: ${e.message}`);
      }
    })), 150);
  };
  const watch = () => {
    for (const dir of directories()) {
      if (!watched.has(dir)) watched.set(dir, fs.watch(dir, restage));
    }
  };
  watch();

  const port = options.port === undefined ? 5173 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`site: --port ${options.port}: not a port number`, 2);
  const serverOptions = { port, host: options.host ?? "127.0.0.1" };
  const start = async () => {
    const server = await vitepress.createServer(BOOK, serverOptions, async () => {
      await server.close();
      await start();
    });
    await server.listen();
    server.printUrls();
  };
  await start();
}
