// The site's Markdown sources, staged from the repository into one directory that VitePress
// reads (its srcDir):
//
//   book/*.md             -> book/*.md, as they are (book/README.md becomes book/index.md)
//   a file the book links to, outside book/, e.g. ../common/record.hpp
//                         -> common/record.hpp.md: a read-only page of that file, highlighted
//                            (highlight.mjs), one id per line (#L1, #L2, ... as on GitHub)
//   a directory it links to, e.g. ../chapters/ -> chapters/index.md: a listing, and every
//                            file and directory below it gets its own page too
//   index.md              -> the home page
//
// The pages keep the repository's layout, so the book's relative links (../common/x.hpp)
// resolve on the site as they do on GitHub. Only files whose content changed are rewritten,
// and files no longer produced are removed, so `vitepress dev` reloads exactly what changed.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { highlightAll } from "./highlight.mjs";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BOOK = path.join(ROOT, "book");

const FENCE = /^\s*(`{3,}|~{3,})/;

// Lines outside fenced code, with inline code spans removed (as scripts/book reads them).
export function proseLines(text) {
  const out = [];
  let fence = null;
  text.split("\n").forEach((line, i) => {
    const m = FENCE.exec(line);
    if (m) {
      const marker = m[1];
      if (fence === null) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = null;
      return;
    }
    if (fence === null) out.push([i, line.replace(/(`+)(?:(?!\1).)+?\1/g, "")]);
  });
  return out;
}

// Mermaid blocks of a page: [{line (1-based, of the opening fence), code}]. A block is a fence
// whose info string is exactly "mermaid", as vitepress-plugin-mermaid decides.
export function mermaidBlocks(text) {
  const blocks = [];
  let fence = null;
  let current = null;
  text.split("\n").forEach((line, i) => {
    const m = FENCE.exec(line);
    if (fence === null) {
      if (m) {
        fence = m[1];
        const info = line.trim().slice(fence.length).trim();
        if (info === "mermaid") current = { line: i + 1, lines: [] };
      }
      return;
    }
    if (m && m[1][0] === fence[0] && m[1].length >= fence.length && line.trim() === m[1]) {
      if (current) blocks.push({ line: current.line, code: current.lines.join("\n") });
      fence = null;
      current = null;
      return;
    }
    if (current) current.lines.push(line);
  });
  return blocks;
}

const LINK = /(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const REFDEF = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$/;

// Relative link targets of a page ("../common/x.hpp#L3"), in order.
export function relativeLinks(text) {
  const found = [];
  for (const [, line] of proseLines(text)) {
    for (const m of line.matchAll(LINK)) found.push(m[1]);
    const d = REFDEF.exec(line);
    if (d) found.push(d[1]);
  }
  return found.filter((t) => !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(t) && !t.startsWith("#"));
}

export function title(text, fallback) {
  const m = /^#\s+(.+?)\s*#*\s*$/m.exec(text);
  return m ? m[1].trim() : fallback;
}

// The book's pages in reading order: the contents (README.md), then NN-slug.md by number.
export function bookPages() {
  const names = fs.readdirSync(BOOK).filter((n) => n.endsWith(".md") && fs.statSync(path.join(BOOK, n)).isFile());
  const chapters = names
    .filter((n) => /^\d+-.+\.md$/.test(n))
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b));
  return { contents: names.includes("README.md") ? "README.md" : null, chapters };
}

// Repository files (tracked, or new and not ignored), relative paths with "/".
function repositoryFiles() {
  try {
    const out = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
      cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20,
    });
    return out.split("\0").filter((f) => f && fs.statSync(path.join(ROOT, f), { throwIfNoEntry: false })?.isFile());
  } catch {
    // Not a git checkout: every file but build output, dependencies and dot-directories.
    const files = [];
    const walk = (dir) => {
      for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        const rel = dir ? `${dir}/${e.name}` : e.name;
        if (e.name.startsWith(".") || (!dir && (e.name === "build" || e.name === "node_modules"))) continue;
        if (e.isDirectory()) walk(rel);
        else if (e.isFile()) files.push(rel);
      }
    };
    walk("");
    return files;
  }
}

// The site page (path in the staging directory) that shows repository file `file`.
export function sourcePageFor(file) {
  if (file.endsWith(".md")) return file;
  // "x.html" would be the page "x.html.md", served as "x.html.html", which VitePress's client
  // router takes for "x.html" (for an index.html, the directory's listing): the page fails to
  // hydrate. Such a file gets "x.html.txt.md" instead.
  return file.endsWith(".html") ? `${file}.txt.md` : `${file}.md`;
}

function language(file) {
  const base = path.posix.basename(file);
  if (base === "CMakeLists.txt" || file.endsWith(".cmake")) return "cmake";
  const ext = path.posix.extname(base);
  const byExt = {
    ".cpp": "cpp", ".hpp": "cpp", ".h": "cpp", ".cc": "cpp", ".py": "python", ".sh": "bash",
    ".md": "markdown", ".json": "json", ".toml": "toml", ".yml": "yaml", ".yaml": "yaml",
    ".mjs": "js", ".js": "js", ".mts": "ts", ".ts": "ts", ".css": "css",
  };
  if (byExt[ext]) return byExt[ext];
  if (!ext) {
    const first = fs.readFileSync(path.join(ROOT, file), "utf8").split("\n", 1)[0];
    if (/^#!.*\bpython/.test(first)) return "python";
    if (/^#!.*\b(ba)?sh\b/.test(first)) return "bash";
  }
  return "text";
}

function frontmatter(fields) {
  return ["---", ...Object.entries(fields).map(([k, v]) => `${k}: ${JSON.stringify(v)}`), "---", ""].join("\n");
}

// A relative Markdown link from staged page `from` to staged page `to` (both srcDir paths).
function mdLink(from, to) {
  let rel = path.posix.relative(path.posix.dirname(from), to);
  if (!rel.startsWith(".")) rel = `./${rel}`;
  return encodeURI(rel);
}

// Everything to write: Map(stagedPath -> content). Highlighted code is cached in cacheDir.
export async function plan(cacheDir) {
  const out = new Map();
  const { contents, chapters } = bookPages();
  const bookFiles = [...(contents ? [contents] : []), ...chapters];
  const stagedBookPage = (name) => (name === "README.md" ? "book/index.md" : `book/${name}`);
  const titles = new Map();
  const texts = new Map();
  for (const name of bookFiles) {
    const text = fs.readFileSync(path.join(BOOK, name), "utf8");
    texts.set(name, text);
    titles.set(name, title(text, name));
    out.set(stagedBookPage(name), text);
  }

  // What the book links to outside book/, and which pages link to it.
  const all = repositoryFiles().filter((f) => !f.startsWith("book/") || f.includes("/", 5));
  const allSet = new Set(all);
  const linkedFrom = new Map(); // repo path ("common/x.hpp" or "common/") -> Set(book page names)
  for (const name of bookFiles) {
    for (const target of relativeLinks(texts.get(name))) {
      const where = decodeURI(target.split("#")[0]);
      if (!where) continue;
      const resolved = path.posix.normalize(path.posix.join("book", where));
      if (resolved.startsWith("..") || (resolved.startsWith("book/") && !resolved.slice(5).includes("/"))) continue;
      const full = path.join(ROOT, resolved);
      const stat = fs.statSync(full, { throwIfNoEntry: false });
      if (!stat) continue; // a dead link: the site build reports it
      const key = stat.isDirectory() ? `${resolved.replace(/\/+$/, "")}/` : resolved;
      if (key === "./" || key === "book/") continue;
      if (!linkedFrom.has(key)) linkedFrom.set(key, new Set());
      linkedFrom.get(key).add(name);
    }
  }
  const files = new Set();
  const dirs = new Set();
  for (const key of linkedFrom.keys()) {
    if (key.endsWith("/")) {
      dirs.add(key);
      for (const f of all) {
        if (!f.startsWith(key)) continue;
        files.add(f);
        for (let d = path.posix.dirname(f); `${d}/`.startsWith(key) && `${d}/` !== key; d = path.posix.dirname(d)) dirs.add(`${d}/`);
      }
    } else if (allSet.has(key) || fs.existsSync(path.join(ROOT, key))) {
      files.add(key);
    }
  }

  const staged = new Map(); // staged page -> the repository path it shows
  for (const f of files) {
    const page = sourcePageFor(f);
    if (staged.has(page) || out.has(page)) throw new Error(`site: ${f} and ${staged.get(page) ?? page} would share the page ${page}`);
    staged.set(page, f);
  }

  const linkedFromLine = (key, page) => {
    const from = [...(linkedFrom.get(key) ?? [])].sort();
    if (!from.length) return "";
    return `Linked from ${from.map((n) => `[${titles.get(n)}](${mdLink(page, stagedBookPage(n))})`).join(", ")}.\n\n`;
  };
  // "chapters / 01-tcp-echo / server.cpp", each directory linked where it has a listing.
  const crumbs = (repoPath, page) => {
    const parts = repoPath.replace(/\/$/, "").split("/");
    return parts
      .map((part, i) => {
        const dir = `${parts.slice(0, i + 1).join("/")}/`;
        const last = i === parts.length - 1;
        return !last && dirs.has(dir) ? `[\`${part}\`](${mdLink(page, `${dir}index.md`)})` : `\`${part}\``;
      })
      .join(" / ");
  };

  const sources = [...staged].map(([page, f]) => {
    const bytes = fs.readFileSync(path.join(ROOT, f));
    const binary = bytes.includes(0);
    return { page, f, bytes, binary, text: binary ? "" : bytes.toString("utf8").replace(/\n$/, ""), lang: language(f) };
  });
  const code = await highlightAll(sources.filter((s) => !s.binary).map(({ text, lang }) => ({ text, lang })), cacheDir);
  for (const { page, f, bytes, binary, text, lang } of sources) {
    const head = frontmatter({
      title: f, search: false, outline: false, aside: false, prev: false, next: false,
      pageClass: "source-page",
    });
    let body;
    if (binary) {
      body = `This is a binary file (${bytes.length} bytes); it is not shown here.\n`;
    } else {
      const lines = text === "" ? 0 : text.split("\n").length;
      // The markup of VitePress's own code blocks, so that its styles and copy button apply.
      // (One line of HTML per line of code, none blank: Markdown keeps it as one HTML block.)
      const block = `<div class="language-${lang} vp-adaptive-theme source-view"><button title="Copy Code" class="copy">` +
        `</button><span class="lang">${lang}</span>${code.shift()}</div>`;
      body = `${lines} line${lines === 1 ? "" : "s"} · a read-only copy of the repository file, made with ` +
        `this site. Each line number links to its line (#L1, #L2, …).\n\n${linkedFromLine(f, page)}${block}\n`;
    }
    out.set(page, `${head}\n# ${crumbs(f, page)}\n\n${body}`);
  }

  for (const dir of dirs) {
    const page = `${dir}index.md`;
    const children = new Map(); // name -> page
    for (const d of dirs) {
      if (d !== dir && d.startsWith(dir) && !d.slice(dir.length, -1).includes("/")) children.set(d.slice(dir.length), `${d}index.md`);
    }
    const listed = [...children.keys()].sort();
    const fileRows = [...files]
      .filter((f) => f.startsWith(dir) && !f.slice(dir.length).includes("/"))
      .sort()
      .map((f) => {
        const text = fs.readFileSync(path.join(ROOT, f), "utf8");
        const n = text.replace(/\n$/, "") === "" ? 0 : text.replace(/\n$/, "").split("\n").length;
        return `| [\`${f.slice(dir.length)}\`](${mdLink(page, sourcePageFor(f))}) | ${n} lines |`;
      });
    const rows = [
      ...listed.map((name) => `| [\`${name}\`](${mdLink(page, children.get(name))}) | directory |`),
      ...fileRows,
    ];
    const head = frontmatter({ title: dir, search: false, outline: false, aside: false, prev: false, next: false, pageClass: "source-page" });
    out.set(page, `${head}\n# ${crumbs(dir, page)} /\n\n${linkedFromLine(dir, page)}| Name | Size |\n|---|---|\n${rows.join("\n")}\n`);
  }

  // The site's icon (served as /favicon.svg).
  out.set("public/favicon.svg", fs.readFileSync(path.join(BOOK, ".vitepress", "favicon.svg"), "utf8"));

  // The home page.
  const readme = contents ? texts.get(contents) : "";
  const intro = (readme.split(/\n\s*\n/).find((p) => p.trim() && !p.startsWith("#")) ?? "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/\s+/g, " ").trim();
  const first = chapters[0];
  const actions = [
    ...(first ? [{ theme: "brand", text: "Start reading", link: `/book/${first.replace(/\.md$/, "")}` }] : []),
    ...(contents ? [{ theme: "alt", text: "Contents", link: "/book/" }] : []),
  ];
  out.set("index.md", [
    "---", "layout: home", "hero:", "  name: tls-by-hand", `  text: ${JSON.stringify("The book")}`,
    `  tagline: ${JSON.stringify(intro)}`, "  actions:",
    ...actions.flatMap((a) => [`    - theme: ${a.theme}`, `      text: ${JSON.stringify(a.text)}`, `      link: ${a.link}`]),
    "---", "",
  ].join("\n"));
  return out;
}

// Writes the plan into `srcDir`: changed files only, and removes what is no longer planned
// (the .vitepress directory VitePress may create there is left alone).
export async function stage(srcDir, cacheDir) {
  const wanted = await plan(cacheDir);
  let written = 0;
  for (const [rel, content] of wanted) {
    const file = path.join(srcDir, rel);
    if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === content) continue;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    written++;
  }
  let removed = 0;
  const sweep = (dir) => {
    for (const e of fs.readdirSync(path.join(srcDir, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (!dir && e.name.startsWith(".")) continue;
      if (e.isDirectory()) {
        sweep(rel);
        if (fs.readdirSync(path.join(srcDir, rel)).length === 0) fs.rmdirSync(path.join(srcDir, rel));
      } else if (!wanted.has(rel)) {
        fs.rmSync(path.join(srcDir, rel));
        removed++;
      }
    }
  };
  if (fs.existsSync(srcDir)) sweep("");
  return { pages: wanted.size, written, removed, paths: [...wanted.keys()] };
}
