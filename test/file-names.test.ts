import { safeFileName, safeFileNameOf } from "../graphs/file-names.js";
import { html } from "../graphs/html.js";
import { escapeHtml, xmlSafeText } from "../lib/escape-html.js";

describe("safeFileName", () => {
  const hostile = [
    '"><script>',
    "../../etc/passwd",
    ".",
    "..",
    ".git",
    "a/b",
    "a\\b",
    "a~2Fb",
    "a%2Fb",
    "é",
    "e\u0301",
    "web 1",
    "x".repeat(300),
    "x".repeat(299) + "y",
    "",
  ];

  test.each(hostile)("%j has no slash, no leading dot and only URL-safe characters", (name) => {
    const file = safeFileName(name);
    expect(file).toMatch(/^[A-Za-z0-9_~!-][A-Za-z0-9_~!-]*$/);
    expect(file.length).toBeLessThanOrEqual(160);
    expect(encodeURIComponent(file)).toBe(file);
  });

  test("different names never share a file", () => {
    const files = hostile.map(safeFileName);
    expect(new Set(files).size).toBe(hostile.length);
  });

  test("plain names stay readable", () => {
    expect(safeFileName("web-1")).toBe("web-1");
    expect(safeFileName("db.example.org")).toBe("db~2Eexample~2Eorg");
    expect(safeFileNameOf(["Disk", "mount", "/"])).toBe("Disk.mount.~2F");
    expect(safeFileNameOf(["a.b"])).not.toBe(safeFileNameOf(["a", "b"]));
  });
});

describe("escaping", () => {
  test("escapeHtml escapes markup and both quotes", () => {
    expect(escapeHtml(`"><script>alert('x')</script>&`)).toBe(
      "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;",
    );
  });

  test("characters XML forbids are dropped", () => {
    expect(xmlSafeText("a\u0000b\u0007c\td\uD800")).toBe("abc\td");
  });

  test("the html template escapes values but not nested templates", () => {
    const name = "<img src=x onerror=alert(1)>";
    const out = html`<td title="${name}">${html`<b>${name}</b>`}${[1, "<i>"]}${undefined}</td>`.text;
    expect(out).toBe(
      '<td title="&lt;img src=x onerror=alert(1)&gt;"><b>&lt;img src=x onerror=alert(1)&gt;</b>1&lt;i&gt;</td>',
    );
  });
});
