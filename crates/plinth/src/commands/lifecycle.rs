//! plan, apply, promote, status, affected, unlock and ci: the change lifecycle
//! review → plan → apply to the internal environment → promote the same revision onward.

use super::{check_env, load_valid};
use crate::cli::{AffectedArgs, ApplyArgs, Output, PlanArgs, PromoteArgs, StatusArgs, UnlockArgs};
use crate::ui::Ui;
use crate::{CliError, Exit};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use plinth_core::engine::terraform::{Counts, Terraform};
use plinth_core::promote::plan::{Change, ComponentChange, KeyChange, PlatformPlan};
use plinth_core::promote::record::{self, Outcome, Record};
use plinth_core::promote::{self, ApplyOptions, Engine, Observer, Repo, RootOutcome, RootResult};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// One spinner per Terraform root, on a terminal only.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<BTreeMap<String, ProgressBar>>,
}

impl Bars {
    fn new(ui: &Ui) -> Bars {
        let target = if ui.quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        Bars {
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Observer for Bars {
    fn started(&self, root: &str) {
        let pb = self.multi.add(ProgressBar::new_spinner());
        pb.set_style(
            ProgressStyle::with_template("{spinner} {prefix:<20} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_prefix(root.to_string());
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        if let Ok(mut b) = self.bars.lock() {
            b.insert(root.to_string(), pb);
        }
    }
    fn step(&self, root: &str, step: &str) {
        if let Some(pb) = self.bars.lock().ok().and_then(|b| b.get(root).cloned()) {
            pb.set_message(format!("terraform {step}"));
        }
    }
    fn finished(&self, root: &str, result: &RootOutcome) {
        if let Some(pb) = self.bars.lock().ok().and_then(|b| b.get(root).cloned()) {
            pb.finish_with_message(outcome_word(result));
        }
    }
}

fn outcome_word(o: &RootOutcome) -> String {
    match o {
        RootOutcome::NoChanges => "no changes".into(),
        RootOutcome::Changes { summary } => format!("changes: {}", counts(&summary.total())),
        RootOutcome::Applied { summary } => format!("applied: {}", counts(&summary.total())),
        RootOutcome::Failed { step, .. } => format!("FAILED at terraform {step}"),
        RootOutcome::NotStarted => "not started (another root failed)".into(),
    }
}

fn counts(c: &Counts) -> String {
    let mut s = format!("+{} ~{} -{}", c.add, c.change, c.destroy);
    if c.replace > 0 {
        let _ = write!(s, " ({} replaced)", c.replace);
    }
    s
}

fn out_dir(dir: &std::path::Path, out: &Option<PathBuf>) -> PathBuf {
    out.clone().unwrap_or_else(|| dir.join("generated"))
}

fn value(v: &Option<serde_json::Value>) -> String {
    v.as_ref().map_or("(unset)".into(), |v| v.to_string())
}

fn render_keys(out: &mut String, keys: &[KeyChange], indent: &str) {
    for k in keys {
        let flag = if k.forces_replacement {
            "  (forces replacement)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{indent}~ {}: {} → {}{flag}",
            k.key,
            value(&k.old),
            value(&k.new)
        );
    }
}

fn sign(c: Change) -> &'static str {
    match c {
        Change::Added => "+",
        Change::Removed => "-",
        Change::Changed => "~",
    }
}

fn render_components(out: &mut String, what: &str, items: &[ComponentChange]) {
    for c in items {
        let replaced = if c.replaced {
            "  (replaced: its pods are rescheduled)"
        } else {
            ""
        };
        let _ = writeln!(out, "      {} {what} {}{replaced}", sign(c.change), c.key);
        if c.change == Change::Changed {
            render_keys(out, &c.keys, "          ");
        }
    }
}

fn render_plan(ui: &Ui, plan: &PlatformPlan, baseline: &Option<Record>) -> String {
    let mut out = String::new();
    let since = match baseline {
        Some(r) => format!(
            "since its last apply ({} at {}, record {:06})",
            record::short(&r.commit),
            r.time,
            r.sequence
        ),
        None => "nothing applied yet".into(),
    };
    let _ = writeln!(
        out,
        "{} `{}` — {since}",
        ui.bold("Platform plan for"),
        plan.environment
    );
    if plan.is_empty() {
        let _ = writeln!(out, "  no changes");
    }
    for c in &plan.clusters {
        let _ = writeln!(
            out,
            "  {} cluster {} ({})",
            sign(c.change),
            ui.cyan(&c.key),
            c.name
        );
        render_keys(&mut out, &c.keys, "      ");
        if let Some(why) = &c.pools_replaced {
            let _ = writeln!(out, "      {}", ui.red(why));
        }
        render_components(&mut out, "node pool", &c.node_pools);
        render_components(&mut out, "service", &c.services);
    }
    for c in plan.migrations() {
        let _ = writeln!(
            out,
            "\n  {} {}: {}",
            ui.red("WORKLOAD MIGRATION"),
            c.key,
            c.migration.as_deref().unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "    Migrating workloads between clusters is highly disruptive for app teams and their users."
        );
    }
    out
}

fn render_results(ui: &Ui, results: &[RootResult]) -> String {
    let mut out = String::new();
    let w = results
        .iter()
        .map(|r| r.root.len())
        .max()
        .unwrap_or(0)
        .max(4);
    for r in results {
        let word = outcome_word(&r.outcome);
        let word = if r.outcome.is_failure() {
            ui.red(&word)
        } else {
            word
        };
        let _ = writeln!(out, "  {:<w$}  {word}", r.root);
        if let RootOutcome::Changes { summary } | RootOutcome::Applied { summary } = &r.outcome {
            for (cluster, c) in &summary.by_cluster {
                let name = if cluster.is_empty() {
                    "(platform)"
                } else {
                    cluster
                };
                let _ = writeln!(out, "  {:<w$}    {name}: {}", "", counts(c));
            }
        }
        if let RootOutcome::Failed { error, .. } = &r.outcome {
            for line in error.lines().filter(|l| !l.trim().is_empty()).take(15) {
                let _ = writeln!(out, "  {:<w$}    {}", "", ui.dim(line));
            }
        }
    }
    out
}

pub fn plan(ui: &Ui, args: PlanArgs) -> Result<Exit, CliError> {
    let dir = &args.dir.path();
    let v = load_valid(ui, dir)?;
    check_env(&v.platform, &args.env)?;
    let desired = v
        .resolution
        .get(&args.env)
        .map(plinth_core::Resolved::to_json)
        .unwrap_or_default();
    let repo = Repo::open(dir).ok();
    let baseline = match &repo {
        Some(r) => r.store.latest_success(&args.env)?,
        None => None,
    };
    let applied = match (&repo, &baseline) {
        (Some(r), Some(b)) => r.store.resolved(b),
        _ => None,
    };
    let platform_plan = promote::plan::diff(&desired, applied.as_ref());
    if repo.is_none() {
        ui.status(&ui.yellow("note: not a git repository, so there is no record of past applies: everything shows as added"));
    }
    let mut results = Vec::new();
    let run_engine = !args.no_engine;
    if run_engine {
        let mut terraform = Terraform::find()?;
        terraform.inputs = plinth_core::secrets::terraform_inputs(&v.resolution, &args.env)?;
        let out = out_dir(dir, &args.out);
        let tree = plinth_core::generate::render_all(&v.platform, &v.resolution, &out)?;
        plinth_core::generate::write(&out, &tree, false)?;
        let only = (baseline.is_some()).then(|| {
            platform_plan
                .clusters
                .iter()
                .map(|c| c.key.clone())
                .chain(plinth_core::secrets::clusters_with_sensitive(&v.resolution))
                .collect()
        });
        let roots = promote::roots(&v.platform, &out, only.as_ref());
        let bars = Bars::new(ui);
        let engine = Engine {
            terraform: &terraform,
            environment: &args.env,
            backend_config: Vec::new(),
            jobs: args.jobs,
            observer: &bars,
        };
        results = engine.run(&roots, false);
    }
    let engine_failed = results.iter().any(|r| r.outcome.is_failure());
    let engine_changes = results
        .iter()
        .any(|r| matches!(r.outcome, RootOutcome::Changes { .. }));
    match args.output {
        Output::Json => ui.json(&serde_json::json!({
            "environment": args.env,
            "baseline": baseline,
            "platform": platform_plan,
            "terraform": results,
        })),
        Output::Text => {
            let mut text = render_plan(ui, &platform_plan, &baseline);
            if run_engine {
                let _ = writeln!(
                    text,
                    "\n{} `{}`",
                    ui.bold("Terraform plan in workspace"),
                    args.env
                );
                text.push_str(&render_results(ui, &results));
            }
            ui.data(&text);
        }
    }
    Ok(if engine_failed {
        Exit::Engine
    } else if !platform_plan.is_empty() || engine_changes {
        Exit::Changes
    } else {
        Exit::Ok
    })
}

fn report(ui: &Ui, output: Output, rep: &promote::ApplyReport, verb: &str) -> Exit {
    let ok = rep.record.outcome == Outcome::Succeeded;
    match output {
        Output::Json => ui.json(&serde_json::json!({"record": rep.record, "roots": rep.results, "compat_tag": rep.compat_tag})),
        Output::Text => {
            let mut text = render_results(ui, &rep.results);
            let tag = record::tag(&rep.record.environment, rep.record.sequence);
            let word = if ok { ui.green(&format!("{verb} succeeded")) } else { ui.red(&format!("{verb} failed")) };
            let _ = writeln!(
                text,
                "\n{word}: {} of {} to `{}` recorded as {}",
                rep.record.via,
                record::short(&rep.record.commit),
                rep.record.environment,
                tag.trim_start_matches("refs/tags/")
            );
            if let Some(t) = &rep.compat_tag {
                let _ = writeln!(text, "tagged the commit `{t}`");
            }
            if ok {
                let _ = writeln!(text, "share the record with `git push --tags`");
            }
            ui.data(&text);
        }
    }
    if ok { Exit::Ok } else { Exit::Engine }
}

pub fn apply(ui: &Ui, args: ApplyArgs) -> Result<Exit, CliError> {
    let dir = &args.dir.path();
    let repo = Repo::open(dir)?;
    let out = out_dir(dir, &args.out);
    let prepared = repo.prepare_head(dir, &out)?;
    check_env(&prepared.platform, &args.env)?;
    if prepared.platform.environments.is_local(&args.env) {
        ui.status(&ui.dim(&format!(
            "note: `{}` is a local environment: applied directly, outside the promotion chain",
            args.env
        )));
    } else if args.env != prepared.platform.environments.internal() {
        ui.status(&ui.yellow(&format!(
            "note: `{}` is not the internal environment; changes normally reach it with `plinth promote --to {}`",
            args.env, args.env
        )));
    }
    let bars = Bars::new(ui);
    let opts = ApplyOptions {
        environment: &args.env,
        jobs: args.jobs,
        via: "apply".into(),
        compat_tags: args.compat_tags,
        command: format!("plinth apply --env {}", args.env),
        observer: &bars,
    };
    let rep = promote::apply(&repo, dir, &prepared, &opts)?;
    Ok(report(ui, args.output, &rep, "apply"))
}

pub fn promote(ui: &Ui, args: PromoteArgs) -> Result<Exit, CliError> {
    let dir = &args.dir.path();
    let repo = Repo::open(dir)?;
    let out = out_dir(dir, &args.out);
    let prepared = match &args.from_revision {
        Some(rev) => repo.prepare_revision(dir, rev, &out)?,
        None => repo.prepare_head(dir, &out)?,
    };
    let (prev, validated) =
        promote::check_promotion(&repo, &prepared.platform, &args.to, &prepared)?;
    ui.status(&format!(
        "{} {} was applied successfully to `{prev}` at {} (record {:06}); promoting it to `{}`",
        ui.green("✓"),
        record::short(&prepared.commit),
        validated.time,
        validated.sequence,
        args.to
    ));
    let bars = Bars::new(ui);
    let opts = ApplyOptions {
        environment: &args.to,
        jobs: args.jobs,
        via: format!("promote from {prev}"),
        compat_tags: args.compat_tags,
        command: format!("plinth promote --to {}", args.to),
        observer: &bars,
    };
    let rep = promote::apply(&repo, dir, &prepared, &opts)?;
    Ok(report(ui, args.output, &rep, "promotion"))
}

pub fn status(ui: &Ui, args: StatusArgs) -> Result<Exit, CliError> {
    let dir = &args.dir.path();
    let v = load_valid(ui, dir)?;
    let repo = Repo::open(dir)?;
    let st = promote::status(&repo, &v.platform)?;
    if args.output == Output::Json {
        ui.json(&serde_json::to_value(&st).unwrap_or_default());
        return Ok(Exit::Ok);
    }
    let mut out = String::new();
    for s in &st {
        let role = if s.internal { " (internal)" } else { "" };
        let _ = writeln!(out, "{}{role}", ui.bold(&s.environment));
        match &s.last_success {
            Some(r) => {
                let _ = writeln!(
                    out,
                    "  runs      {} since {} ({})",
                    record::short(&r.commit),
                    r.time,
                    r.via
                );
            }
            None => {
                let _ = writeln!(out, "  runs      nothing applied yet");
            }
        }
        if let Some(l) = &s.latest
            && l.outcome != Outcome::Succeeded
        {
            let what = if s.interrupted {
                ui.red("interrupted")
            } else {
                ui.red("failed")
            };
            let _ = writeln!(
                out,
                "  last      {what}: {} of {} at {}",
                l.via,
                record::short(&l.commit),
                l.time
            );
            if s.interrupted {
                let _ = writeln!(
                    out,
                    "            the apply never recorded an outcome: check the Terraform state, then plan and apply again"
                );
            }
        }
        if let Some(h) = &s.lock {
            let stale = if h.is_stale() {
                ui.red(" (stale: the process is gone; `plinth unlock` after checking)")
            } else {
                String::new()
            };
            let _ = writeln!(out, "  locked    by {}{stale}", h.describe());
        }
        if !s.internal {
            match (s.same_as_internal, s.behind_internal_commits) {
                (Some(true), _) => {
                    let _ = writeln!(
                        out,
                        "  lag       none: runs what the internal environment runs"
                    );
                }
                (Some(false), Some(n)) => {
                    let _ = writeln!(
                        out,
                        "  lag       {n} commit(s) behind the internal environment"
                    );
                }
                (Some(false), None) => {
                    let _ = writeln!(
                        out,
                        "  lag       runs content the internal environment no longer runs"
                    );
                }
                (None, _) => {}
            }
        }
    }
    ui.data(&out);
    Ok(Exit::Ok)
}

pub fn affected(ui: &Ui, args: AffectedArgs) -> Result<Exit, CliError> {
    let dir = &args.dir.path();
    let repo = Repo::open(dir)?;
    let a = promote::affected::affected(&repo, dir, &args.base, &args.head)?;
    if args.output == Output::Json {
        ui.json(&serde_json::to_value(&a).unwrap_or_default());
        return Ok(Exit::Ok);
    }
    let mut out = String::new();
    if a.is_empty() {
        let _ = writeln!(
            out,
            "nothing affected between {} and {}",
            record::short(&a.base),
            record::short(&a.head)
        );
    }
    for (env, clusters) in &a.environments {
        if clusters.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}", ui.bold(env));
        for (key, c) in clusters {
            let mut parts = Vec::new();
            if c.cluster {
                parts.push("cluster".to_string());
            }
            if !c.node_pools.is_empty() {
                parts.push(format!(
                    "node pools {}",
                    c.node_pools.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            if !c.services.is_empty() {
                parts.push(format!(
                    "services {}",
                    c.services.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            let _ = writeln!(out, "  {key}: {}", parts.join("; "));
        }
    }
    ui.data(&out);
    Ok(Exit::Ok)
}

pub fn unlock(ui: &Ui, args: UnlockArgs) -> Result<Exit, CliError> {
    let repo = Repo::open(&args.dir.path())?;
    let done = repo.unlock(&args.env)?;
    match &done.holder {
        Some(h) => ui.status(&format!(
            "{} broke the lock of `{}` held by {}",
            ui.yellow("!"),
            args.env,
            h.describe()
        )),
        None if done.ref_locks.is_empty() => {
            ui.status(&format!("`{}` was not locked", args.env));
        }
        None => {}
    }
    for l in &done.ref_locks {
        ui.status(&format!(
            "{} removed git's leftover lock `{}`",
            ui.yellow("!"),
            l.display()
        ));
    }
    Ok(Exit::Ok)
}
