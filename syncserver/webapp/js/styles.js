// A screen's own styles, added to the page once, the first time it shows. They go in
// as a constructed stylesheet, not a <style> element: the page's
// Content-Security-Policy takes styles from the server's own files only.

const adopted = new Set();

/** Add `css` to the document under `name`, unless a sheet of that name is there. */
export function adoptStyles(name, css) {
  if (adopted.has(name)) return;
  adopted.add(name);
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}
