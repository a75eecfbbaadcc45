//! plan, apply, promote, status, affected, unlock and ci: the change lifecycle
//! review → plan → apply to the internal environment → promote the same revision onward.

use super::{check_env, load_valid};
use crate::cli::{
    AffectedArgs, ApplyArgs, DestroyArgs, Output, PlanArgs, PromoteArgs, RecordArgs, RootJob,
    StatusArgs, UnlockArgs, VerifyArgs,
};
use crate::ui::Ui;
use crate::{CliError, Exit};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use plinth_core::engine::terraform::{Counts, Terraform};
use plinth_core::promote::plan::{Change, ComponentChange, KeyChange, PlatformPlan};
use plinth_core::promote::record::{self, Outcome, Record};
use plinth_core::promote::{
    self, ApplyOptions, Engine, Observer, Repo, RootOutcome, RootResult, Selection,
};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// One spinner per Terraform root on a terminal; elsewhere (a CI log) one line per step, so a
/// long apply shows where it is while it runs.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<BTreeMap<String, ProgressBar>>,
    lines: bool,
    start: std::time::Instant,
}

impl Bars {
    fn new(ui: &Ui) -> Bars {
        use std::io::IsTerminal;
        let tty = std::io::stderr().is_terminal();
        let target = if ui.quiet || !tty {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        Bars {
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(BTreeMap::new()),
            lines: !ui.quiet && !tty,
            start: std::time::Instant::now(),
        }
    }

    fn line(&self, root: &str, what: &str) {
        if self.lines {
            eprintln!("[{:>5}s] {root}: {what}", self.start.elapsed().as_secs());
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
        self.line(root, "started");
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        if let Ok(mut b) = self.bars.lock() {
            b.insert(root.to_string(), pb);
        }
    }
    fn step(&self, root: &str, step: &str) {
        self.line(root, &format!("terraform {step}"));
        if let Some(pb) = self.bars.lock().ok().and_then(|b| b.get(root).cloned()) {
            pb.set_message(format!("terraform {step}"));
        }
    }
    fn finished(&self, root: &str, result: &RootOutcome) {
        self.line(root, &outcome_word(result));
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
        RootOutcome::Interrupted => "interrupted (Terraform stopped gracefully)".into(),
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
    let mut selection = None;
    let mut terraform_text: BTreeMap<String, String> = BTreeMap::new();
    let run_engine = !args.no_engine;
    if run_engine {
        plinth_core::engine::supervise::install();
        let mut terraform = Terraform::find()?;
        terraform.inputs = plinth_core::secrets::terraform_inputs(&v.resolution, &args.env)?;
        let out = out_dir(dir, &args.out);
        let tree = plinth_core::generate::render_all(&v.platform, &v.resolution, &out)?;
        plinth_core::generate::write(&out, &tree, false)?;
        // The roots whose content (what the engines read) differs from the last success.
        let history = match &repo {
            Some(r) => r.store.records(&args.env)?,
            None => Vec::new(),
        };
        let untracked = repo
            .as_ref()
            .map(|r| r.untracked_in(&out))
            .unwrap_or_default();
        let content = promote::hash::content(&v.platform, &v.resolution, &out, &untracked)?;
        let mut sel = promote::select_roots(&v.platform, &v.resolution, &out, &content, &history);
        // `--root`: those roots only, changed or not (a CI job plans the one it was given).
        if !args.roots.is_empty() {
            for root in &args.roots {
                promote::root_dir(&v.platform, &out, root)?;
            }
            sel.run.retain(|k, _| args.roots.contains(k));
            for root in &args.roots {
                sel.run.entry(root.clone()).or_insert_with(|| {
                    "named with `--root` (unchanged since the last success)".into()
                });
            }
            sel.unchanged.clear();
            sel.abandoned.clear();
        }
        let roots: Vec<_> = promote::roots(&v.platform, &out, None)
            .into_iter()
            .filter(|(k, _)| sel.run.contains_key(k))
            .collect();
        let bars = Bars::new(ui);
        let engine = Engine {
            terraform: &terraform,
            environment: &args.env,
            backend_config: Vec::new(),
            jobs: args.jobs,
            observer: &bars,
            expected_locks: Default::default(),
            destroy: false,
        };
        results = engine.run(&roots, false);
        selection = Some(sel);
        if args.show_terraform {
            let file = promote::plan_file(&args.env);
            for r in &results {
                if matches!(r.outcome, RootOutcome::Changes { .. }) {
                    terraform_text.insert(r.root.clone(), terraform.show_text(&r.dir, &file)?);
                }
            }
        }
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
            "roots": selection,
            "terraform": results,
            "terraform_plans": terraform_text,
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
                if let Some(sel) = &selection {
                    text.push_str(&render_selection(ui, sel));
                }
                text.push_str(&render_results(ui, &results));
                for (root, plan) in &terraform_text {
                    let _ = writeln!(
                        text,
                        "\n{}\n{plan}",
                        ui.bold(&format!("── terraform plan of `{root}`"))
                    );
                }
                if !args.show_terraform && engine_changes {
                    let _ = writeln!(
                        text,
                        "{}",
                        ui.dim(&format!(
                            "every resource and attribute: `plinth plan --env {} --show-terraform`",
                            args.env
                        ))
                    );
                }
            }
            ui.data(&text);
        }
    }
    if let Some(exit) = interrupted_exit() {
        return Ok(exit);
    }
    Ok(if engine_failed {
        Exit::Engine
    } else if !platform_plan.is_empty() || engine_changes {
        Exit::Changes
    } else {
        Exit::Ok
    })
}

/// The exit code of a run that changed an environment: the signal that stopped it, else
/// whether it succeeded.
fn finished(ok: bool) -> Exit {
    interrupted_exit().unwrap_or(if ok { Exit::Ok } else { Exit::Engine })
}

/// The exit code of a run stopped by a signal, if one was.
fn interrupted_exit() -> Option<Exit> {
    match plinth_core::engine::supervise::interrupted()? {
        15 => Some(Exit::Terminated),
        _ => Some(Exit::Interrupted),
    }
}

fn render_selection(ui: &Ui, sel: &Selection) -> String {
    let mut out = String::new();
    for (root, why) in &sel.run {
        let _ = writeln!(out, "  {}  {}", root, ui.dim(&format!("runs: {why}")));
    }
    if !sel.unchanged.is_empty() {
        let _ = writeln!(
            out,
            "  {}",
            ui.dim(&format!(
                "unchanged since the last success (not run): {}",
                sel.unchanged.join(", ")
            ))
        );
    }
    for root in &sel.abandoned {
        let _ = writeln!(
            out,
            "  {} root `{root}` is no longer in the definition: Plinth does not destroy it; its resources stay until destroyed with Terraform",
            ui.yellow("!")
        );
    }
    out
}

fn verification_word(ui: &Ui, rec: &Record) -> String {
    if rec.outcome == Outcome::Verified {
        ui.green("verified")
    } else {
        ui.red("verification failed")
    }
}

fn render_checks(ui: &Ui, rec: &Record) -> String {
    let mut out = String::new();
    for c in &rec.checks {
        let mark = if c.passed {
            ui.green("✓")
        } else {
            ui.red("✗")
        };
        let _ = writeln!(out, "  {mark} {} ({} s)", c.name, c.seconds);
        for line in c.detail.lines().take(if c.passed { 1 } else { 10 }) {
            let _ = writeln!(out, "      {}", ui.dim(line));
        }
    }
    out
}

fn report(ui: &Ui, output: Output, rep: &promote::ApplyReport, verb: &str) -> Exit {
    let ok = matches!(rep.record.outcome, Outcome::Succeeded | Outcome::Destroyed);
    let verified = rep
        .verification
        .as_ref()
        .is_none_or(|v| v.outcome == Outcome::Verified);
    match output {
        Output::Json => ui.json(&serde_json::json!({"record": rep.record, "roots": rep.results, "selection": rep.selection, "verification": rep.verification, "compat_tag": rep.compat_tag, "new_lock_files": rep.new_lock_files})),
        Output::Text => {
            let mut text = render_selection(ui, &rep.selection);
            text.push_str(&render_results(ui, &rep.results));
            let tag = record::tag(&rep.record.environment, rep.record.sequence);
            let word = match rep.record.outcome {
                Outcome::Succeeded | Outcome::Destroyed => ui.green(&format!("{verb} succeeded")),
                Outcome::Interrupted => ui.red(&format!("{verb} interrupted")),
                _ => ui.red(&format!("{verb} failed")),
            };
            let _ = writeln!(
                text,
                "\n{word}: {} of {} to `{}` recorded as {}",
                rep.record.via,
                record::short(&rep.record.commit),
                rep.record.environment,
                tag.trim_start_matches("refs/tags/")
            );
            if rep.record.outcome == Outcome::Interrupted {
                let _ = writeln!(
                    text,
                    "Terraform was told to stop and exited; its state lock is released. Plan again to see where it stopped."
                );
            }
            if let Some(v) = &rep.verification {
                let word = verification_word(ui, v);
                let _ = writeln!(
                    text,
                    "{word}: recorded as {}",
                    record::tag(&v.environment, v.sequence).trim_start_matches("refs/tags/")
                );
                text.push_str(&render_checks(ui, v));
            }
            if let Some(t) = &rep.compat_tag {
                let _ = writeln!(text, "tagged the commit `{t}`");
            }
            for f in &rep.new_lock_files {
                let _ = writeln!(
                    text,
                    "{} `terraform init` wrote `{f}`: commit it (it pins the providers this run used; a promotion checks the next environment runs the same)",
                    ui.yellow("!")
                );
            }
            if ok {
                let _ = writeln!(text, "share the record with `git push --tags`");
            }
            ui.data(&text);
        }
    }
    finished(ok && verified)
}

pub fn apply(ui: &Ui, args: ApplyArgs) -> Result<Exit, CliError> {
    let dir = &args.dir.path();
    // The environment name becomes a lock path and a ref: checked against the chain first.
    // Refused before anything is generated: a name outside the chain (it becomes a lock path
    // and a ref), or an external environment without promotion.
    let loaded = plinth_core::load::load(dir);
    if let Some(p) = &loaded.platform {
        check_env(p, &args.env)?;
        promote::require_route(p, &args.env, args.unvalidated, false)?;
    }
    let repo = Repo::open(dir)?;
    let out = out_dir(dir, &args.out);
    let prepared = repo.prepare_head(dir, &out)?;
    check_env(&prepared.platform, &args.env)?;
    let local = prepared.platform.environments.is_local(&args.env);
    let unvalidated =
        args.unvalidated && !local && args.env != prepared.platform.environments.internal();
    if local {
        ui.status(&ui.dim(&format!(
            "note: `{}` is a local environment: applied directly, outside the promotion chain",
            args.env
        )));
    } else if unvalidated {
        ui.status(&ui.red(&format!(
            "UNVALIDATED: applying {} to `{}` without promotion; the record and `plinth status` will say so",
            record::short(&prepared.commit),
            args.env
        )));
    }
    let bars = Bars::new(ui);
    let opts = ApplyOptions {
        environment: &args.env,
        jobs: args.jobs,
        via: if unvalidated {
            "apply --unvalidated".into()
        } else {
            "apply".into()
        },
        compat_tags: args.compat_tags,
        command: format!("plinth apply --env {}", args.env),
        observer: &bars,
        unvalidated,
        promotion: None,
        destroy: false,
    };
    if args.fan_out.root.is_some() {
        return root_job(ui, args.output, &repo, &prepared, &opts, &args.fan_out);
    }
    let rep = promote::apply(&repo, &prepared, &opts)?;
    Ok(report(ui, args.output, &rep, "apply"))
}

/// One root of an environment, as one job of a pipeline: the receipt goes to a file for
/// `plinth record`.
fn root_job(
    ui: &Ui,
    output: Output,
    repo: &Repo,
    prepared: &promote::Prepared,
    opts: &ApplyOptions<'_>,
    job: &RootJob,
) -> Result<Exit, CliError> {
    let (Some(root), Some(file)) = (&job.root, &job.receipt) else {
        return Err(CliError::refused(
            "`--root` and `--receipt` go together",
            Some("a job applies one root and writes its receipt for `plinth record`".into()),
        ));
    };
    let (receipt, result) = promote::receipt::apply_root(repo, prepared, opts, root)?;
    let json = serde_json::to_vec_pretty(&receipt).unwrap_or_default();
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| plinth_core::Error::io("create", parent, e))?;
    }
    plinth_core::fsutil::write_atomic(file, &json)?;
    let ok = receipt.outcome == Outcome::Succeeded;
    match output {
        Output::Json => ui.json(&serde_json::json!({"receipt": receipt, "root": result})),
        Output::Text => {
            let mut text = render_results(ui, std::slice::from_ref(&result));
            let word = if ok {
                ui.green("root applied")
            } else {
                ui.red(&format!("root {}", receipt.outcome.as_str()))
            };
            let _ = writeln!(
                text,
                "\n{word}: {} of `{root}` at {} to `{}`; receipt written to {}",
                receipt.via,
                record::short(&receipt.commit),
                receipt.environment,
                file.display()
            );
            let _ = writeln!(
                text,
                "once every root's job is done, `plinth record --env {}` records the environment",
                receipt.environment
            );
            ui.data(&text);
        }
    }
    Ok(finished(ok))
}

/// The last job of a fanned-out apply or promotion: one record from the jobs' receipts.
pub fn record(ui: &Ui, args: RecordArgs) -> Result<Exit, CliError> {
    let dir = &args.dir.path();
    let repo = Repo::open(dir)?;
    let out = out_dir(dir, &args.out);
    let prepared = repo.prepare(dir, args.from_revision.as_deref(), &out)?;
    // Checked before the name reaches a lock path or a ref (preparing uses neither).
    check_env(&prepared.platform, &args.env)?;
    let promotion = if args.promote {
        Some(promote::check_promotion(
            &repo,
            &prepared.platform,
            &args.env,
            &prepared,
        )?)
    } else {
        None
    };
    let receipts = promote::receipt::Receipt::read_dir(&args.receipts)?;
    let local = prepared.platform.environments.is_local(&args.env);
    let unvalidated =
        args.unvalidated && !local && args.env != prepared.platform.environments.internal();
    let via = match &promotion {
        Some(pr) => format!("promote from {}", pr.previous),
        None if unvalidated => "apply --unvalidated".into(),
        None => "apply".into(),
    };
    let bars = Bars::new(ui);
    let opts = ApplyOptions {
        environment: &args.env,
        jobs: 1,
        via,
        compat_tags: false,
        command: format!("plinth record --env {}", args.env),
        observer: &bars,
        unvalidated,
        promotion: promotion.as_ref(),
        destroy: false,
    };
    let done = promote::receipt::record(&repo, &prepared, &opts, &receipts)?;
    let rec = &done.record;
    let ok = rec.outcome == Outcome::Succeeded;
    match args.output {
        Output::Json => ui.json(&done),
        Output::Text => {
            let mut text = String::new();
            let word = if ok {
                ui.green(&format!("{} succeeded", rec.via))
            } else {
                ui.red(&format!("{} {}", rec.via, rec.outcome.as_str()))
            };
            let _ = writeln!(
                text,
                "{word}: {} to `{}` from {} receipt(s) of {} root(s), recorded as {}",
                record::short(&rec.commit),
                rec.environment,
                receipts.len(),
                rec.ran.len(),
                record::tag(&rec.environment, rec.sequence).trim_start_matches("refs/tags/")
            );
            for m in &done.missing {
                let _ = writeln!(text, "  {} {m}: no receipt", ui.red("✗"));
            }
            for f in &done.failed {
                let _ = writeln!(text, "  {} {f}: its job did not succeed", ui.red("✗"));
            }
            if !ok {
                let _ = writeln!(
                    text,
                    "the next apply to `{}` runs every root again",
                    rec.environment
                );
            }
            let _ = writeln!(text, "share the record with `git push --tags`");
            ui.data(&text);
        }
    }
    Ok(finished(ok))
}

pub fn promote(ui: &Ui, args: PromoteArgs) -> Result<Exit, CliError> {
    let dir = &args.dir.path();
    let repo = Repo::open(dir)?;
    let out = out_dir(dir, &args.out);
    let prepared = repo.prepare(dir, args.from_revision.as_deref(), &out)?;
    let promotion = promote::check_promotion(&repo, &prepared.platform, &args.to, &prepared)?;
    let mut proof = format!(
        "applied successfully to `{}` at {} (record {:06}: its chain, commit and content check out",
        promotion.previous, promotion.record.time, promotion.record.sequence
    );
    if let Some(v) = &promotion.verification {
        let _ = write!(proof, "; checks passed at {}", v.time);
    }
    if prepared.platform.settings.policy.soak > 0 {
        let _ = write!(
            proof,
            "; ran there {}",
            promote::policy::format_duration(promotion.soaked)
        );
    }
    if args.check {
        match args.output {
            Output::Json => ui.json(&serde_json::json!({
                "environment": args.to,
                "commit": prepared.commit,
                "may_promote": true,
                "previous": promotion.previous,
                "record": promotion.tag,
                "verification": promotion.verification,
                "soaked_seconds": promotion.soaked,
            })),
            Output::Text => ui.data(&format!(
                "{} {} may be promoted to `{}`: it was {proof})\n",
                ui.green("✓"),
                record::short(&prepared.commit),
                args.to
            )),
        }
        return Ok(Exit::Ok);
    }
    ui.status(&format!(
        "{} {} was {proof}); promoting it to `{}`",
        ui.green("✓"),
        record::short(&prepared.commit),
        args.to
    ));
    let bars = Bars::new(ui);
    let opts = ApplyOptions {
        environment: &args.to,
        jobs: args.jobs,
        via: format!("promote from {}", promotion.previous),
        compat_tags: args.compat_tags,
        command: format!("plinth promote --to {}", args.to),
        observer: &bars,
        unvalidated: false,
        promotion: Some(&promotion),
        destroy: false,
    };
    if args.fan_out.root.is_some() {
        return root_job(ui, args.output, &repo, &prepared, &opts, &args.fan_out);
    }
    let rep = promote::apply(&repo, &prepared, &opts)?;
    Ok(report(ui, args.output, &rep, "promotion"))
}

pub fn verify(ui: &Ui, args: VerifyArgs) -> Result<Exit, CliError> {
    let dir = &args.dir.path();
    let loaded = plinth_core::load::load(dir);
    if let Some(p) = &loaded.platform {
        check_env(p, &args.env)?;
    }
    let repo = Repo::open(dir)?;
    let out = out_dir(dir, &args.out);
    let prepared = repo.prepare_head(dir, &out)?;
    let rec = promote::verify_env(
        &repo,
        &prepared,
        &args.env,
        &format!("plinth verify --env {}", args.env),
    )?;
    let passed = rec.outcome == Outcome::Verified;
    match args.output {
        Output::Json => ui.json(&serde_json::json!({"record": rec})),
        Output::Text => {
            let mut text = render_checks(ui, &rec);
            let word = verification_word(ui, &rec);
            let _ = writeln!(
                text,
                "\n{word}: {} on `{}` recorded as {}",
                record::short(&rec.commit),
                rec.environment,
                record::tag(&rec.environment, rec.sequence).trim_start_matches("refs/tags/")
            );
            ui.data(&text);
        }
    }
    Ok(finished(passed))
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
        if s.unvalidated {
            let _ = writeln!(
                out,
                "  {}",
                ui.red("UNVALIDATED: applied with `--unvalidated`, never validated on the environments before it")
            );
        }
        if let Some(problem) = &s.record_problem {
            let _ = writeln!(
                out,
                "  record    {}: {problem}",
                ui.red("CANNOT BE TRUSTED")
            );
        }
        if let Some(l) = &s.latest
            && l.outcome != Outcome::Succeeded
        {
            let what = match l.outcome {
                Outcome::Interrupted => ui.red("interrupted"),
                Outcome::Started => ui.red("interrupted (killed)"),
                _ => ui.red("failed"),
            };
            let _ = writeln!(
                out,
                "  last      {what}: {} of {} at {}",
                l.via,
                record::short(&l.commit),
                l.time
            );
            if l.outcome == Outcome::Started {
                let _ = writeln!(
                    out,
                    "            the apply never recorded an outcome: check the Terraform state, then plan and apply again"
                );
            } else if l.outcome == Outcome::Interrupted {
                let _ = writeln!(
                    out,
                    "            stopped by a signal; Terraform was waited for: plan and apply again"
                );
            }
        }
        if let Some(v) = &s.verification {
            let line = match v.state.as_str() {
                "verified" => {
                    ui.green(&format!("verified at {}", v.time.as_deref().unwrap_or("?")))
                }
                "verification_failed" => ui.red(&format!(
                    "FAILED at {}: {}",
                    v.time.as_deref().unwrap_or("?"),
                    v.failed.join("; ")
                )),
                _ => ui.yellow(&format!(
                    "not verified yet (`plinth verify --env {}`)",
                    s.environment
                )),
            };
            let _ = writeln!(out, "  checks    {line}");
        }
        if s.soak_required > 0
            && let Some(soaked) = s.soaked
        {
            let fmt = promote::policy::format_duration;
            let line = if soaked >= s.soak_required {
                format!("soaked: ran {} (≥ {})", fmt(soaked), fmt(s.soak_required))
            } else {
                format!(
                    "ran {} of {}: {} left before it can be promoted onward",
                    fmt(soaked),
                    fmt(s.soak_required),
                    fmt(s.soak_required - soaked)
                )
            };
            let _ = writeln!(out, "  soak      {line}");
        }
        if let Some(h) = &s.lock {
            let stale = if h.is_stale() {
                ui.red(" (stale: the process is gone; `plinth unlock` after checking)")
            } else {
                String::new()
            };
            let _ = writeln!(out, "  locked    by {}{stale}", h.describe());
            for g in &h.engines {
                let _ = writeln!(
                    out,
                    "            engine `{}` runs as process group {}",
                    g.program, g.pgid
                );
            }
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
    // The name becomes a path and a ref: it must be one of the chain's environments. A platform
    // with errors still names its chain (an interrupted apply must be recoverable).
    let loaded = plinth_core::load::load(&args.dir.path());
    let Some(platform) = loaded.platform else {
        ui.diagnostics(&loaded.sources, loaded.diagnostics.iter());
        return Err(CliError::Reported(Exit::Invalid));
    };
    check_env(&platform, &args.env)?;
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
    for (g, pids) in &done.stopped {
        ui.status(&format!(
            "{} stopped `{}` left running by the killed holder (process group {}: {} process(es))",
            ui.yellow("!"),
            g.program,
            g.pgid,
            pids.len()
        ));
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

/// Decommissions an environment: every root's resources, with the same lock and record as an
/// apply. The environment must be named twice (`--env E --confirm E`): for the external ones,
/// where user workloads run, nothing less is an explicit choice.
pub fn destroy(ui: &Ui, args: DestroyArgs) -> Result<Exit, CliError> {
    let dir = &args.dir.path();
    let loaded = plinth_core::load::load(dir);
    if let Some(p) = &loaded.platform {
        check_env(p, &args.env)?;
    }
    if args.confirm.as_deref() != Some(args.env.as_str()) {
        let external = loaded.platform.as_ref().is_some_and(|p| {
            p.environments.internal() != args.env && !p.environments.is_local(&args.env)
        });
        let what = if external {
            format!(
                "`{}` is an external environment, where user workloads run: destroying it deletes every cluster there and what runs on them",
                args.env
            )
        } else {
            format!("destroying `{}` deletes every cluster it runs", args.env)
        };
        return Err(CliError::refused(
            what,
            Some(format!(
                "name it again to confirm: `plinth destroy --env {e} --confirm {e}`",
                e = args.env
            )),
        ));
    }
    let repo = Repo::open(dir)?;
    let out = out_dir(dir, &args.out);
    let prepared = repo.prepare_head(dir, &out)?;
    check_env(&prepared.platform, &args.env)?;
    ui.status(&ui.red(&format!(
        "destroying every cluster of `{}` ({} root(s))",
        args.env,
        prepared.content.roots.len()
    )));
    let bars = Bars::new(ui);
    let opts = ApplyOptions {
        environment: &args.env,
        jobs: args.jobs,
        via: "destroy".into(),
        compat_tags: false,
        command: format!("plinth destroy --env {}", args.env),
        observer: &bars,
        unvalidated: false,
        promotion: None,
        destroy: true,
    };
    let rep = promote::apply(&repo, &prepared, &opts)?;
    Ok(report(ui, args.output, &rep, "destroy"))
}
