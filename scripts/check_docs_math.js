// Render every page's math as the site does (KaTeX auto-render, the delimiters of docs/javascripts/katex.js)
// and report spans that KaTeX cannot render. Usage: node scripts/check_docs_math.js site (needs jsdom; `make docs-math`).
const fs = require("fs"), path = require("path");
const { JSDOM } = require("jsdom");
const site = process.argv[2];
const katexDir = path.join(site, "vendor/katex");
let total = 0, errors = [];
function walk(dir) { for (const f of fs.readdirSync(dir)) { const p = path.join(dir, f);
  if (fs.statSync(p).isDirectory()) { if (f !== "vendor") walk(p); } else if (f === "index.html") check(p); } }
function check(file) {
  const { VirtualConsole } = require("jsdom");
  const dom = new JSDOM(fs.readFileSync(file, "utf8"), { runScripts: "outside-only", virtualConsole: new VirtualConsole() });
  const w = dom.window;
  w.eval(fs.readFileSync(path.join(katexDir, "katex.min.js"), "utf8"));
  w.eval(fs.readFileSync(path.join(katexDir, "contrib/auto-render.min.js"), "utf8"));
  const spans = w.document.querySelectorAll(".arithmatex").length;
  if (!spans) return;
  w.renderMathInElement(w.document.body, {
    delimiters: [ { left: "$$", right: "$$", display: true }, { left: "$", right: "$", display: false },
                  { left: "\\(", right: "\\)", display: false }, { left: "\\[", right: "\\]", display: true } ],
    throwOnError: true, // as on the site: a formula KaTeX cannot parse stays raw text (auto-render logs it)
  });
  const rendered = w.document.querySelectorAll(".arithmatex .katex").length;
  const bad = [...w.document.querySelectorAll(".katex-error")].map(e => e.getAttribute("title") || e.textContent);
  total += spans;
  if (rendered < spans || bad.length) errors.push(`${path.relative(site, file)}: ${spans} math spans, ${rendered} rendered; ${bad.slice(0, 5).join(" | ")}`);
}
walk(site);
console.log(`${total} math spans checked`); console.log(errors.join("\n") || "no errors");
