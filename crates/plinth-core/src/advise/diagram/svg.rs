//! A self-contained SVG: inline styles, system font stacks, no scripts, no external resources,
//! so it renders the same in a browser, on a code host and in a docs site.
//!
//! Layout: one column per environment, in promotion order, joined by "promote" arrows. Each
//! column stacks the environment's clusters; the same cluster sits at the same height in every
//! column, so differences between environments (pool sizes, instance types) line up.
//! Text widths are estimated from character classes (there is no font to measure at render
//! time); long values are shortened with an ellipsis rather than overflowing their box.

use super::{Badge, ClusterBox, Diagram, EnvBox, PoolBox, intent_badges, provider_badge};
use std::fmt::Write;

const MARGIN: f64 = 24.0;
const TITLE_H: f64 = 74.0;
const COL_W: f64 = 384.0;
const GAP: f64 = 72.0;
const ENV_HEAD: f64 = 52.0;
const PAD: f64 = 12.0;
const CLUSTER_W: f64 = COL_W - 2.0 * PAD;
const POOL_W: f64 = CLUSTER_W - 2.0 * PAD;
const CLUSTER_HEAD: f64 = 80.0;
const POOL_BASE_H: f64 = 46.0;
const LINE: f64 = 16.0;
const POOL_GAP: f64 = 8.0;
const CHIP_H: f64 = 20.0;
const CLUSTER_GAP: f64 = 14.0;
const LEGEND_H: f64 = 40.0;

const SANS: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', 'DejaVu Sans', Arial, sans-serif";
const MONO: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace";

/// Advance width of a character in DejaVu Sans, in em. DejaVu is the widest of the fonts in
/// the stack (and the one Linux falls back to), so text that fits with it fits with all of them.
fn em(c: char) -> f64 {
    match c {
        'i' | 'j' | 'l' | '\'' | '|' => 0.28,
        '.' | ',' | ':' | ';' | ' ' | '!' | '\u{b7}' => 0.32,
        '/' | '(' | ')' | '[' | ']' | 'f' | '-' => 0.36,
        't' => 0.39,
        'r' => 0.41,
        '_' | '\u{2013}' | '`' => 0.5,
        's' | 'z' | 'c' => 0.55,
        'k' | 'v' | 'x' | 'y' | 'J' => 0.59,
        'm' => 0.97,
        'w' => 0.82,
        'M' | 'W' | '@' => 0.9,
        '=' | '+' | '\u{d7}' | '<' | '>' => 0.84,
        c if c.is_ascii_uppercase() => 0.7,
        c if c.is_ascii_digit() => 0.64,
        _ => 0.63,
    }
}

/// Estimated width of `s` in pixels at `size` px (monospace: 0.602 em per character).
fn width(s: &str, size: f64, mono: bool, bold: bool) -> f64 {
    if mono {
        return s.chars().count() as f64 * 0.602 * size;
    }
    let w: f64 = s.chars().map(em).sum::<f64>() * size;
    if bold { w * 1.1 } else { w }
}

/// `s` shortened with an ellipsis to fit `max` pixels.
fn fit(s: &str, max: f64, size: f64, mono: bool, bold: bool) -> String {
    if width(s, size, mono, bold) <= max {
        return s.to_string();
    }
    let mut out: String = String::new();
    for c in s.chars() {
        let next = format!("{out}{c}\u{2026}");
        if width(&next, size, mono, bold) > max {
            break;
        }
        out.push(c);
    }
    out.push('\u{2026}');
    out
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Numbers without a trailing `.0`, so output is short and stable.
fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

fn badge_class(b: &Badge) -> &'static str {
    match b {
        Badge::Internal => "b-internal",
        Badge::Base => "b-base",
        Badge::Prod => "b-prod",
        Badge::NonProd => "b-nonprod",
        Badge::Gpu(_) => "b-gpu",
        Badge::Arch(_) => "b-arch",
        Badge::Plain(_) => "b-plain",
    }
}

const BADGE_SIZE: f64 = 11.0;
const BADGE_H: f64 = 18.0;

fn badge_width(b: &Badge) -> f64 {
    width(b.text(), BADGE_SIZE, false, true) + 12.0
}

/// Draws badges right-aligned so the last one ends at `right`; returns the left edge.
fn badges_right(out: &mut String, badges: &[Badge], right: f64, y: f64) -> f64 {
    let mut x = right;
    for b in badges.iter().rev() {
        let w = badge_width(b);
        x -= w;
        let _ = writeln!(
            out,
            r#"<g class="{}"><rect x="{}" y="{}" width="{}" height="{BADGE_H}" rx="9"/><text x="{}" y="{}" class="badge">{}</text></g>"#,
            badge_class(b),
            n(x),
            n(y),
            n(w),
            n(x + w / 2.0),
            n(y + 13.0),
            esc(b.text())
        );
        x -= 5.0;
    }
    x
}

/// Where a pool's parts go: badges beside the title when they fit, else on their own row;
/// long taints wrap instead of being cut.
struct PoolLayout {
    title: String,
    badges: Vec<Badge>,
    badges_inline: bool,
    shape: String,
    /// Each line of the taints, and whether it starts a taint (continuations are indented).
    taint_lines: Vec<(bool, String)>,
    height: f64,
}

const TAINT_INDENT: f64 = 42.0;
const TAINT_SIZE: f64 = 11.0;

/// Splits `s` into lines of at most `max` characters, breaking after `/`, `=`, `:` or `.` when
/// one is near the end of a line.
fn wrap(s: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest: Vec<char> = s.chars().collect();
    while rest.len() > max {
        let cut = rest[..max]
            .iter()
            .rposition(|c| matches!(c, '/' | '=' | ':' | '.'))
            .filter(|i| *i + 1 >= max / 2)
            .map_or(max, |i| i + 1);
        lines.push(rest[..cut].iter().collect());
        rest = rest[cut..].to_vec();
    }
    lines.push(rest.into_iter().collect());
    lines
}

fn pool_layout(p: &PoolBox) -> PoolLayout {
    let title = match &p.name {
        Some(name) => format!("{} ({name})", p.key),
        None => p.key.clone(),
    };
    let badges = p.badges();
    let badges_w: f64 = badges.iter().map(|b| badge_width(b) + 5.0).sum();
    let badges_inline =
        badges.is_empty() || width(&title, 13.0, false, true) + badges_w + 26.0 <= POOL_W;
    // Keep the size range whole: shorten the instance types instead.
    let size = p.size();
    let room = POOL_W - 20.0 - width(&format!(" \u{b7} {size}"), 12.0, false, false);
    let shape = if p.instance_types.is_empty() {
        size
    } else {
        let all = p.instance_types.join(", ");
        let types = if width(&all, 12.0, false, false) <= room {
            all
        } else {
            let more = format!(" +{}", p.instance_types.len() - 1);
            let first = fit(
                &p.instance_types[0],
                room - width(&more, 12.0, false, false),
                12.0,
                false,
                false,
            );
            if p.instance_types.len() > 1 {
                format!("{first}{more}")
            } else {
                first
            }
        };
        format!("{types} \u{b7} {size}")
    };
    let max_chars = ((POOL_W - 10.0 - TAINT_INDENT - 8.0) / (0.602 * TAINT_SIZE)) as usize;
    let taint_lines: Vec<(bool, String)> = p
        .taints
        .iter()
        .flat_map(|t| {
            wrap(t, max_chars)
                .into_iter()
                .enumerate()
                .map(|(i, l)| (i == 0, l))
        })
        .collect();
    let height = POOL_BASE_H
        + if badges_inline { 0.0 } else { BADGE_H + 6.0 }
        + LINE * taint_lines.len() as f64;
    PoolLayout {
        title,
        badges,
        badges_inline,
        shape,
        taint_lines,
        height,
    }
}

fn pool_height(p: &PoolBox) -> f64 {
    pool_layout(p).height
}

/// Service chips laid out in rows inside `POOL_W`: (x, row) for each.
fn chip_rows(c: &ClusterBox) -> Vec<(f64, usize, String, f64)> {
    let mut out = Vec::new();
    let (mut x, mut row) = (0.0, 0);
    for s in &c.services {
        let label = fit(
            &format!("{} \u{b7} {}", s.key, s.kind),
            POOL_W - 12.0,
            11.5,
            false,
            false,
        );
        let w = width(&label, 11.5, false, false) + 14.0;
        if x > 0.0 && x + w > POOL_W {
            x = 0.0;
            row += 1;
        }
        out.push((x, row, label, w));
        x += w + 6.0;
    }
    out
}

fn services_height(c: &ClusterBox) -> f64 {
    if c.services.is_empty() {
        return 0.0;
    }
    let rows = chip_rows(c).last().map_or(1, |(_, r, ..)| r + 1);
    20.0 + rows as f64 * (CHIP_H + 6.0)
}

fn cluster_height(c: &ClusterBox) -> f64 {
    let pools: f64 = c.pools.iter().map(|p| pool_height(p) + POOL_GAP).sum();
    CLUSTER_HEAD + pools + services_height(c) + 6.0
}

fn draw_pool(out: &mut String, p: &PoolBox, x: f64, y: f64) {
    let l = pool_layout(p);
    let _ = writeln!(
        out,
        r#"<rect x="{}" y="{}" width="{}" height="{}" rx="6" class="pool"/>"#,
        n(x),
        n(y),
        n(POOL_W),
        n(l.height)
    );
    let (title_room, mut line_y) = if l.badges_inline {
        let left = badges_right(out, &l.badges, x + POOL_W - 8.0, y + 8.0);
        (left - x - 14.0, y + 38.0)
    } else {
        let total: f64 = l.badges.iter().map(|b| badge_width(b) + 5.0).sum::<f64>() - 5.0;
        badges_right(out, &l.badges, x + 10.0 + total, y + 28.0);
        (POOL_W - 20.0, y + 38.0 + BADGE_H + 6.0)
    };
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" class="pool-name">{}</text>"#,
        n(x + 10.0),
        n(y + 21.0),
        esc(&fit(&l.title, title_room, 13.0, false, true))
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" class="detail">{}</text>"#,
        n(x + 10.0),
        n(line_y),
        esc(&l.shape)
    );
    for (starts, t) in &l.taint_lines {
        line_y += LINE;
        if *starts {
            let _ = writeln!(
                out,
                r#"<text x="{}" y="{}" class="muted detail">taint</text>"#,
                n(x + 10.0),
                n(line_y)
            );
        }
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" class="taint">{}</text>"#,
            n(x + TAINT_INDENT),
            n(line_y),
            esc(t)
        );
    }
}

fn draw_cluster(out: &mut String, c: &ClusterBox, x: f64, y: f64, h: f64) {
    let _ = writeln!(
        out,
        r#"<g><title>{}</title>"#,
        esc(&format!("{} ({}), {}", c.name, c.provider_title, c.fqdn))
    );
    let _ = writeln!(
        out,
        r#"<rect x="{}" y="{}" width="{}" height="{}" rx="9" class="cluster"/>"#,
        n(x),
        n(y),
        n(CLUSTER_W),
        n(h)
    );
    let pb = provider_badge(c.provider);
    let pw = width(&pb, 11.0, false, true) + 14.0;
    let _ = writeln!(
        out,
        r#"<g class="p-{}"><rect x="{}" y="{}" width="{}" height="20" rx="4"/><text x="{}" y="{}" class="badge">{}</text></g>"#,
        esc(c.provider),
        n(x + PAD),
        n(y + 12.0),
        n(pw),
        n(x + PAD + pw / 2.0),
        n(y + 26.0),
        esc(&pb)
    );
    let key_x = x + PAD + pw + 8.0;
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" class="cluster-key">{}</text>"#,
        n(key_x),
        n(y + 27.0),
        esc(&fit(&c.key, x + CLUSTER_W - PAD - key_x, 15.0, false, true))
    );
    // The declared intent sits on the provider line, so the key keeps the whole width.
    let left = badges_right(
        out,
        &intent_badges(&c.intent),
        x + CLUSTER_W - PAD,
        y + 56.0,
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" class="cluster-name">{}</text>"#,
        n(x + PAD),
        n(y + 51.0),
        esc(&fit(&c.name, CLUSTER_W - 2.0 * PAD, 13.0, true, false))
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" class="detail muted">{}</text>"#,
        n(x + PAD),
        n(y + 69.0),
        esc(&fit(
            &format!("{} \u{b7} {}", c.provider_title, c.region),
            left - x - PAD - 6.0,
            12.0,
            false,
            false
        ))
    );
    let mut py = y + CLUSTER_HEAD;
    for p in &c.pools {
        draw_pool(out, p, x + PAD, py);
        py += pool_height(p) + POOL_GAP;
    }
    if !c.services.is_empty() {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" class="section">SERVICES</text>"#,
            n(x + PAD),
            n(py + 11.0)
        );
        let top = py + 18.0;
        for (cx, row, label, w) in chip_rows(c) {
            let chip_x = x + PAD + cx;
            let chip_y = top + row as f64 * (CHIP_H + 6.0);
            let _ = writeln!(
                out,
                r#"<rect x="{}" y="{}" width="{}" height="{CHIP_H}" rx="10" class="chip"/><text x="{}" y="{}" class="chip-text">{}</text>"#,
                n(chip_x),
                n(chip_y),
                n(w),
                n(chip_x + 7.0),
                n(chip_y + 14.0),
                esc(&label)
            );
        }
    }
    out.push_str("</g>\n");
}

fn env_badges(e: &EnvBox) -> Vec<Badge> {
    let mut b = Vec::new();
    if e.internal {
        b.push(Badge::Internal);
    }
    if e.base {
        b.push(Badge::Base);
    }
    b.extend(intent_badges(&e.intent));
    b
}

/// The legend entries the picture needs (badge, text, x, row), wrapped to the image width.
fn legend(d: &Diagram, total_w: f64) -> Vec<(Option<Badge>, &'static str, f64, usize)> {
    let pools = || {
        d.environments
            .iter()
            .flat_map(|e| e.clusters.iter().flat_map(|c| c.pools.iter()))
    };
    let mut items: Vec<(Option<Badge>, &'static str)> = Vec::new();
    if d.environments.iter().any(|e| e.internal) {
        items.push((Some(Badge::Internal), "changes are validated here first"));
    }
    if pools().any(|p| p.gpus_per_node > 0) {
        items.push((Some(Badge::Gpu("GPU \u{d7}n".into())), "GPUs per node"));
    }
    if pools().any(|p| p.arch == crate::provider::Arch::Arm64) {
        items.push((
            Some(Badge::Arch("arm64".into())),
            "ARM nodes (others are amd64)",
        ));
    }
    if pools().any(|p| !p.taints.is_empty()) {
        items.push((None, ": only pods that tolerate it run on the pool"));
    }
    let (mut x, mut row) = (MARGIN, 0);
    let mut out = Vec::new();
    for (b, text) in items {
        let w = match &b {
            Some(b) => badge_width(b) + 6.0 + width(text, 12.0, false, false),
            None => width(&format!("taint{text}"), 12.0, true, false),
        };
        if x > MARGIN && x + w > total_w - MARGIN {
            x = MARGIN;
            row += 1;
        }
        out.push((b, text, x, row));
        x += w + 22.0;
    }
    out
}

pub fn render(d: &Diagram) -> String {
    // Row heights: the same cluster is equally tall in every column.
    let rows = d
        .environments
        .iter()
        .map(|e| e.clusters.len())
        .max()
        .unwrap_or(0);
    let row_h: Vec<f64> = (0..rows)
        .map(|i| {
            d.environments
                .iter()
                .filter_map(|e| e.clusters.get(i))
                .map(cluster_height)
                .fold(0.0, f64::max)
        })
        .collect();
    let col_h = ENV_HEAD + row_h.iter().map(|h| h + CLUSTER_GAP).sum::<f64>() + 2.0;
    let cols = d.environments.len().max(1) as f64;
    let total_w = 2.0 * MARGIN + cols * COL_W + (cols - 1.0) * GAP;
    let legend = legend(d, total_w);
    let legend_rows = legend.last().map_or(0, |(.., row)| row + 1);
    let total_h = MARGIN
        + TITLE_H
        + col_h
        + LEGEND_H
        + 24.0 * legend_rows.saturating_sub(1) as f64
        + MARGIN / 2.0;

    let mut out = String::new();
    let chain = d.chain.join(" \u{2192} ");
    let title = format!("Platform {}: {chain}", d.platform);
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="title">"#,
        w = n(total_w),
        h = n(total_h)
    );
    let _ = writeln!(out, r#"<title id="title">{}</title>"#, esc(&title));
    let _ = write!(
        out,
        r#"<style>
text {{ font-family: {SANS}; fill: #1f2328; }}
.title {{ font-size: 20px; font-weight: 700; }}
.subtitle {{ font-size: 13px; fill: #59636e; }}
.env {{ fill: #f6f8fa; stroke: #d1d9e0; stroke-width: 1.5; }}
.env.internal {{ fill: #fffbeb; stroke: #bf8700; stroke-dasharray: 7 4; }}
.env-name {{ font-size: 18px; font-weight: 700; }}
.cluster {{ fill: #ffffff; stroke: #818b98; stroke-width: 1.2; }}
.cluster-key {{ font-size: 15px; font-weight: 700; }}
.cluster-name {{ font-family: {MONO}; font-size: 13px; }}
.pool {{ fill: #f6f8fa; stroke: #d1d9e0; }}
.pool-name {{ font-size: 13px; font-weight: 700; }}
.detail {{ font-size: 12px; }}
.taint {{ font-family: {MONO}; font-size: 11px; fill: #9a3412; }}
.taint .muted {{ font-family: {SANS}; }}
.muted {{ fill: #59636e; }}
.section {{ font-size: 10px; font-weight: 700; letter-spacing: 0.08em; fill: #59636e; }}
.chip {{ fill: #eef1f4; stroke: #d1d9e0; }}
.chip-text {{ font-size: 11.5px; }}
.badge {{ font-size: 11px; font-weight: 700; text-anchor: middle; }}
.b-internal rect {{ fill: #fff1c2; stroke: #bf8700; }} .b-internal text {{ fill: #7d4e00; }}
.b-base rect {{ fill: #eaeef2; stroke: #afb8c1; }} .b-base text {{ fill: #424a53; }}
.b-prod rect {{ fill: #ffebe9; stroke: #cf222e; }} .b-prod text {{ fill: #a40e26; }}
.b-nonprod rect {{ fill: #dafbe1; stroke: #1a7f37; }} .b-nonprod text {{ fill: #116329; }}
.b-gpu rect {{ fill: #fbefff; stroke: #8250df; }} .b-gpu text {{ fill: #6639ba; }}
.b-arch rect {{ fill: #ddf4ff; stroke: #0969da; }} .b-arch text {{ fill: #0550ae; }}
.b-plain rect {{ fill: #eaeef2; stroke: #afb8c1; }} .b-plain text {{ fill: #424a53; }}
.p-eks rect {{ fill: #ff9900; }} .p-eks text {{ fill: #232f3e; }}
.p-aks rect {{ fill: #0078d4; }} .p-aks text {{ fill: #ffffff; }}
.p-gke rect {{ fill: #1e8e3e; }} .p-gke text {{ fill: #ffffff; }}
.p-kind rect {{ fill: #326ce5; }} .p-kind text {{ fill: #ffffff; }}
.arrow {{ stroke: #59636e; stroke-width: 2; fill: none; }}
.arrow-head {{ fill: #59636e; }}
.arrow-label {{ font-size: 11px; fill: #59636e; text-anchor: middle; }}
.legend {{ font-size: 12px; fill: #59636e; }}
</style>
"#
    );
    let _ = writeln!(
        out,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##,
        n(total_w),
        n(total_h)
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" class="title">{}</text>"#,
        n(MARGIN),
        n(MARGIN + 20.0),
        esc(&fit(&title, total_w - 2.0 * MARGIN, 20.0, false, true))
    );
    let internal = d
        .environments
        .iter()
        .find(|e| e.internal)
        .map(|e| e.name.as_str());
    let subtitle = match internal {
        Some(i) => format!(
            "Environments in promotion order. Every change is validated on the internal {i} environment before it is promoted."
        ),
        None => "Environments in promotion order.".to_string(),
    };
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" class="subtitle">{}</text>"#,
        n(MARGIN),
        n(MARGIN + 44.0),
        esc(&fit(&subtitle, total_w - 2.0 * MARGIN, 13.0, false, false))
    );

    let top = MARGIN + TITLE_H;
    for (i, e) in d.environments.iter().enumerate() {
        let x = MARGIN + i as f64 * (COL_W + GAP);
        let _ = writeln!(
            out,
            r#"<g><rect x="{}" y="{}" width="{}" height="{}" rx="12" class="env{}"/>"#,
            n(x),
            n(top),
            n(COL_W),
            n(col_h),
            if e.internal { " internal" } else { "" }
        );
        let left = badges_right(&mut out, &env_badges(e), x + COL_W - 14.0, top + 17.0);
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" class="env-name">{}</text>"#,
            n(x + 16.0),
            n(top + 32.0),
            esc(&fit(&e.name, left - x - 22.0, 18.0, false, true))
        );
        let mut y = top + ENV_HEAD;
        for (j, c) in e.clusters.iter().enumerate() {
            let h = row_h.get(j).copied().unwrap_or_else(|| cluster_height(c));
            draw_cluster(&mut out, c, x + PAD, y, h);
            y += h + CLUSTER_GAP;
        }
        out.push_str("</g>\n");
        if i + 1 < d.environments.len() {
            let (ax, ay) = (x + COL_W + 8.0, top + 26.0);
            let bx = x + COL_W + GAP - 8.0;
            let _ = writeln!(
                out,
                r#"<g><path d="M{} {} H{}" class="arrow"/><path d="M{} {} l-9 -5 v10 z" class="arrow-head"/><text x="{}" y="{}" class="arrow-label">promote</text></g>"#,
                n(ax),
                n(ay),
                n(bx - 8.0),
                n(bx),
                n(ay),
                n((ax + bx) / 2.0),
                n(ay - 8.0)
            );
        }
    }

    for (b, text, x, row) in &legend {
        let y = top + col_h + 26.0 + *row as f64 * 24.0;
        match b {
            Some(b) => {
                let w = badge_width(b);
                badges_right(&mut out, std::slice::from_ref(b), x + w, y - 13.0);
                let _ = writeln!(
                    out,
                    r#"<text x="{}" y="{}" class="legend">{}</text>"#,
                    n(x + w + 6.0),
                    n(y),
                    esc(text)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    r#"<text x="{}" y="{}" class="legend"><tspan class="taint">taint</tspan>{}</text>"#,
                    n(*x),
                    n(y),
                    esc(text)
                );
            }
        }
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_shortened_not_overflowing() {
        let s = fit(
            "a-very-long-cluster-name-that-does-not-fit",
            100.0,
            12.0,
            true,
            false,
        );
        assert!(s.ends_with('\u{2026}'));
        assert!(width(&s, 12.0, true, false) <= 100.0);
        assert_eq!(fit("short", 100.0, 12.0, true, false), "short");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
