//! `plinth show`: the resolved platform per environment, and `--explain` for where a value
//! came from.

use super::{Valid, check_env, leave, load_valid};
use crate::cli::{Output, ShowArgs};
use crate::ui::Ui;
use crate::{CliError, Exit};
use plinth_core::Resolved;
use plinth_core::source::SourceMap;
use plinth_core::value::{Kind, Origin, Table, Value};
use std::fmt::Write;

pub fn run(ui: &Ui, args: ShowArgs) -> Result<Exit, CliError> {
    let v = load_valid(ui, &args.dir.path())?;
    if let Some(env) = &args.env {
        check_env(&v.platform, env)?;
    }
    let selected: Vec<&Resolved> = v
        .resolution
        .environments
        .iter()
        .filter(|r| args.env.as_deref().is_none_or(|e| e == r.environment))
        .collect();
    if let Some(key) = &args.explain {
        return explain(ui, &v, &selected, key, args.output);
    }
    match args.output {
        Output::Json => {
            // One environment asked for: its document; otherwise the array of them.
            let as_array = !(args.env.is_some() && selected.len() == 1);
            ui.json_with(|out| plinth_core::write_show_json(out, &selected, as_array));
        }
        Output::Text => {
            let mut out = String::new();
            for (i, r) in selected.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                render_env(ui, &v, r, &mut out);
            }
            ui.data(&out);
        }
    }
    drop(selected);
    leave(v);
    Ok(Exit::Ok)
}

/// Where a value came from, in a word: an environment's name, `platform` or `default`.
fn source_word(v: &Valid, o: &Origin) -> String {
    if o.is_builtin() {
        "default".into()
    } else if o.env == Origin::NO_ENV {
        "platform".into()
    } else {
        v.platform
            .environments
            .get(o.env as usize)
            .map_or_else(|| "?".into(), |e| e.name.clone())
    }
}

fn render_env(ui: &Ui, v: &Valid, r: &Resolved, out: &mut String) {
    let envs = &v.platform.environments;
    let i = envs.index(&r.environment).unwrap_or(0);
    let local = envs.is_local(&r.environment);
    let role = if local {
        "local, outside the promotion chain"
    } else if i == 0 {
        "internal"
    } else {
        "external"
    };
    let base = if i == envs.base { ", base" } else { "" };
    let place = if local {
        role.to_string()
    } else {
        format!("{} of {}, {role}{base}", i + 1, envs.len())
    };
    let _ = writeln!(
        out,
        "{} {}  {}",
        ui.bold("environment"),
        ui.bold(&r.environment),
        ui.dim(&format!(
            "({place}) — platform `{}`",
            v.platform.settings.name
        ))
    );
    for c in r.clusters.values() {
        let _ = writeln!(
            out,
            "\n  {} {} {}",
            ui.bold("cluster"),
            ui.cyan(&c.key),
            ui.dim(&format!("— {}", c.meta.name))
        );
        let _ = writeln!(
            out,
            "    provider  {} ({}), region {}",
            c.provider.id, c.provider.title, c.region
        );
        let _ = writeln!(out, "    fqdn      {}", c.meta.fqdn);
        let _ = writeln!(out, "    labels");
        let w = c.meta.labels.keys().map(|k| k.len()).max().unwrap_or(0);
        for (k, val) in &c.meta.labels {
            let _ = writeln!(out, "      {k:<w$}  {val}");
        }
        let _ = writeln!(out, "    config");
        render_table(ui, v, &c.config, "      ", out);
        for p in c.node_pools.values() {
            let s = p.shape();
            let mut badges = vec![
                format!(
                    "{}×{}–{}",
                    s.instance_types.join(","),
                    s.min_nodes,
                    s.max_nodes
                ),
                format!("{:?}", s.arch).to_lowercase(),
            ];
            if s.gpus_per_node > 0 {
                badges.push(format!("{} GPU", s.gpus_per_node));
            }
            for t in &s.taints {
                badges.push(format!("taint {t}"));
            }
            let _ = writeln!(
                out,
                "    {} {} {}",
                ui.bold("node pool"),
                ui.cyan(&p.key),
                ui.dim(&format!("— {} ({})", p.name, badges.join(", ")))
            );
            render_table(ui, v, &p.config, "      ", out);
        }
        for s in c.services.values() {
            let _ = writeln!(
                out,
                "    {} {} {}",
                ui.bold("service"),
                ui.cyan(&s.key),
                ui.dim(&format!("— {} from {}", s.kind.as_str(), s.source))
            );
            render_table(ui, v, &s.config, "      ", out);
        }
    }
}

fn render_table(ui: &Ui, v: &Valid, t: &Table, indent: &str, out: &mut String) {
    let w = t.keys().map(|k| k.len()).max().unwrap_or(0);
    let lines: Vec<(String, String)> = t
        .iter()
        .map(|(k, val)| (format!("{k:<w$} = {val}"), source_word(v, &val.origin)))
        .collect();
    // Align the source column, but do not let one long value push every comment far right.
    let col = lines
        .iter()
        .map(|(l, _)| l.chars().count())
        .filter(|n| *n <= 72)
        .max()
        .unwrap_or(0);
    for (line, from) in lines {
        let pad = col.saturating_sub(line.chars().count());
        let _ = writeln!(
            out,
            "{indent}{line}{}  {}",
            " ".repeat(pad),
            ui.dim(&format!("# {from}"))
        );
    }
}

/// `--explain`: each leaf of a resolved value with the environment, file and line it came from.
fn explain(
    ui: &Ui,
    v: &Valid,
    selected: &[&Resolved],
    key: &str,
    output: Output,
) -> Result<Exit, CliError> {
    let mut parts: Vec<&str> = key.split('.').collect();
    if parts.first() == Some(&"clusters") {
        parts.remove(0);
    }
    let bad = || {
        CliError::refused(
            format!("cannot explain `{key}`"),
            Some("write `<cluster>.<key>`, `<cluster>.node_pools.<pool>.<key>` or `<cluster>.services.<service>.<key>`".into()),
        )
    };
    let cluster = *parts.first().ok_or_else(bad)?;
    let mut results = Vec::new();
    for r in selected {
        let c = r.clusters.get(cluster).ok_or_else(|| {
            CliError::refused(
                format!("there is no cluster `{cluster}`"),
                plinth_core::diagnostic::suggest(cluster, r.clusters.keys().map(String::as_str)),
            )
        })?;
        // The keys this component may have, to tell a typo from a key that is merely unset.
        let known: &[plinth_core::keys::Key];
        let (table, rest): (&Table, &[&str]) = match parts.get(1).copied() {
            Some("node_pools") => {
                let pool = parts.get(2).ok_or_else(bad)?;
                let p = c.node_pools.get(*pool).ok_or_else(|| {
                    CliError::refused(
                        format!("cluster `{cluster}` has no node pool `{pool}`"),
                        plinth_core::diagnostic::suggest(
                            pool,
                            c.node_pools.keys().map(String::as_str),
                        ),
                    )
                })?;
                known = c.provider.pool_keys;
                (&p.config, &parts[3..])
            }
            Some("services") => {
                let svc = parts.get(2).ok_or_else(bad)?;
                let s = c.services.get(*svc).ok_or_else(|| {
                    CliError::refused(
                        format!("cluster `{cluster}` has no service `{svc}`"),
                        plinth_core::diagnostic::suggest(
                            svc,
                            c.services.keys().map(String::as_str),
                        ),
                    )
                })?;
                known = plinth_core::service::SERVICE_KEYS;
                (&s.config, &parts[3..])
            }
            _ => {
                known = c.provider.cluster_keys;
                (&c.config, &parts[1..])
            }
        };
        let rest: Vec<&str> = rest
            .iter()
            .copied()
            .skip_while(|p| *p == "config")
            .collect();
        if rest.is_empty() {
            return Err(bad());
        }
        if !known.iter().any(|k| k.name == rest[0]) && table.get(rest[0]).is_none() {
            return Err(CliError::refused(
                format!(
                    "{} has no key `{}`",
                    match (parts.get(1).copied(), parts.get(2)) {
                        (Some("node_pools"), Some(p)) => format!("node pool `{cluster}.{p}`"),
                        (Some("services"), Some(s)) => format!("service `{cluster}.{s}`"),
                        _ => format!("cluster `{cluster}` ({})", c.provider.title),
                    },
                    rest[0],
                ),
                plinth_core::diagnostic::suggest(rest[0], known.iter().map(|k| k.name)),
            ));
        }
        let value = table
            .get(rest[0])
            .and_then(|first| first.get_path(&rest[1..]));
        let mut leaves = Vec::new();
        if let Some(value) = value {
            collect_leaves(&rest.join("."), value, &mut leaves);
        }
        results.push((r.environment.clone(), value.cloned(), leaves));
    }
    match output {
        Output::Json => {
            let docs: Vec<_> = results
                .iter()
                .map(|(env, value, leaves)| {
                    serde_json::json!({
                        "environment": env,
                        "key": key,
                        "value": value.as_ref().map(Value::to_json),
                        "parts": leaves.iter().map(|(path, val)| {
                            let at = location(&v.sources, &val.origin);
                            serde_json::json!({"path": path, "value": val.to_json(), "from": source_word(v, &val.origin), "file": at.as_ref().map(|a| a.0.clone()), "line": at.as_ref().map(|a| a.1), "column": at.as_ref().map(|a| a.2)})
                        }).collect::<Vec<_>>(),
                    })
                })
                .collect();
            ui.json(&serde_json::Value::Array(docs));
        }
        Output::Text => {
            let mut out = String::new();
            for (env, value, leaves) in &results {
                match value {
                    None => {
                        let _ = writeln!(
                            out,
                            "{} {key} is unset (no environment sets it and it has no default)",
                            ui.bold(env)
                        );
                    }
                    Some(val) => {
                        let _ = writeln!(out, "{} {key} = {val}", ui.bold(env));
                        for (path, leaf) in leaves {
                            let from = source_word(v, &leaf.origin);
                            let at = location(&v.sources, &leaf.origin).map_or_else(
                                || "built-in default".to_string(),
                                |(f, l, c)| format!("{f}:{l}:{c}"),
                            );
                            let how = if from == *env || from == "default" || from == "platform" {
                                from.clone()
                            } else {
                                format!("inherited from {from}")
                            };
                            let _ = writeln!(
                                out,
                                "  {path} = {leaf}  {}",
                                ui.dim(&format!("← {how} ({at})"))
                            );
                        }
                    }
                }
            }
            ui.data(&out);
        }
    }
    Ok(Exit::Ok)
}

/// The leaves of a value. A sensitive value is one leaf (shown masked), never its parts: its
/// `value` field is the secret itself.
fn collect_leaves(path: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match &v.kind {
        Kind::Table(t) if !t.is_empty() && v.sensitive().is_none() => {
            for (k, x) in t {
                collect_leaves(&format!("{path}.{k}"), x, out);
            }
        }
        _ => out.push((path.to_string(), v.clone())),
    }
}

fn location(sources: &SourceMap, o: &Origin) -> Option<(String, usize, usize)> {
    if o.is_builtin() {
        return None;
    }
    let lc = sources.line_col(o.file, o.value.start)?;
    Some((sources.name(o.file).to_string(), lc.line, lc.column))
}
