// VitePress configuration of the book's site. `./scripts/book site` builds it and
// `./scripts/book serve` serves it for writers (see book/.vitepress/site.mjs): the pages are
// staged first (stage.mjs) into BOOK_SITE_DIR/src, and the site is written to BOOK_SITE_DIR/site.

import fs from "node:fs";
import path from "node:path";
import { defineConfig } from "vitepress";
import { withMermaid } from "vitepress-plugin-mermaid";
import { BOOK, ROOT, bookPages, mermaidBlocks, title } from "./stage.mjs";

const siteDir = path.resolve(process.env.BOOK_SITE_DIR ?? path.join(ROOT, "build", "book-site"));

// The sidebar, in reading order, from the files in book/ (not a list kept by hand).
function sidebar() {
  const { contents, chapters } = bookPages();
  const items = chapters.map((name) => ({
    text: title(fs.readFileSync(path.join(BOOK, name), "utf8"), name),
    link: `/book/${name.replace(/\.md$/, "")}`,
  }));
  if (contents) items.unshift({ text: "Contents", link: "/book/" });
  return [{ text: "The book", items }];
}

// The code directories at the top of the repository that have a listing page on the site.
function codeMenu() {
  const src = path.join(siteDir, "src");
  if (!fs.existsSync(src)) return [];
  return fs
    .readdirSync(src, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== "book" && !e.name.startsWith(".") && fs.existsSync(path.join(src, e.name, "index.md")))
    .map((e) => ({ text: `${e.name}/`, link: `/${e.name}/` }));
}

// Mermaid's parser, to fail the build on a diagram the browser could not draw. Parsing needs
// none of DOMPurify's sanitising, which has no DOM to work on in Node: its hooks are
// replaced, for this process only, by functions that leave the text as it is.
let parser: ((text: string) => Promise<unknown>) | undefined;
async function mermaidParse(text: string) {
  if (!parser) {
    const purify: any = (await import("dompurify")).default;
    if (typeof purify.sanitize !== "function") {
      purify.sanitize = (s: unknown) => String(s);
      for (const k of ["addHook", "removeHook", "removeHooks", "removeAllHooks"]) purify[k] = () => {};
    }
    const mermaid = (await import("mermaid")).default;
    parser = (t) => mermaid.parse(t);
  }
  return parser(text);
}

// A link from a book page to a repository file outside book/ ("../common/record.hpp") goes to
// that file's page ("../common/record.hpp.html"); one to the contents (README.md) goes to the
// book's index. The Markdown keeps its GitHub form; only the site's HTML changes.
function siteHref(href: string, relativePath: string): string {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:|^\/\/|^#/.test(href)) return href;
  const [where, ...rest] = href.split("#");
  const hash = rest.length ? `#${rest.join("#")}` : "";
  if (!where) return href;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(relativePath), where));
  if (resolved === "book/README.md") {
    return `${path.posix.relative(path.posix.dirname(relativePath), "book/index.md")}${hash}`;
  }
  if (!where.endsWith("/") && fs.statSync(path.join(ROOT, resolved), { throwIfNoEntry: false })?.isDirectory()) {
    return `${where}/${hash}`; // GitHub takes "../common" for "../common/"
  }
  const inBook = resolved.startsWith("book/") && !resolved.slice(5).includes("/");
  if (!inBook && !where.endsWith("/") && !/\.(md|html)$/.test(where) && !resolved.startsWith("..")) {
    return `${where}.html${hash}`;
  }
  return href;
}

const config = withMermaid(
  defineConfig({
    title: "tls-by-hand",
    description: "TLS 1.3 (RFC 8446) built by hand in C++20, one chapter at a time",
    srcDir: path.join(siteDir, "src"),
    outDir: path.join(siteDir, "site"),
    cacheDir: path.join(siteDir, "cache"),
    head: [["link", { rel: "icon", type: "image/svg+xml", href: "/favicon.svg" }]],
    cleanUrls: false,
    lastUpdated: false,
    ignoreDeadLinks: false,
    markdown: {
      config(md) {
        const linkOpen = md.renderer.rules.link_open!;
        md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
          const token = tokens[idx];
          const href = token.attrGet("href");
          if (href && env.relativePath) token.attrSet("href", siteHref(href, env.relativePath));
          return linkOpen(tokens, idx, options, env, self);
        };
      },
    },
    async transformPageData(pageData, { siteConfig }) {
      if (!pageData.filePath.startsWith("book/")) return;
      const staged = path.join(siteConfig.srcDir, pageData.filePath);
      const source = pageData.filePath === "book/index.md" ? "book/README.md" : pageData.filePath;
      for (const block of mermaidBlocks(fs.readFileSync(staged, "utf8"))) {
        try {
          await mermaidParse(block.code);
        } catch (e) {
          const message = String((e as Error).message ?? e);
          const at = /on line (\d+)/.exec(message);
          const line = at ? block.line + Number(at[1]) : block.line;
          throw new Error(`${source}:${line}: Mermaid diagram (the block at line ${block.line}) does not parse:\n${message}`);
        }
      }
    },
    themeConfig: {
      nav: [
        { text: "Contents", link: "/book/" },
        ...(codeMenu().length ? [{ text: "Code", items: codeMenu() }] : []),
      ],
      sidebar: sidebar(),
      outline: [2, 3],
      search: { provider: "local" },
      docFooter: { prev: "Previous", next: "Next" },
      footer: { message: "TLS 1.3 (RFC 8446) built by hand in C++20. The pages and code are the repository's." },
    },
    vite: {
      server: { fs: { allow: [ROOT] } },
      // For `serve`: Mermaid pre-bundled with its dependencies, some of which are CommonJS
      // (fastdom) that a browser cannot import as they are.
      optimizeDeps: { include: ["mermaid"] },
      // The browser test reads the console: Vite's notices about chunk sizes are not errors.
      build: { chunkSizeWarningLimit: 4096 },
    },
    mermaid: {},
    mermaidPlugin: { class: "mermaid" },
  }),
);

// vitepress-plugin-mermaid asks Vite to pre-bundle packages that Mermaid 11 no longer uses
// ("debug"); Vite warns about each one it cannot find, so only those installed are kept.
const include = config.vite?.optimizeDeps?.include;
if (include) {
  config.vite!.optimizeDeps!.include = include.filter((name) => fs.existsSync(path.join(ROOT, "node_modules", name)));
}

export default config;
