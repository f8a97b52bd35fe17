// Render the math that pymdownx.arithmatex (generic mode) wraps in <span class="arithmatex">,
// with the KaTeX copied into docs/vendor/katex by `make docs` (nothing is fetched when viewing).
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ],
  });
});
