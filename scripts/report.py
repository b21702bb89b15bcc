#!/usr/bin/env python3
"""Draws the figures and writes index.html of a `climvae evaluate --report DIR` directory.

Reads only the files climvae wrote there (statistics.csv, skill.csv, fidelity*.csv,
hourly_sample.csv, daily_sample.csv, provenance.txt, and with several cells spatial_pairs.csv and
spatial_bins.csv; columns in docs/evaluation.md), so a
report can be redrawn without rerunning the evaluation:  python3 scripts/report.py DIR
Needs matplotlib (Debian: python3-matplotlib) and numpy.
"""
import csv
import html
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

SOURCES = ("observed", "vae", "classical")
LABELS = {"observed": "observed", "vae": "VAE", "classical": "classical (harmonic + AR(1))"}
COLOURS = {"observed": "black", "vae": "tab:red", "classical": "tab:blue"}
SEASONS = ("DJF", "MAM", "JJA", "SON")
MAX_PAIRS_LISTED = 190  # 20 cells: more pairs are summarised by distance bin, as evaluate prints them


def number(text):
    return float(text) if text not in ("", None) else math.nan


def fmt(value, digits=4):
    """How every number appears in the page (the ctest report check parses it back)."""
    return "–" if math.isnan(value) else f"{value:.{digits}g}"


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class Statistics:
    """statistics.csv as a lookup: value(statistic, period, index, source)."""

    def __init__(self, path):
        self.values = {}
        for r in read_rows(path):
            self.values[(r["statistic"], r["period"], r["index"], r["source"])] = number(r["value"])

    def value(self, statistic, period="all", index="", source="observed"):
        return self.values.get((statistic, period, str(index), source), math.nan)

    def series(self, statistic, period, indices, source):
        return np.array([self.value(statistic, period, i, source) for i in indices])

    def samples(self, statistic, source):
        out, i = [], 0
        while (statistic, "all", str(i), source) in self.values:
            out.append(self.values[(statistic, "all", str(i), source)])
            i += 1
        return np.array(out)


def save(fig, directory, name):
    path = os.path.join(directory, name)
    temporary = f"{path}.tmp-{os.getpid()}"
    fig.tight_layout()
    fig.savefig(temporary, format="png", dpi=90)
    plt.close(fig)
    os.replace(temporary, path)
    return name


def seasonal_figure(s, d):
    fig, ax = plt.subplots(figsize=(7, 3.6))
    months = np.arange(1, 13)
    for src in SOURCES:
        mean = np.array([s.value("monthly_mean_c", f"{m:02d}", "", src) for m in months])
        sd = np.array([s.value("monthly_sd_c", f"{m:02d}", "", src) for m in months])
        ax.plot(months, mean, color=COLOURS[src], marker="o", label=LABELS[src])
        ax.fill_between(months, mean - sd, mean + sd, color=COLOURS[src], alpha=0.1)
    ax.set(xlabel="month", ylabel="°C", title="Seasonal profile: monthly mean ± sd", xticks=months)
    ax.legend(fontsize=8)
    return save(fig, d, "seasonal.png")


def diurnal_figure(s, d):
    fig, axes = plt.subplots(1, 4, figsize=(11, 3), sharey=False)
    for ax, season in zip(axes, SEASONS):
        for src in SOURCES:
            ax.plot(range(24), s.series("diurnal_mean_c", season, range(24), src), color=COLOURS[src],
                    label=LABELS[src])
        ax.set(title=season, xlabel="local solar hour", xticks=[0, 6, 12, 18])
    axes[0].set_ylabel("°C")
    axes[0].legend(fontsize=7)
    fig.suptitle("Diurnal profile by season")
    return save(fig, d, "diurnal.png")


def samples_figure(d, name, file, index, title, xlabel):
    rows = read_rows(os.path.join(d, file))
    fig, ax = plt.subplots(figsize=(10, 3.2))
    x = [int(r[index]) / (24 if index == "hour" else 1) for r in rows]
    for src in SOURCES:
        ax.plot(x, [number(r[src]) for r in rows], color=COLOURS[src], lw=1, label=LABELS[src] + (
            "" if src == "observed" else ", member 0"))
    ax.set(title=title, xlabel=xlabel, ylabel="°C")
    ax.legend(fontsize=8)
    return save(fig, d, name)


def acf_figure(s, d):
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    lags = np.arange(0, 721)
    days = np.arange(0, 31)
    for src in SOURCES:
        axes[0].plot(lags / 24, s.series("anomaly_acf", "all", lags, src), color=COLOURS[src], label=LABELS[src])
        axes[1].plot(days, s.series("daily_anomaly_acf", "all", days, src), color=COLOURS[src], marker=".",
                     label=LABELS[src])
    for lag in (24, 48, 168):
        axes[0].axvline(lag / 24, color="grey", lw=0.5, ls=":")
    axes[0].set(title="Hourly anomalies (dotted: 24, 48, 168 h)", xlabel="lag (days)", ylabel="r")
    axes[0].axhline(0, color="grey", lw=0.5)
    axes[1].set(title="Daily-mean anomalies", xlabel="lag (days)", ylabel="r")
    axes[1].axhline(0, color="grey", lw=0.5)
    axes[0].legend(fontsize=8)
    fig.suptitle("Autocorrelation of anomalies from the observed (month × hour) climatology")
    return save(fig, d, "acf.png")


def qq_figure(s, d):
    fig, axes = plt.subplots(1, 4, figsize=(11, 3.2))
    p = range(1, 100)
    for ax, season in zip(axes, SEASONS):
        obs = s.series("hourly_quantile_c", season, p, "observed")
        for src in ("vae", "classical"):
            ax.plot(obs, s.series("hourly_quantile_c", season, p, src), ".", ms=3, color=COLOURS[src],
                    label=LABELS[src])
        lo, hi = np.nanmin(obs), np.nanmax(obs)
        ax.plot([lo, hi], [lo, hi], color="black", lw=0.7)
        ax.set(title=season, xlabel="observed quantile (°C)")
    axes[0].set_ylabel("generated quantile (°C)")
    axes[0].legend(fontsize=7)
    fig.suptitle("Quantile-quantile of hourly values per season (1st to 99th percentile)")
    return save(fig, d, "qq.png")


def spells_figure(s, d):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    lengths = np.arange(1, 16)
    width = 0.28
    for ax, kind, title in zip(axes, ("heatwave", "coldspell"),
                               ("Heat waves: Tmax > monthly p90", "Cold spells: Tmin < monthly p10")):
        for k, src in enumerate(SOURCES):
            ax.bar(lengths + (k - 1) * width, s.series(f"{kind}_length_fraction", "all", lengths, src), width,
                   color=COLOURS[src], label=LABELS[src])
        ax.set(title=title, xlabel="spell length (days; 15 = 15 or more)", ylabel="share of spells",
               xticks=lengths)
    axes[0].legend(fontsize=8)
    return save(fig, d, "spells.png")


def gev_quantile(location, scale, shape, p):
    y = -np.log(p)
    if shape == 0:
        return location - scale * np.log(y)
    return location + scale / shape * (1 - y ** shape)


def return_level_figure(s, d):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    periods = np.geomspace(1.2, 100, 60)
    for ax, kind, sign in zip(axes, ("annual_max", "annual_min"), (1, -1)):
        for src in SOURCES:
            g = [s.value(f"{kind}_gev_{p}", "all", "", src) for p in ("location_c", "scale_c", "shape")]
            if not any(math.isnan(v) for v in g):
                ax.plot(periods, sign * gev_quantile(*g, 1 - 1 / periods), color=COLOURS[src], label=LABELS[src])
            if src == "observed":
                x = np.sort(sign * s.samples(f"{kind}_c", src))
                n = len(x)
                if n:
                    empirical = 1 / (1 - (np.arange(1, n + 1) - 0.44) / (n + 0.12))  # Gringorten
                    ax.plot(empirical, sign * x, "o", color="black", ms=4)
                continue
            for years in (10, 50):
                low = s.value(f"{kind}_return_level_c", "all", years, src + "_low")
                high = s.value(f"{kind}_return_level_c", "all", years, src + "_high")
                level = s.value(f"{kind}_return_level_c", "all", years, src)
                shift = 1.04 if src == "vae" else 0.96
                # The 5-95 % range of short-record estimates need not contain the full-ensemble
                # estimate (a skewed sampling distribution): draw the range and the point apart.
                if not (math.isnan(low) or math.isnan(high)):
                    ax.vlines(years * shift, low, high, color=COLOURS[src])
                ax.plot([years * shift], [level], "s", color=COLOURS[src], ms=3)
        ax.set_xscale("log")
        ax.set(title=f"{'Annual maximum' if sign > 0 else 'Annual minimum'}: GEV (L-moments)",
               xlabel="return period (years)", ylabel="°C")
    axes[0].legend(fontsize=8)
    return save(fig, d, "return_levels.png")


def spatial_figure(d):
    """Pair correlations of daily-mean anomalies: generated against observed, and against distance."""
    pairs = read_rows(os.path.join(d, "spatial_pairs.csv"))
    bins = [b for b in read_rows(os.path.join(d, "spatial_bins.csv")) if int(b["pairs"]) > 0]
    column = lambda rows, name: np.array([number(r[name]) for r in rows])
    observed, distance = column(pairs, "observed"), column(pairs, "distance_km")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, src in (("generated", "vae"), ("classical", "classical")):
        axes[0].scatter(observed, column(pairs, name), s=14, color=COLOURS[src], label=LABELS[src])
    axes[0].plot([-1, 1], [-1, 1], color="grey", lw=0.8, label="1:1")
    axes[0].set(xlabel="observed r", ylabel="generated r", xlim=(-0.2, 1.02), ylim=(-0.2, 1.02),
                title="Pairs of cells: generated against observed")
    axes[0].set_aspect("equal")
    axes[0].legend(fontsize=8)
    for name, src in (("observed", "observed"), ("generated", "vae"), ("classical", "classical")):
        axes[1].scatter(distance, column(pairs, name), s=10, color=COLOURS[src], alpha=0.6, label=LABELS[src])
        if len(pairs) > MAX_PAIRS_LISTED and len(bins) > 1:
            centre = (column(bins, "from_km") + column(bins, "to_km")) / 2
            axes[1].plot(centre, column(bins, name), color=COLOURS[src], lw=1)
    axes[1].axhline(0, color="grey", lw=0.5)
    axes[1].set(xlabel="great-circle distance (km)", ylabel="r", ylim=(-0.2, 1.02),
                title="Against distance" + (" (lines: bin means)" if len(pairs) > MAX_PAIRS_LISTED else ""))
    axes[1].legend(fontsize=8)
    fig.suptitle("Correlation of daily-mean anomalies between cells")
    return save(fig, d, "spatial.png")


def spatial_table(d):
    pairs = read_rows(os.path.join(d, "spatial_pairs.csv"))
    if len(pairs) > MAX_PAIRS_LISTED:
        bins = read_rows(os.path.join(d, "spatial_bins.csv"))
        return table(["from (km)", "to (km)", "pairs", "observed", "VAE", "classical"],
                     [[td(number(b["from_km"])), td(number(b["to_km"])), td(b["pairs"])] +
                      [td(number(b[c])) for c in ("observed", "generated", "classical")] for b in bins])
    rows = []
    for r in pairs:
        ident = f"pair-{r['cell_a']}-{r['cell_b']}"
        rows.append([td(r["cell_a"]), td(r["cell_b"]), td(number(r["distance_km"]))] +
                    [td(number(r[c]), f"{ident}-{c}") for c in ("observed", "generated", "classical")])
    return table(["cell a", "cell b", "distance (km)", "observed", "VAE", "classical"], rows)


def spatial_section(d):
    if not os.path.exists(os.path.join(d, "spatial_pairs.csv")):
        return "", []
    text = f"""<h2>Cells together: correlation of daily-mean anomalies</h2>
<p>For each pair of cells, the correlation of their daily means (UTC days) with each series' seasonal cycle
(a mean and three annual harmonics) removed; generated: member m of one cell against member m of the other, averaged over the members. The
classical generator runs each cell with its own random stream: its pairs are independent (r ≈ 0).</p>
{spatial_table(d)}"""
    return text, [("Correlation between cells", spatial_figure(d))]


def table(header, rows):
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    return f"<table>\n<tr>{head}</tr>\n{body}\n</table>"


def td(value, ident=None):
    attribute = f' id="{ident}"' if ident else ""
    return f"<td{attribute}>{fmt(value) if isinstance(value, float) else html.escape(str(value))}</td>"


def skill_table(d):
    rows, wins = [], {"vae": 0, "classical": 0, "tie": 0}
    compared = 0  # rows where both errors are numbers, as climvae evaluate counts them
    within_noise = 0  # of those, rows where both errors are within the observed record's noise
    for r in read_rows(os.path.join(d, "skill.csv")):
        wins[r["better"]] += 1
        compared += r["vae_error"] != "" and r["classical_error"] != ""
        name = r["statistic"]
        cells = [td(name), td(r["unit"])]
        for column in ("observed", "vae", "classical", "vae_error", "classical_error", "record_noise"):
            cells.append(td(number(r.get(column, "")), f"skill-{name}-{column}"))
        better = r["better"]
        cells.append(f'<td class="{better}" id="skill-{name}-better">{html.escape(better)}</td>')
        rows.append(cells)
        noise = number(r.get("record_noise", ""))
        within_noise += (isinstance(noise, float) and noise == noise and r["vae_error"] != "" and r["classical_error"] != ""
                         and float(r["vae_error"]) <= noise and float(r["classical_error"]) <= noise)
    summary = (f"<p><b>VAE closer on <span id='wins-vae'>{wins['vae']}</span> of <span id='skill-compared'>"
               f"{compared}</span> statistics</b> (classical closer on <b id='wins-classical'>{wins['classical']}</b>; "
               f"ties: {wins['tie'] - (len(rows) - compared)}); both within the observed record's noise on "
               f"<b id='within-noise'>{within_noise}</b>: the error of resamples of the record's own years, a "
               f"generator with the observed climate would score about that much.</p>")
    return summary + table(["statistic", "unit", "observed", "VAE", "classical", "VAE error", "classical error",
                            "record noise", "better"], rows)


def fidelity_table(d):
    vae = read_rows(os.path.join(d, "fidelity.csv"))
    cls = read_rows(os.path.join(d, "fidelity_classical.csv"))
    rows = []
    for v, c in zip(vae, cls):
        rows.append([td(v["statistic"]), td(v["period"]), td(number(v["observed"])), td(number(v["generated"])),
                     td(number(c["generated"])), td(number(v["tolerance"])), td(v["pass"] or "info"),
                     td(c["pass"] or "info")])
    passed = lambda rows: (sum(r["pass"] == "true" for r in rows), sum(r["pass"] in ("true", "false") for r in rows))
    summary = (f"<p>VAE: <b id='fidelity-vae'>{passed(vae)[0]} of {passed(vae)[1]}</b> checks within tolerance; "
               f"classical generator: <b id='fidelity-classical'>{passed(cls)[0]} of {passed(cls)[1]}</b>.</p>")
    return summary + table(["statistic", "period", "observed", "VAE", "classical", "tolerance", "VAE pass",
                            "classical pass"], rows)


def extremes_table(s):
    rows = []
    for kind in ("annual_max", "annual_min"):
        for years in (10, 50):
            cells = [td(kind), td(years)]
            for src in SOURCES:
                value = s.value(f"{kind}_return_level_c", "all", years, src)
                cells.append(td(value, f"rl-{kind}-{years}-{src}"))
                if src != "observed":
                    low = s.value(f"{kind}_return_level_c", "all", years, src + "_low")
                    high = s.value(f"{kind}_return_level_c", "all", years, src + "_high")
                    cells.append(td(f"{fmt(low)} – {fmt(high)}"))
            rows.append(cells)
    return table(["extreme", "return period (years)", "observed", "VAE", "VAE 90 % range", "classical",
                  "classical 90 % range"], rows)


def spells_table(s):
    rows = []
    for kind in ("heatwave", "coldspell"):
        for stat in ("per_year", "day_fraction", "mean_length_days", "max_length_days"):
            rows.append([td(kind), td(stat)] + [td(s.value(f"{kind}_{stat}", "all", "", src),
                                                   f"spell-{kind}-{stat}-{src}") for src in SOURCES])
    return table(["spell", "statistic", "observed", "VAE", "classical"], rows)


def daily_table(s):
    rows = []
    for what in ("daily_max", "daily_min", "daily_range"):
        for season in SEASONS:
            cells = [td(what), td(season)]
            for src in SOURCES:
                cells += [td(s.value(f"{what}_mean_c", season, "", src)),
                          td(s.value(f"{what}_quantile_c", season, 10, src)),
                          td(s.value(f"{what}_quantile_c", season, 90, src))]
            rows.append(cells)
    header = ["variable", "season"] + [f"{LABELS[src].split(' ')[0]} {q}" for src in SOURCES
                                       for q in ("mean", "p10", "p90")]
    return table(header, rows)


def provenance_table(d):
    rows = []
    with open(os.path.join(d, "provenance.txt")) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition(": ")
            rows.append([td(key), f"<td><code>{html.escape(value)}</code></td>"])
    return table(["item", "value"], rows)


STYLE = """body{font-family:sans-serif;max-width:1150px;margin:auto;padding:1em}
table{border-collapse:collapse;font-size:13px;margin:0.5em 0}td,th{border:1px solid #ccc;padding:2px 6px}
td.vae{background:#fde0dc}td.classical{background:#dbe9f6}img{max-width:100%}"""


def main(directory):
    s = Statistics(os.path.join(directory, "statistics.csv"))
    figures = [
        ("Seasonal profile", seasonal_figure(s, directory)),
        ("Diurnal profile by season", diurnal_figure(s, directory)),
        ("Two weeks of hourly data (from 1 July)",
         samples_figure(directory, "two_weeks.png", "hourly_sample.csv", "hour", "Two weeks of hourly values",
                        "day")),
        ("A year of daily means", samples_figure(directory, "daily_year.png", "daily_sample.csv", "day",
                                                 "Daily means over one year", "day of year")),
        ("Autocorrelation", acf_figure(s, directory)),
        ("Quantile-quantile per season", qq_figure(s, directory)),
        ("Spell lengths", spells_figure(s, directory)),
        ("Return levels", return_level_figure(s, directory)),
    ]
    spatial_html, spatial_figures = spatial_section(directory)
    figures += spatial_figures
    figure_html = "\n".join(f'<h3>{html.escape(t)}</h3>\n<img src="{f}" alt="{html.escape(t)}">' for t, f in figures)
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>climvae evaluation report</title><style>{STYLE}</style></head>
<body>
<h1>climvae evaluation report</h1>
<p>Observed series against the VAE ensemble and a classical weather generator (harmonic seasonal and
diurnal mean and standard deviation, AR(1) hourly anomalies) fitted to the same observed series, with
the same number of members. All statistics in local solar time; definitions in docs/evaluation.md.</p>
<h2>Skill summary</h2>
<p>Error of each generator against the observed (lower is better); values where the statistic is one number.</p>
{skill_table(directory)}
<h2>Figures</h2>
{figure_html}
<h2>Extremes: GEV return levels</h2>
<p>GEV fitted by L-moments to annual maxima / minima. Ranges: 5–95 % of the estimate from samples as long as
the observed record, drawn from the generated members.</p>
{extremes_table(s)}
<h2>Heat waves and cold spells</h2>
{spells_table(s)}
<h2>Daily maximum, minimum and range per season (°C)</h2>
{daily_table(s)}
<h2>Fidelity checks</h2>
{fidelity_table(directory)}
{spatial_html}
<h2>Provenance</h2>
{provenance_table(directory)}
<script>
// Browsers (and the ctest check in headless Chromium) can tell whether every figure loaded.
window.addEventListener("load", () => {{
  const images = Array.from(document.images);
  const missing = images.filter(i => !i.complete || i.naturalWidth === 0).length;
  document.body.dataset.imagesLoaded = images.length - missing;
  document.body.dataset.imagesMissing = missing;
}});
</script>
</body></html>
"""
    path = os.path.join(directory, "index.html")
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w") as f:
        f.write(page)
    os.replace(temporary, path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: report.py REPORT_DIR")
    main(sys.argv[1])
