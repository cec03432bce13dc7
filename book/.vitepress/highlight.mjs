// Syntax highlighting of the repository files' pages, done before VitePress builds: with
// Shiki, as VitePress highlights the book's own code blocks (same themes, same markup), but
// in two worker threads, and cached by content in DIR/cache/highlight, because a whole
// repository file through Shiki's TextMate grammars costs seconds (C++ about 25 KB/s).
//
// Each line is a <span class="line" id="L12"> that starts with <a class="line-number"
// href="#L12">, whose number CSS shows (theme/style.css); the copy button copies no numbers.

import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker, isMainThread, parentPort } from "node:worker_threads";

const THEMES = { light: "github-light", dark: "github-dark" };
const LANGS = ["cpp", "python", "bash", "cmake", "markdown", "json", "toml", "yaml", "js", "ts", "css"];

async function highlighter() {
  const { createHighlighter } = await import("shiki");
  const shiki = await createHighlighter({ themes: Object.values(THEMES), langs: LANGS });
  return ({ text, lang }) =>
    shiki.codeToHtml(text, {
      lang: LANGS.includes(lang) ? lang : "text",
      themes: THEMES,
      defaultColor: false,
      transformers: [{
        pre(node) {
          this.addClassToHast(node, "vp-code");
          delete node.properties.style;
          node.properties["v-pre"] = ""; // Vue must not read {{ }} in code
        },
        line(node, line) {
          node.properties.id = `L${line}`;
          node.children.unshift({
            type: "element",
            tagName: "a",
            properties: { class: "line-number", href: `#L${line}`, "data-line": String(line), "aria-label": `line ${line}` },
            children: [],
          });
        },
      }],
    });
}

if (!isMainThread) {
  const render = await highlighter();
  parentPort.on("message", ({ id, job }) => parentPort.postMessage({ id, html: render(job) }));
}

// What the output depends on besides the job: Shiki's version and this file.
let salt = "";
function cacheKey(job) {
  if (!salt) {
    const pkg = new URL("../../node_modules/shiki/package.json", import.meta.url);
    const version = fs.existsSync(pkg) ? JSON.parse(fs.readFileSync(pkg, "utf8")).version : "unknown";
    salt = `${version}\n${fs.readFileSync(new URL(import.meta.url), "utf8")}`;
  }
  return createHash("sha256").update(JSON.stringify([salt, job.lang, job.text])).digest("hex");
}

// The HTML of each job ({text, lang}), in order.
export async function highlightAll(jobs, cacheDir) {
  fs.mkdirSync(cacheDir, { recursive: true });
  const keys = jobs.map(cacheKey);
  const html = keys.map((k) => {
    const file = path.join(cacheDir, `${k}.html`);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null;
  });
  const todo = html.flatMap((h, i) => (h === null ? [i] : []));
  if (todo.length > 0) {
    // The longest first, spread over the workers.
    todo.sort((a, b) => jobs[b].text.length - jobs[a].text.length);
    const count = Math.max(1, Math.min(2, os.availableParallelism?.() ?? os.cpus().length, todo.length));
    const workers = Array.from({ length: count }, () => new Worker(new URL(import.meta.url)));
    try {
      await Promise.all(workers.map(async (worker) => {
        while (todo.length > 0) {
          const i = todo.shift();
          const result = await new Promise((resolve, reject) => {
            const onMessage = (m) => {
              worker.off("error", reject);
              resolve(m.html);
            };
            worker.once("message", onMessage);
            worker.once("error", reject);
            worker.postMessage({ id: i, job: jobs[i] });
          });
          html[i] = result;
          fs.writeFileSync(path.join(cacheDir, `${keys[i]}.html`), result);
        }
      }));
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }
  return html;
}
