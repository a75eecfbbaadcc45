//! Graphviz DOT: one cluster subgraph per environment, one per platform cluster inside it, a
//! node per node pool and one for the services, and "promote" edges between environments.

use super::{ClusterBox, Diagram, PoolBox, provider_badge};
use std::fmt::Write;

/// A DOT double-quoted string; `\n` in `s` becomes a left-justified line break.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\l"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A label whose lines are all left-justified (DOT wants a trailing `\l`).
fn label(lines: &[String]) -> String {
    let mut s = lines.join("\n");
    s.push('\n');
    quote(&s)
}

fn pool_label(p: &PoolBox) -> String {
    let mut title = p.key.clone();
    let badges: Vec<String> = p
        .badges()
        .iter()
        .map(|b| format!("[{}]", b.text()))
        .collect();
    if !badges.is_empty() {
        title = format!("{title}  {}", badges.join(" "));
    }
    let mut lines = vec![title, p.shape_line()];
    lines.extend(p.taints.iter().map(|t| format!("taint {t}")));
    label(&lines)
}

fn cluster_label(c: &ClusterBox) -> String {
    let mut first = format!("{} {}", provider_badge(c.provider), c.key);
    let intent: Vec<String> = super::intent_badges(&c.intent)
        .iter()
        .map(|b| format!("[{}]", b.text()))
        .collect();
    if !intent.is_empty() {
        first = format!("{first}  {}", intent.join(" "));
    }
    label(&[
        first,
        c.name.clone(),
        format!("{} \u{b7} {}", c.provider_title, c.region),
    ])
}

pub fn render(d: &Diagram) -> String {
    let mut out = String::new();
    let font = "Helvetica,Arial,sans-serif";
    let _ = writeln!(out, "digraph {} {{", quote(&d.platform));
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, compound=true, newrank=true, nodesep=0.25, ranksep=0.9, fontname={}, fontsize=12, labelloc=t, labeljust=l, label={}];",
        quote(font),
        quote(&format!(
            "Platform {}: {}",
            d.platform,
            d.chain.join(" \u{2192} ")
        ))
    );
    let _ = writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f6f8fa\", color=\"#8c959f\", fontname={}, fontsize=10];",
        quote(font)
    );
    let _ = writeln!(
        out,
        "  edge [color=\"#59636e\", fontname={}, fontsize=10];",
        quote(font)
    );
    let mut anchors = Vec::new();
    for e in &d.environments {
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
            "  subgraph {} {{",
            quote(&format!("cluster_{}", e.name))
        );
        let _ = writeln!(out, "    label={};", quote(&title));
        let _ = writeln!(
            out,
            "    style={}; color={}; bgcolor={};",
            quote(if e.internal {
                "rounded,dashed"
            } else {
                "rounded"
            }),
            quote(if e.internal { "#bf8700" } else { "#d1d9e0" }),
            quote(if e.internal { "#fffbeb" } else { "#f6f8fa" })
        );
        let mut first_node = None;
        let mut nodes = Vec::new();
        for c in &e.clusters {
            let id = format!("cluster_{}_{}", e.name, c.key);
            let _ = writeln!(out, "    subgraph {} {{", quote(&id));
            let _ = writeln!(
                out,
                "      label={}; style=\"rounded,filled\"; color=\"#818b98\"; fillcolor=\"#ffffff\";",
                cluster_label(c)
            );
            for p in &c.pools {
                let node = format!("{}/{}/{}", e.name, c.key, p.key);
                first_node.get_or_insert_with(|| node.clone());
                let _ = writeln!(out, "      {} [label={}];", quote(&node), pool_label(p));
                nodes.push(node);
            }
            if !c.services.is_empty() {
                let node = format!("{}/{}/services", e.name, c.key);
                let mut lines = vec!["services".to_string()];
                lines.extend(c.services.iter().map(|s| format!("{} ({})", s.key, s.kind)));
                let _ = writeln!(
                    out,
                    "      {} [shape=note, style=filled, fillcolor=\"#eef1f4\", label={}];",
                    quote(&node),
                    label(&lines)
                );
                nodes.push(node);
            }
            out.push_str("    }\n");
        }
        // One rank per environment: with `rankdir=LR` environments stand side by side and
        // everything inside one is stacked top to bottom.
        let ranked: Vec<String> = nodes.iter().map(|n| quote(n)).collect();
        let _ = writeln!(out, "    {{ rank=same; {}; }}", ranked.join("; "));
        out.push_str("  }\n");
        anchors.push((e.name.clone(), first_node));
    }
    for pair in anchors.windows(2) {
        if let [(from_env, Some(from)), (to_env, Some(to))] = pair {
            let _ = writeln!(
                out,
                "  {} -> {} [ltail={}, lhead={}, label=\"promote\", penwidth=2];",
                quote(from),
                quote(to),
                quote(&format!("cluster_{from_env}")),
                quote(&format!("cluster_{to_env}"))
            );
        }
    }
    out.push_str("}\n");
    out
}
