#!/usr/bin/env python3
"""Renders the demo's HTML report in headless Chromium and checks what a reader sees.

The report of testdata/demo is written with `meshlint check --format html`, loaded by
Chromium, and its DOM (as Chromium built it, `--dump-dom`) must hold every finding of the JSON
report: an element with the finding's code and `file:line:column`, whose visible text names the
code and `file:line`. A screenshot is taken as well and must be a PNG of the window's size that
is not blank. `--screenshot docs/img/report.png` refreshes the picture in the docs.

Usage: scripts/html-browser-check.py [--bin target/debug/meshlint] [--screenshot FILE]
Exit 0 when every check holds, 1 when one fails, 2 when Chromium is not installed.
"""

import argparse
import html.parser
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIDTH, HEIGHT = 1280, 1500


class Articles(html.parser.HTMLParser):
    """Collects each `<article data-code=... data-location=...>` and its text."""

    def __init__(self):
        super().__init__()
        self.articles = []
        self.depth = 0
        self.conflict_rows = 0
        self.svg_nodes = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "article":
            if self.depth == 0 and "data-code" in attrs:
                self.articles.append([attrs["data-code"], attrs.get("data-location", ""), ""])
            self.depth += 1
        if tag == "tr" and attrs.get("class") == "conflict":
            self.conflict_rows += 1
        if tag == "g" and attrs.get("class") == "node":
            self.svg_nodes += 1

    def handle_endtag(self, tag):
        if tag == "article" and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth and self.articles:
            self.articles[-1][2] += data


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def browser(binary, *args):
    # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def png_pixels(path):
    """Width, height and the distinct grey levels of a few rows, from an 8-bit RGB(A) PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width, height, kind = 8, b"", 0, 0, 0
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if ctype == b"IHDR":
            width, height, depth, kind = struct.unpack(">IIBB", body[:10])
            if depth != 8 or kind not in (2, 6):
                raise ValueError(f"unexpected PNG format depth={depth} colour={kind}")
        elif ctype == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    bpp = 3 if kind == 2 else 4
    stride = width * bpp
    rows, prev, levels, at = [], bytearray(stride), set(), 0
    for _ in range(height):
        filt, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if filt == 1:
                line[i] = (line[i] + a) & 255
            elif filt == 2:
                line[i] = (line[i] + b) & 255
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append(line)
        prev = line
    for line in rows[::50]:
        levels.update(line[::bpp])
    return width, height, levels


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.environ.get("MESHLINT", "target/debug/meshlint"))
    ap.add_argument("--screenshot", help="where to keep the screenshot (default: a temp dir)")
    args = ap.parse_args()
    browser_bin = chromium()
    if browser_bin is None:
        print("html browser check: chromium is not installed (apt-get install chromium)",
              file=sys.stderr)
        return 2
    os.chdir(ROOT)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        page = os.path.join(tmp, "report.html")
        for fmt, out in (("html", page), ("json", os.path.join(tmp, "report.json"))):
            with open(out, "w", encoding="utf-8") as f:
                run = subprocess.run([args.bin, "check", "testdata/demo", "--format", fmt],
                                     stdout=f, check=False)
            if run.returncode not in (0, 1):
                print(f"meshlint --format {fmt} exited {run.returncode}", file=sys.stderr)
                return 1
        with open(os.path.join(tmp, "report.json"), encoding="utf-8") as f:
            findings = json.load(f)["findings"]
        url = "file://" + page

        dom = browser(browser_bin, "--dump-dom", url)
        parsed = Articles()
        parsed.feed(dom.stdout)
        seen = {(code, loc): text for code, loc, text in parsed.articles}
        for f in findings:
            loc = f["location"]
            key = (f["code"], f"{loc['file']}:{loc['line']}:{loc['column']}")
            text = seen.get(key)
            if text is None:
                failures.append(f"no element for {key[0]} at {key[1]}")
            elif f["code"] not in text or f"{loc['file']}:{loc['line']}" not in text:
                failures.append(f"{key[0]} at {key[1]}: the code or file:line is not shown")
        if parsed.conflict_rows == 0:
            failures.append("no listener conflict is marked")
        if parsed.svg_nodes == 0:
            failures.append("the resource graph has no nodes")

        shot = args.screenshot or os.path.join(tmp, "report.png")
        if os.path.exists(shot):
            os.remove(shot)
        browser(browser_bin, f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}", url)
        if not os.path.exists(shot):
            failures.append("chromium wrote no screenshot")
        else:
            width, height, levels = png_pixels(shot)
            if (width, height) != (WIDTH, HEIGHT):
                failures.append(f"screenshot is {width}x{height}, not {WIDTH}x{HEIGHT}")
            if len(levels) < 8:
                failures.append(f"screenshot looks blank ({len(levels)} grey levels)")

    for line in failures:
        print(f"html browser check: {line}", file=sys.stderr)
    print(f"html browser check: {len(findings)} findings, {parsed.conflict_rows} listener "
          f"conflicts and {parsed.svg_nodes} graph nodes rendered by {os.path.basename(browser_bin)}; "
          f"{'FAILED' if failures else 'ok'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
