//! A Mermaid flowchart for Markdown docs: a subgraph per environment (left to right in
//! promotion order), one per platform cluster inside it, a node per pool and one for services.

use super::{ClusterBox, Diagram, PoolBox, provider_badge};
use std::fmt::Write;

/// Mermaid ids: letters, digits and `_` only (a `-` could read as an edge).
fn id(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| {
            p.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("__")
}

/// Text inside a quoted label: quotes and markup characters become Mermaid entities.
fn esc(s: &str) -> String {
    s.replace('&', "#amp;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// A quoted label from already escaped lines, joined with `<br/>`.
fn label(lines: &[String]) -> String {
    format!("\"{}\"", lines.join("<br/>"))
}

fn pool_lines(p: &PoolBox) -> Vec<String> {
    let mut title = format!("<b>{}</b>", esc(&p.key));
    for b in p.badges() {
        title.push_str(&format!(" [{}]", esc(b.text())));
    }
    let mut lines = vec![title, esc(&p.shape_line())];
    lines.extend(p.taints.iter().map(|t| format!("taint {}", esc(t))));
    lines
}

fn cluster_lines(c: &ClusterBox) -> Vec<String> {
    let mut first = format!("<b>{} {}</b>", provider_badge(c.provider), esc(&c.key));
    for b in super::intent_badges(&c.intent) {
        first.push_str(&format!(" [{}]", esc(b.text())));
    }
    vec![
        first,
        esc(&c.name),
        esc(&format!("{} · {}", c.provider_title, c.region)),
    ]
}

pub fn render(d: &Diagram) -> String {
    let mut out = String::from("flowchart LR\n");
    let mut prod = Vec::new();
    let mut gpu = Vec::new();
    for e in &d.environments {
        // Upper case cannot collide with ids made from (lowercase) keys.
        let env_id = format!("ENV__{}", id(&[&e.name]));
        let mut title = e.name.clone();
        for (on, what) in [(e.internal, "internal"), (e.base, "base")] {
            if on {
                title.push_str(&format!(" [{what}]"));
            }
        }
        for b in super::intent_badges(&e.intent) {
            title.push_str(&format!(" [{}]", b.text()));
        }
        let _ = writeln!(
            out,
            "  subgraph {env_id}[{}]",
            label(&[format!("<b>{}</b>", esc(&title))])
        );
        out.push_str("    direction TB\n");
        for c in &e.clusters {
            let cid = id(&[&e.name, &c.key]);
            let _ = writeln!(out, "    subgraph {cid}[{}]", label(&cluster_lines(c)));
            out.push_str("      direction TB\n");
            for p in &c.pools {
                let pid = id(&[&e.name, &c.key, &p.key]);
                let _ = writeln!(out, "      {pid}[{}]", label(&pool_lines(p)));
                if p.intent.stage == Some(crate::environment::Stage::Prod) {
                    prod.push(pid.clone());
                }
                if p.gpus_per_node > 0 {
                    gpu.push(pid);
                }
            }
            if !c.services.is_empty() {
                let sid = format!("{}__SVC", id(&[&e.name, &c.key]));
                let mut lines = vec!["<i>services</i>".to_string()];
                lines.extend(
                    c.services
                        .iter()
                        .map(|s| esc(&format!("{} ({})", s.key, s.kind))),
                );
                let _ = writeln!(out, "      {sid}[/{}/]", label(&lines));
            }
            out.push_str("    end\n");
        }
        out.push_str("  end\n");
        if e.internal {
            let _ = writeln!(
                out,
                "  style {env_id} fill:#fffbeb,stroke:#bf8700,stroke-dasharray:6 4"
            );
        }
    }
    for pair in d.environments.windows(2) {
        let _ = writeln!(
            out,
            "  ENV__{} -- promote --> ENV__{}",
            id(&[&pair[0].name]),
            id(&[&pair[1].name])
        );
    }
    out.push_str("  classDef prod fill:#ffebe9,stroke:#cf222e\n");
    out.push_str("  classDef gpu fill:#fbefff,stroke:#8250df\n");
    if !prod.is_empty() {
        let _ = writeln!(out, "  class {} prod", prod.join(","));
    }
    if !gpu.is_empty() {
        let _ = writeln!(out, "  class {} gpu", gpu.join(","));
    }
    out
}
