#!/usr/bin/env node
// Compile every math span of Markdown files with KaTeX in strict mode; report as JSON.
//
//   node tests/katex/check.js FILE.md [FILE.md ...]
//
// KaTeX is the one `npm ci --prefix tests/katex` installs beside this file (pinned by
// package-lock.json), never another. Spans, in either flavour of the log: $$…$$ (display,
// may span lines) and $…$ (inline, on one line: the opening $ not followed by a space, the
// closing one not preceded by a space nor followed by a digit); GitHub's ```math fenced
// blocks (display) and $`…`$ (inline). Other fenced code blocks (``` or ~~~) and inline
// code (`…`) are skipped, and \$ is a literal dollar, as the Markdown log escapes it.
// Each span is rendered with { strict: "error", throwOnError: true }.
// Prints {"katex": version, "files": [{file, spans, inline, display, failures: [{line,
// display, tex, error}]}]}. Exit status: 0 every span compiles, 1 some span failed, 2 usage
// error or KaTeX not installed.
"use strict";
const fs = require("fs");
const path = require("path");

// Yield {display, tex, line} for each math span of the Markdown text.
function* mathSpans(text) {
  const lines = text.split("\n");
  let fence = null; // {marker, math, start, parts} while inside a fenced code block
  let display = null; // {start, parts} while inside a $$ block
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (display === null) {
      const m = /^\s{0,3}(```+|~~~+)/.exec(line);
      if (fence !== null) {
        const marker = fence.marker;
        if (m && m[1][0] === marker[0] && m[1].length >= marker.length && line.trim() === m[1]) {
          if (fence.math) yield { display: true, tex: fence.parts.join("\n"), line: fence.start + 1 };
          fence = null;
        } else if (fence.math) {
          fence.parts.push(line);
        }
        continue;
      }
      if (m) {
        const math = line.trim().slice(m[1].length).trim() === "math";
        fence = { marker: m[1], math, start: n, parts: [] };
        continue;
      }
    }
    let i = 0;
    while (i <= line.length) {
      if (display !== null) {
        const end = findUnescaped(line, "$$", i);
        if (end < 0) {
          display.parts.push(line.slice(i));
          break;
        }
        display.parts.push(line.slice(i, end));
        yield { display: true, tex: display.parts.join("\n").trim(), line: display.start + 1 };
        display = null;
        i = end + 2;
        continue;
      }
      const c = line[i];
      if (c === undefined) break;
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === "`") { // inline code: on to the matching run of backticks
        let k = i;
        while (line[k] === "`") k++;
        const close = line.indexOf(line.slice(i, k), k);
        i = close < 0 ? k : close + (k - i);
        continue;
      }
      if (c === "$" && line[i + 1] === "`") { // GitHub's $`…`$
        let k = i + 1;
        while (line[k] === "`") k++;
        const close = line.indexOf(line.slice(i + 1, k), k);
        if (close >= 0 && line[close + k - i - 1] === "$") {
          yield { display: false, tex: line.slice(k, close), line: n + 1 };
          i = close + k - i;
          continue;
        }
      }
      if (c === "$") {
        if (line[i + 1] === "$") {
          display = { start: n, parts: [] };
          i += 2;
          continue;
        }
        if (line[i + 1] === undefined || /\s/.test(line[i + 1])) {
          i++;
          continue;
        }
        let k = i + 1;
        let found = -1;
        while (k < line.length) {
          if (line[k] === "\\") {
            k += 2;
            continue;
          }
          if (line[k] === "$" && !/\s/.test(line[k - 1]) && !/[0-9]/.test(line[k + 1] || "")) {
            found = k;
            break;
          }
          k++;
        }
        if (found < 0) {
          i++;
          continue;
        }
        yield { display: false, tex: line.slice(i + 1, found), line: n + 1 };
        i = found + 1;
        continue;
      }
      i++;
    }
  }
  if (display !== null) {
    yield { display: true, tex: display.parts.join("\n"), line: display.start + 1, unclosed: true };
  }
  if (fence !== null && fence.math) {
    yield { display: true, tex: fence.parts.join("\n"), line: fence.start + 1, unclosed: true };
  }
}

function findUnescaped(s, needle, from) {
  for (let k = from; k <= s.length - needle.length; k++) {
    if (s[k] === "\\") {
      k++;
      continue;
    }
    if (s.startsWith(needle, k)) return k;
  }
  return -1;
}

function main(files) {
  if (files.length === 0) {
    console.error("usage: node tests/katex/check.js FILE.md [FILE.md ...]");
    return 2;
  }
  let katex;
  try {
    katex = require(path.join(__dirname, "node_modules", "katex"));
  } catch (error) {
    console.error(`KaTeX is not installed beside ${__filename}: npm ci --prefix tests/katex`);
    return 2;
  }
  const report = { katex: katex.version, files: [] };
  let failed = 0;
  for (const file of files) {
    const found = { file, spans: 0, inline: 0, display: 0, failures: [] };
    for (const span of mathSpans(fs.readFileSync(file, "utf8"))) {
      found.spans++;
      found[span.display ? "display" : "inline"]++;
      try {
        if (span.unclosed) throw new Error("a $$ block or ```math fence that is never closed");
        katex.renderToString(span.tex, {
          strict: "error", throwOnError: true, displayMode: span.display,
        });
      } catch (error) {
        found.failures.push({
          line: span.line, display: span.display, tex: span.tex,
          error: String(error.message || error),
        });
      }
    }
    failed += found.failures.length;
    report.files.push(found);
  }
  console.log(JSON.stringify(report, null, 1));
  return failed ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
module.exports = { mathSpans };
