#!/usr/bin/env python3
"""Checks a report as Chromium rendered it (its --dump-dom output) against the report directory:
the browser loaded every image, each <img> is a valid PNG file in the directory, and the numbers in
the skill, return-level and spell tables are those of skill.csv and statistics.csv, and with several cells
(spatial_pairs.csv) the correlation figure is there and the pair table shows spatial_pairs.csv.
Usage: check_report.py REPORT_DIR DOM_HTML"""
import csv
import html.parser
import math
import os
import struct
import sys


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.cells, self.body, self._id, self._text = [], {}, {}, None, ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "body":
            self.body = a
        if tag in ("td", "b") and "id" in a:
            self._id, self._text = a["id"], ""

    def handle_data(self, data):
        if self._id:
            self._text += data

    def handle_endtag(self, tag):
        if tag in ("td", "b") and self._id:
            self.cells[self._id] = self._text.strip()
            self._id = None


def png_size(path):
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def same(page_text, value):
    if math.isnan(value):
        return page_text == "–"
    return abs(float(page_text) - value) <= 5e-4 * abs(value) + 1e-9


def main(directory, dom_path):
    page = Page()
    with open(dom_path) as f:
        page.feed(f.read())
    errors = []
    if page.body.get("data-images-missing") != "0":
        errors.append(f"browser: images not loaded: {page.body.get('data-images-missing')!r} "
                      f"(loaded {page.body.get('data-images-loaded')!r})")
    spatial = os.path.join(directory, "spatial_pairs.csv")
    figures = 9 if os.path.exists(spatial) else 8
    if len(page.images) < figures:
        errors.append(f"expected {figures} figures, found {len(page.images)}")
    if os.path.exists(spatial) and "spatial.png" not in page.images:
        errors.append("spatial_pairs.csv is there but the page has no spatial.png")
    for src in page.images:
        size = png_size(os.path.join(directory, src))
        if not size or min(size) < 100:
            errors.append(f"{src}: not a valid PNG figure")
    checked = 0
    with open(os.path.join(directory, "skill.csv")) as f:
        for row in csv.DictReader(f):
            for column in ("observed", "vae", "classical", "vae_error", "classical_error"):
                value = float(row[column]) if row[column] else math.nan
                text = page.cells.get(f"skill-{row['statistic']}-{column}")
                if text is None or not same(text, value):
                    errors.append(f"skill {row['statistic']} {column}: page {text!r}, skill.csv {row[column]!r}")
                checked += 1
    stats = {}
    with open(os.path.join(directory, "statistics.csv")) as f:
        for r in csv.DictReader(f):
            stats[(r["statistic"], r["index"], r["source"])] = float(r["value"]) if r["value"] else math.nan
    for ident, text in page.cells.items():
        parts = ident.split("-")
        key = None
        if parts[0] == "rl":
            key = (f"{parts[1]}_return_level_c", parts[2], parts[3])
        elif parts[0] == "spell":
            key = (f"{parts[1]}_{parts[2]}", "", parts[3])
        if key:
            if key not in stats or not same(text, stats[key]):
                errors.append(f"{ident}: page {text!r}, statistics.csv {stats.get(key)!r}")
            checked += 1
    pairs = []
    if os.path.exists(spatial):
        with open(spatial) as f:
            pairs = list(csv.DictReader(f))
    for r in pairs if len(pairs) <= 190 else []:  # more pairs: the page shows the distance bins instead
        for column in ("observed", "generated", "classical"):
            value = float(r[column]) if r[column] else math.nan
            text = page.cells.get(f"pair-{r['cell_a']}-{r['cell_b']}-{column}")
            if text is None or not same(text, value):
                errors.append(f"pair {r['cell_a']}-{r['cell_b']} {column}: page {text!r}, spatial_pairs.csv {r[column]!r}")
            checked += 1
    with open(os.path.join(directory, "fidelity.csv")) as f:
        rows = list(csv.DictReader(f))
    expected = f"{sum(r['pass'] == 'true' for r in rows)} of {sum(r['pass'] in ('true', 'false') for r in rows)}"
    if page.cells.get("fidelity-vae") != expected:
        errors.append(f"fidelity count: page {page.cells.get('fidelity-vae')!r}, fidelity.csv {expected!r}")
    for e in errors:
        print("FAIL", e)
    print(f"report: {len(page.images)} images, {checked} numbers checked, {len(errors)} problems")
    return 1 if errors or checked < 40 else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
