//! The new platform as text: `plinth.toml` and one `clusters/<key>.toml` per cluster, written
//! by hand (not serialized) so Kubestack's comments sit beside the values they describe and
//! what could not be imported stays in view, verbatim, in a comment block.

use super::build::{ClusterOut, Comp, OutEntry, Platform};
use super::hcl::Comments;
use super::report::Report;
use crate::inheritance::Mode;
use crate::service::Source;
use crate::value::{write_key, write_toml_string};
use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::PathBuf;

/// The platform's text files, and the source files to copy beside them.
pub(crate) fn files(
    p: &Platform,
    name: &str,
    report: &mut Report,
) -> (Vec<(PathBuf, String)>, BTreeSet<PathBuf>) {
    let mut out = vec![(PathBuf::from(crate::load::ROOT_FILE), root(p, name, report))];
    for c in &p.clusters {
        let rel = format!("{}/{}.toml", crate::load::CLUSTERS_DIR, c.key);
        let text = cluster(p, c, &rel, report);
        out.push((PathBuf::from(rel), text));
    }
    (out, p.copies.clone())
}

fn root(p: &Platform, name: &str, report: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Imported from the Kubestack repository `{}` by `plinth import kubestack`.",
        report.source
    );
    s.push_str("# Every cluster, node pool and service resolves to what Kubestack computes from that repository;\n");
    s.push_str("# the import report lists what was converted and what needs a human decision.\n\n");
    s.push_str("[platform]\nname = ");
    write_toml_string(&mut s, name);
    s.push_str("\nenvironments = [");
    for (i, e) in p.envs.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        write_toml_string(&mut s, e);
    }
    s.push_str("]\n");
    let _ = writeln!(
        s,
        "# The environment every module's `configuration_base_key` names.\nbase_environment = \"{}\"",
        p.base
    );
    let why = match p.mode {
        Mode::Shallow => {
            "Kubestack's release rule, as its modules are pinned to a release: any value set replaces the base value whole (`\"\"` too)."
        }
        _ => {
            "Kubestack's current rule: tables merge one level deep, `\"\"` inherits, lists are replaced whole."
        }
    };
    comment_lines(&mut s, &[why.to_string()]);
    let _ = writeln!(s, "inheritance = \"{}\"", p.mode.as_str());
    if p.per_cluster_state {
        comment_lines(
            &mut s,
            &["One Terraform root and state per cluster (Kubestack had one for the platform): `kubestack-state-migration.sh` moves each cluster's state to its root.".to_string()],
        );
        s.push_str("state = \"cluster\"\n");
    }
    if !p.backend.is_empty() {
        s.push_str("\n[platform.backend]\n");
        comment_lines(
            &mut s,
            &["Kubestack's backend, with a state location of Plinth's own: Kubestack's stays as it was (see the import report).".to_string()],
        );
        for (k, v) in &p.backend {
            write_key(&mut s, k);
            let _ = writeln!(s, " = {v}");
        }
    }
    for env in &p.local {
        let _ = writeln!(s, "\n[environments.{}]", key(env));
        comment_lines(
            &mut s,
            &[format!(
                "Kubestack's local development environment: outside the promotion chain, so no promotion waits for it; `plinth apply --env {env}` applies it directly."
            )],
        );
        s.push_str("local = true\n");
    }
    kept(&mut s, crate::load::ROOT_FILE, report);
    s
}

fn cluster(p: &Platform, c: &ClusterOut, rel: &str, report: &Report) -> String {
    let mut s = String::new();
    comment_lines(&mut s, &c.header);
    let _ = writeln!(s, "provider = \"{}\"", c.provider.id);
    if let Some(m) = c.inheritance {
        comment_lines(
            &mut s,
            &[format!(
                "This cluster's module is Kubestack's {} version, unlike the platform's majority.",
                if m == Mode::Shallow {
                    "release"
                } else {
                    "current"
                }
            )],
        );
        let _ = writeln!(s, "inheritance = \"{}\"", m.as_str());
    }
    config(&mut s, "config", &c.config, p);
    for pool in &c.pools {
        let prefix = format!("node_pools.{}", key(&pool.key));
        if !pool.header.is_empty() || pool.inheritance.is_some() {
            s.push('\n');
            let _ = writeln!(s, "[{prefix}]");
            comment_lines(&mut s, &pool.header);
            if let Some((m, why)) = &pool.inheritance {
                comment_lines(&mut s, &[why.to_string()]);
                let _ = writeln!(s, "inheritance = \"{}\"", m.as_str());
            }
        }
        config(&mut s, &format!("{prefix}.config"), &pool.config, p);
    }
    for sv in &c.services {
        let prefix = format!("services.{}", key(&sv.key));
        let _ = writeln!(s, "\n[{prefix}]");
        comment_lines(&mut s, &sv.header);
        let _ = writeln!(s, "kind = \"{}\"", sv.kind.as_str());
        if let Some(cat) = &sv.catalog {
            s.push_str("catalog = ");
            write_toml_string(&mut s, cat);
            s.push('\n');
        }
        s.push_str("source = { ");
        match &sv.source {
            Source::Path { path } => {
                s.push_str("path = ");
                write_toml_string(&mut s, path);
            }
            Source::Remote { url, r#ref } => {
                s.push_str("url = ");
                write_toml_string(&mut s, url);
                s.push_str(", ref = ");
                write_toml_string(&mut s, r#ref);
            }
            Source::Helm {
                repo,
                chart,
                version,
                release_name,
            } => {
                s.push_str("repo = ");
                write_toml_string(&mut s, repo);
                s.push_str(", chart = ");
                write_toml_string(&mut s, chart);
                s.push_str(", version = ");
                write_toml_string(&mut s, version);
                if let Some(r) = release_name {
                    s.push_str(", release_name = ");
                    write_toml_string(&mut s, r);
                }
            }
        }
        s.push_str(" }\n");
        if let Some((m, why)) = &sv.inheritance {
            comment_lines(&mut s, &[why.to_string()]);
            let _ = writeln!(s, "inheritance = \"{}\"", m.as_str());
        }
        config(&mut s, &format!("{prefix}.config"), &sv.config, p);
    }
    kubestack(&mut s, c);
    kept(&mut s, rel, report);
    s
}

/// `[kubestack]`: where the cluster came from, for the `moved` blocks `plinth generate` writes.
fn kubestack(s: &mut String, c: &ClusterOut) {
    let k = &c.kubestack;
    s.push_str("\n[kubestack]\n");
    comment_lines(
        s,
        &["Kubestack's module of this cluster and its module layout: `plinth generate` writes `moved` blocks from them (`kubestack_moved.tf`) so the first plan moves the state instead of replacing anything; `plinth import kubestack --state-migration` writes the script that brings the state over. Remove this table once Plinth has applied every environment.".to_string()],
    );
    s.push_str("module = ");
    write_toml_string(s, &k.module);
    let _ = writeln!(s, "\nlayout = \"{}\"", k.layout.as_str());
    for (name, map) in [
        ("node_pools", &k.node_pools),
        ("services", &k.services),
        ("resources", &k.resources),
    ] {
        if map.is_empty() {
            continue;
        }
        let _ = write!(s, "{name} = {{ ");
        for (i, (key_, v)) in map.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            write_key(s, key_);
            s.push_str(" = ");
            write_toml_string(s, v);
        }
        s.push_str(" }\n");
    }
}

/// `[<prefix>.<env>]` tables: the base first, then the others in chain order, then the local
/// ones. The base table is always written so the component exists and has its base.
fn config(s: &mut String, prefix: &str, comp: &Comp, p: &Platform) {
    let order = std::iter::once(&p.base)
        .chain(p.envs.iter().filter(|e| **e != p.base))
        .chain(&p.local);
    for env in order {
        let Some(e) = comp.envs.get(env) else {
            if *env == p.base {
                let _ = writeln!(s, "\n[{prefix}.{env}]");
            }
            continue;
        };
        s.push('\n');
        comment_lines(s, &e.comments.leading);
        let _ = writeln!(s, "[{prefix}.{env}]");
        if let Some(t) = &e.comments.trailing {
            comment_lines(s, std::slice::from_ref(t));
        }
        for x in &e.entries {
            entry(s, x);
        }
        comment_lines(s, &e.pending);
        comment_lines(s, &e.comments.inner);
    }
}

fn entry(s: &mut String, x: &OutEntry) {
    let Comments {
        leading, trailing, ..
    } = &x.comments;
    comment_lines(s, leading);
    write_key(s, &x.key);
    let _ = write!(s, " = {}", x.value);
    let tail = match (trailing, &x.note) {
        (Some(t), Some(n)) => Some(format!("{t} ({n})")),
        (Some(t), None) => Some(t.clone()),
        (None, Some(n)) => Some(n.clone()),
        (None, None) => None,
    };
    if let Some(t) = tail {
        let _ = write!(s, "  # {}", t.replace('\n', " "));
    }
    s.push('\n');
}

/// The decisions whose Kubestack text this file keeps.
fn kept(s: &mut String, rel: &str, report: &Report) {
    let items: Vec<_> = report
        .decisions
        .iter()
        .filter(|d| d.kept_in.as_deref() == Some(rel) && d.verbatim.is_some())
        .collect();
    if items.is_empty() {
        return;
    }
    s.push_str("\n# ----------------------------------------------------------------------------------------------\n");
    s.push_str("# NOT IMPORTED: Kubestack input Plinth cannot represent as written. Each item needs a human\n");
    s.push_str(
        "# decision (see the import report); the Kubestack text is kept here so nothing is lost.\n",
    );
    for d in items {
        s.push_str("#\n");
        let place = match (&d.component, &d.environment) {
            (Some(c), Some(e)) => format!("{c}, environment `{e}`"),
            (Some(c), None) => c.clone(),
            (None, Some(e)) => format!("environment `{e}`"),
            (None, None) => String::new(),
        };
        comment_lines(s, &[format!("{} — {place}: {}", d.at, d.message)]);
        for line in d.verbatim.as_deref().unwrap_or_default().lines() {
            let _ = writeln!(s, "#   {}", line.trim_end());
        }
    }
}

fn comment_lines(s: &mut String, lines: &[String]) {
    for l in lines {
        for part in wrap(l) {
            if part.is_empty() {
                s.push_str("#\n");
            } else {
                let _ = writeln!(s, "# {part}");
            }
        }
    }
}

/// Long generated comments wrap at 100 columns; comments carried over keep their lines.
fn wrap(line: &str) -> Vec<String> {
    if line.len() <= 98 {
        return vec![line.to_string()];
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    for w in line.split(' ') {
        if !cur.is_empty() && cur.len() + 1 + w.len() > 98 {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    out.push(cur);
    out
}

fn key(k: &str) -> String {
    let mut s = String::new();
    write_key(&mut s, k);
    s
}
