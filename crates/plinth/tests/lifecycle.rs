//! plan → apply → promote → status through Plinth's production code path, with real terraform:
//! the real aws provider against a moto server, and provider doubles for the others. Covers
//! promotion refused before the internal apply and after a new commit, allowed after, rollback
//! to a validated revision, concurrent applies, a crash mid-apply, `affected` on scripted
//! histories, per-cluster roots in parallel, and the pg backend.

mod common;

use common::{TestEnv, engines};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A platform in a git repository with terraform wired to a private mirror.
struct Lab {
    env: TestEnv,
    tf: engines::Terraform,
    dir: PathBuf,
}

const IDENTITY: [(&str, &str); 4] = [
    ("GIT_AUTHOR_NAME", "Lab"),
    ("GIT_AUTHOR_EMAIL", "lab@example.com"),
    ("GIT_COMMITTER_NAME", "Lab"),
    ("GIT_COMMITTER_EMAIL", "lab@example.com"),
];

impl Lab {
    fn new(example: &str) -> Option<Lab> {
        let env = TestEnv::new();
        let tf = engines::require(
            "terraform and the real aws provider mirror (tf-plugins)",
            engines::Terraform::new(env.path()),
        )?;
        let dir = env.join("p");
        env.run_ok(&["init", "p", "--example", example]);
        let lab = Lab { env, tf, dir };
        lab.git(&["init", "-q", "-b", "main"]);
        std::fs::write(
            lab.dir.join(".git/info/exclude"),
            "generated/*_override.tf\n",
        )
        .expect("exclude");
        lab.plinth_ok(&["generate"]);
        lab.commit("platform");
        Some(lab)
    }

    fn from_fixture(fixture: &Path) -> Option<Lab> {
        let env = TestEnv::new();
        let tf = engines::require("terraform", engines::Terraform::new(env.path()))?;
        let dir = env.copy_fixture(fixture, "p");
        let lab = Lab { env, tf, dir };
        lab.git(&["init", "-q", "-b", "main"]);
        std::fs::write(lab.dir.join(".gitignore"), common::GITIGNORE).expect("gitignore");
        std::fs::write(
            lab.dir.join(".git/info/exclude"),
            "generated/*_override.tf\n",
        )
        .expect("exclude");
        lab.plinth_ok(&["generate"]);
        lab.commit("platform");
        Some(lab)
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = if program == "plinth" {
            self.env.std_cmd()
        } else {
            Command::new(program)
        };
        c.current_dir(&self.dir);
        for (k, v) in self.tf.mirror.env() {
            c.env(k, v);
        }
        for (k, v) in IDENTITY {
            c.env(k, v);
        }
        // Messages on one line each, so tests can look for them whole.
        c.env("COLUMNS", "1000");
        c
    }

    /// `plinth args...` in the platform directory: exit code and all output.
    fn plinth(&self, args: &[&str]) -> (i32, String) {
        let out = self.cmd("plinth").args(args).output().expect("plinth");
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    fn plinth_ok(&self, args: &[&str]) -> String {
        let (code, out) = self.plinth(args);
        assert_eq!(code, 0, "plinth {args:?}:\n{out}");
        out
    }

    fn git(&self, args: &[&str]) -> String {
        let out = self.cmd("git").args(args).output().expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn commit(&self, msg: &str) {
        self.git(&["add", "-A"]);
        let status = self.git(&["status", "--porcelain"]);
        if !status.is_empty() {
            self.git(&["commit", "-q", "-m", msg]);
        }
    }

    /// Points the aws provider at a fresh moto (test-only override; generated code has no
    /// endpoints). Fresh per environment: moto gives every cluster the same OIDC issuer.
    fn moto(&self) -> Option<engines::Moto> {
        let moto = engines::require(
            "moto_server (pip install 'moto[server]')",
            engines::Moto::start(),
        )?;
        std::fs::write(
            self.dir.join("generated/moto_override.tf"),
            moto.override_for(&["eks_zero"]),
        )
        .expect("override");
        Some(moto)
    }

    fn edit(&self, file: &str, from: &str, to: &str) {
        let p = self.dir.join(file);
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(text.contains(from), "{file} lacks {from:?}");
        std::fs::write(&p, text.replacen(from, to, 1)).expect("write");
    }

    /// `plinth apply --env ops` in a process group of its own, so that a kill reaches git and
    /// terraform too.
    fn apply_in_own_group(&self) -> std::process::Child {
        use std::os::unix::process::CommandExt;
        self.cmd("plinth")
            .args(["apply", "--env", "ops"])
            .process_group(0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn")
    }

    fn status_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.plinth_ok(&["status", "--output", "json"])).expect("status json")
    }
}

#[test]
fn eks_is_planned_applied_to_ops_then_promoted_to_apps() {
    let Some(lab) = Lab::new("minimal") else {
        return;
    };
    // Nothing validated on ops yet: promotion is refused and says what to do.
    let (code, out) = lab.plinth(&["promote", "--to", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("has not been validated on `ops`") && out.contains("plinth apply --env ops"),
        "{out}"
    );

    let Some(_moto) = lab.moto() else { return };
    let (code, out) = lab.plinth(&["plan", "--env", "ops"]);
    assert_eq!(code, 3, "changes to make:\n{out}");
    assert!(
        out.contains("+ cluster eks_zero (kbst-ops-eu-west-1)") && out.contains("eks_zero: +33"),
        "{out}"
    );
    // Regression for issue 19: `terraform init` (run by the plan) wrote the dependency lock
    // file, which git does not track yet. The first apply accepts it — it is Terraform's own
    // file, not part of the content hash — records which providers it pinned, and says to
    // commit it.
    let out = lab.plinth_ok(&["apply", "--env", "ops"]);
    assert!(
        out.contains("apply succeeded") && out.contains("plinth/ops/000002"),
        "{out}"
    );
    assert!(
        out.contains("wrote `") && out.contains(".terraform.lock.hcl`: commit it"),
        "{out}"
    );
    lab.commit("terraform lock file");
    // The platform-level plan is empty now; only moto's drift may show at the engine level.
    let (code, out) = lab.plinth(&["plan", "--env", "ops", "--no-engine"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no changes"), "{out}");

    // The gate, with the real aws provider (issue 16): an external environment is reached by
    // promotion only (16.4), and Terraform Plinth did not write is never promoted (16.2).
    let (code, out) = lab.plinth(&["apply", "--env", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("`apps` is an external environment"), "{out}");
    let validated = lab.git(&["rev-parse", "HEAD"]);
    hand_written_terraform_is_not_promoted(&lab, &validated);

    let Some(_moto) = lab.moto() else { return };
    let out = lab.plinth_ok(&["promote", "--to", "apps"]);
    assert!(
        out.contains("was applied successfully to `ops`") && out.contains("promotion succeeded"),
        "{out}"
    );
    let st = lab.status_json();
    assert_eq!(st[1]["environment"], "apps");
    assert_eq!(st[1]["last_success"]["via"], "promote from ops");
    assert_eq!(st[1]["same_as_internal"], true);
    assert_eq!(
        st[0]["last_success"]["content_hash"],
        st[1]["last_success"]["content_hash"]
    );
    // The record is in git: tags on record commits whose parent is the applied commit.
    let tags = lab.git(&["tag", "-l", "plinth/*"]);
    assert_eq!(tags.lines().count(), 4, "{tags}");
    let parent = lab.git(&["rev-parse", "plinth/apps/000002^"]);
    assert_eq!(parent, lab.git(&["rev-parse", "HEAD"]));
    let record: serde_json::Value =
        serde_json::from_str(&lab.git(&["show", "plinth/apps/000002:record.json"]))
            .expect("record");
    assert_eq!(record["outcome"], "succeeded");
    assert!(
        record["engine"]
            .as_str()
            .is_some_and(|e| e.starts_with("terraform 1.")),
        "{record}"
    );
}

#[test]
fn sensitive_values_reach_terraform_only_through_its_environment() {
    let Some(lab) = Lab::new("minimal") else {
        return;
    };
    let kms = "arn:aws:kms:eu-west-1:123456789012:key/plinth-sensitive-test";
    lab.edit(
        "clusters/eks_zero.toml",
        "cluster_availability_zones = [\"eu-west-1a\", \"eu-west-1b\", \"eu-west-1c\"]\n",
        "cluster_availability_zones = [\"eu-west-1a\", \"eu-west-1b\", \"eu-west-1c\"]\ncluster_encryption_key_arn = { sensitive = true, from_env = \"eks_kms_key\" }\n",
    );
    lab.edit(
        "clusters/eks_zero.toml",
        "max_size = 9\n",
        "max_size = 9\nlabels = { team = \"platform\", cost-center = { sensitive = true, value = \"cc-4711\" } }\n",
    );
    lab.plinth_ok(&["generate"]);
    lab.commit("sensitive values");

    // Generated files reference variables; neither value is anywhere in the output tree.
    let mut generated = String::new();
    for f in walk(&lab.dir.join("generated")) {
        generated.push_str(&std::fs::read_to_string(f).unwrap_or_default());
    }
    assert!(
        !generated.contains("cc-4711"),
        "the literal leaked into generated files"
    );
    assert!(generated.contains("cluster_encryption_key_arn            = var.eks_kms_key"));
    let vars =
        std::fs::read_to_string(lab.dir.join("generated/sensitive.tf")).expect("sensitive.tf");
    assert!(
        vars.contains("variable \"eks_kms_key\"") && vars.contains("default     = null"),
        "{vars}"
    );
    assert_eq!(vars.matches("sensitive   = true").count(), 3, "{vars}");
    // `show` masks them, in text and JSON.
    for format in ["text", "json"] {
        let out = lab.plinth_ok(&["show", "--env", "ops", "--output", format]);
        assert!(
            !out.contains("cc-4711") && out.contains("sensitive"),
            "{out}"
        );
    }

    let Some(_moto) = lab.moto() else { return };
    // A value read from the environment that is not set refuses the run before Terraform.
    let (code, out) = lab.plinth(&["plan", "--env", "ops"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("`TF_VAR_eks_kms_key`") && out.contains("not set"),
        "{out}"
    );
    // Set: the plan runs, prints neither value, and Terraform received both.
    let out = lab
        .cmd("plinth")
        .env("TF_VAR_eks_kms_key", kms)
        .args(["plan", "--env", "ops"])
        .output()
        .expect("plinth");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(!text.contains(kms) && !text.contains("cc-4711"), "{text}");
    let plan = lab.tf.run(
        &lab.dir.join("generated"),
        &["show", "-json", "plinth-ops.tfplan"],
    );
    assert!(
        plan.contains(kms) && plan.contains("cc-4711"),
        "terraform did not get the values"
    );
    // Terraform itself keeps them out of its human-readable plan.
    let human = lab
        .tf
        .run(&lab.dir.join("generated"), &["show", "plinth-ops.tfplan"]);
    assert!(
        !human.contains(kms) && !human.contains("cc-4711"),
        "{human}"
    );
}

/// A local Terraform state below `dir` that is not JSON.
fn half_written_state(dir: &Path) -> Option<PathBuf> {
    walk(dir).into_iter().find(|p| {
        p.file_name().is_some_and(|n| n == "terraform.tfstate")
            && std::fs::read(p)
                .is_ok_and(|b| serde_json::from_slice::<serde_json::Value>(&b).is_err())
    })
}

/// SIGKILL to `child`'s whole process group.
fn kill_group(child: &std::process::Child) {
    let killed = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{}", child.id())])
        .status()
        .expect("kill");
    assert!(killed.success());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            if !p.ends_with(".terraform") {
                out.extend(walk(&p));
            }
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn promotion_is_refused_after_an_unvalidated_change_and_rollback_is_allowed() {
    let Some(lab) = Lab::new("minimal") else {
        return;
    };
    let Some(_moto) = lab.moto() else { return };
    lab.plinth_ok(&["apply", "--env", "ops"]);
    lab.commit("terraform lock file");
    let validated = lab.git(&["rev-parse", "HEAD"]);

    // A new commit changes the code base after ops was applied.
    lab.edit("clusters/eks_zero.toml", "max_size = 9", "max_size = 12");
    lab.plinth_ok(&["generate"]);
    lab.commit("grow the apps pool");
    let (code, out) = lab.plinth(&["promote", "--to", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("has not been validated on `ops`") && out.contains("--from-revision"),
        "{out}"
    );
    let (code, out) = lab.plinth(&["plan", "--env", "apps", "--no-engine"]);
    assert_eq!(code, 3, "{out}");

    // A comment-only change keeps the validated content: still promotable.
    // The validated revision itself can be promoted (a rollback path).
    let Some(_moto) = lab.moto() else { return };
    let out = lab.plinth_ok(&["promote", "--to", "apps", "--from-revision", &validated]);
    assert!(out.contains("promotion succeeded"), "{out}");
    let st = lab.status_json();
    assert_eq!(st[1]["last_success"]["commit"], validated.as_str());
    assert!(
        st[1]["last_success"]["via"]
            .as_str()
            .is_some_and(|v| v == "promote from ops")
    );
}

#[test]
fn a_comment_only_commit_keeps_the_validated_content() {
    let Some(lab) = Lab::new("minimal") else {
        return;
    };
    // Record a success on ops by hand is not possible: apply for real, then change a comment.
    let Some(_moto) = lab.moto() else { return };
    lab.plinth_ok(&["apply", "--env", "ops"]);
    lab.edit(
        "clusters/eks_zero.toml",
        "# One Amazon EKS cluster.",
        "# One Amazon EKS cluster (reviewed).",
    );
    lab.commit("comment");
    // Only the check, not the promotion: nothing to apply differs from what ops validated.
    let repo = plinth_core::promote::Repo::open(&lab.dir).expect("repo");
    let prepared = repo
        .prepare_head(&lab.dir, &lab.dir.join("generated"))
        .expect("prepared");
    let promotion =
        plinth_core::promote::check_promotion(&repo, &prepared.platform, "apps", &prepared)
            .expect("allowed");
    assert_eq!(promotion.previous, "ops");
    assert_ne!(promotion.record.commit, prepared.commit);
}

#[test]
fn a_second_apply_is_refused_while_one_holds_the_lock() {
    let Some(lab) = Lab::new("minimal") else {
        return;
    };
    let repo = plinth_core::promote::Repo::open(&lab.dir).expect("repo");
    let held = plinth_core::promote::lock::acquire(
        &repo.git_dir,
        "ops",
        "plinth apply --env ops (ci job 41)",
    )
    .expect("lock");
    let (code, out) = lab.plinth(&["apply", "--env", "ops"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("environment `ops` is locked by `plinth apply --env ops (ci job 41)`"),
        "{out}"
    );
    // Other environments are not blocked by it; the status shows the holder.
    let st = lab.status_json();
    assert_eq!(
        st[0]["lock"]["command"],
        "plinth apply --env ops (ci job 41)"
    );
    drop(held);
    assert!(lab.status_json()[0]["lock"].is_null());
}

#[test]
fn a_crash_mid_apply_leaves_a_clear_recoverable_record() {
    let Some(lab) = Lab::new("minimal") else {
        return;
    };
    let Some(_moto) = lab.moto() else { return };
    // Start an apply in its own process group and kill the whole group once terraform runs.
    let mut child = lab.apply_in_own_group();
    // Kill it once the attempt is recorded and the engine runs (`terraform init` has begun).
    let started = std::time::Instant::now();
    loop {
        let tags = lab.git(&["tag", "-l", "plinth/ops/*"]);
        if !tags.is_empty() && lab.dir.join("generated/.terraform").exists() {
            break;
        }
        assert!(started.elapsed().as_secs() < 120, "the apply never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    kill_group(&child);
    let _ = child.wait();

    let st = lab.status_json();
    assert_eq!(st[0]["interrupted"], true, "{st}");
    assert_eq!(st[0]["latest"]["outcome"], "started");
    assert!(st[0]["last_success"].is_null());
    let text = lab.plinth_ok(&["status"]);
    assert!(
        text.contains("interrupted") && text.contains("stale"),
        "{text}"
    );
    // The lock survives the crash and names the dead process; a new apply is refused until it
    // is broken explicitly.
    let (code, out) = lab.plinth(&["apply", "--env", "ops"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("(stale)") && out.contains("plinth unlock --env ops"),
        "{out}"
    );
    lab.plinth_ok(&["unlock", "--env", "ops"]);
    lab.commit("terraform lock file");
    // Recovery: apply again. Terraform's state is intact; the record is appended, not rewritten.
    let out = lab.plinth_ok(&["apply", "--env", "ops"]);
    assert!(out.contains("apply succeeded"), "{out}");
    let records: Vec<String> = lab
        .git(&["tag", "-l", "plinth/ops/*"])
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        records,
        [
            "plinth/ops/000001",
            "plinth/ops/000002",
            "plinth/ops/000003"
        ]
    );
    assert!(
        !lab.status_json()[0]["interrupted"]
            .as_bool()
            .unwrap_or(true)
    );
}

#[test]
fn apply_killed_at_intervals_never_corrupts_the_record() {
    let Some(lab) = Lab::new("minimal") else {
        return;
    };
    let Some(mut moto) = lab.moto() else { return };
    // SIGKILL to the whole process group (plinth, git, terraform) at spread-out moments: while
    // taking the lock, recording the attempt, initialising and applying.
    for delay_ms in [0, 40, 120, 300, 700, 1500, 3000] {
        let mut child = lab.apply_in_own_group();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        kill_group(&child);
        let _ = child.wait();
        // Terraform runs in a process group of its own and outlives Plinth's: kill it too, as
        // a machine going down would, so that it does not go on writing the state while the
        // next step reads it (a load-dependent race, not a property of the record).
        let generated = lab.dir.join("generated");
        for _ in 0..100 {
            let left = processes_in(&generated);
            if left.is_empty() {
                break;
            }
            for pid in left {
                let _ = Command::new("kill")
                    .args(["-s", "KILL", &pid.to_string()])
                    .status();
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }

        // Whatever the moment, the record still reads, in order, with nothing half-written.
        let st = lab.status_json();
        let records: Vec<String> = lab
            .git(&["tag", "-l", "plinth/ops/*"])
            .lines()
            .map(String::from)
            .collect();
        let expected: Vec<String> = (1..=records.len())
            .map(|i| format!("plinth/ops/{i:06}"))
            .collect();
        assert_eq!(records, expected, "after a kill at {delay_ms} ms");
        if !records.is_empty() {
            assert!(
                st[0]["latest"]["outcome"].is_string(),
                "after a kill at {delay_ms} ms: {st}"
            );
        }
        // `terraform init` may have left its lock file: commit it as a user would.
        lab.commit("terraform lock file");
        // Terraform rewrites its local state in place: a kill while it saves leaves the state
        // half-written. That is Terraform's file, not Plinth's to repair; Plinth must say so
        // and where the state from before the run is, and refuse to go on from it.
        if let Some(state) = half_written_state(&lab.dir.join("generated")) {
            if !st[0]["lock"].is_null() {
                lab.plinth_ok(&["unlock", "--env", "ops"]);
            }
            let (code, out) = lab.plinth(&["apply", "--env", "ops"]);
            assert_ne!(code, 0, "{out}");
            assert!(
                out.contains("is half-written") && out.contains("create everything again"),
                "after a kill at {delay_ms} ms ({}): {out}",
                state.display()
            );
            // The operator's way out when nothing else holds the resources: a clean account
            // (a fresh moto) and no state.
            std::fs::remove_file(&state).expect("rm state");
            drop(moto);
            moto = lab.moto().expect("moto");
            break;
        }
        // A lock left behind names a dead process and is broken explicitly.
        if !st[0]["lock"].is_null() {
            let (code, out) = lab.plinth(&["apply", "--env", "ops"]);
            assert_eq!(code, 1, "{out}");
            assert!(
                out.contains("(stale)"),
                "after a kill at {delay_ms} ms: {out}"
            );
            lab.plinth_ok(&["unlock", "--env", "ops"]);
        }
    }
    // Then an apply succeeds over whatever Terraform state the kills left, and is recorded.
    let out = lab.plinth_ok(&["apply", "--env", "ops"]);
    assert!(out.contains("apply succeeded"), "{out}");
    let st = lab.status_json();
    assert_eq!(st[0]["latest"]["outcome"], "succeeded", "{st}");
    assert_eq!(st[0]["interrupted"], false, "{st}");
    lab.commit("terraform lock file");
    let (code, out) = lab.plinth(&["plan", "--env", "ops", "--no-engine"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no changes"), "{out}");

    // The state cut as a kill during Terraform's save leaves it: reported, with the way back
    // (the backup Terraform keeps once it has overwritten a state).
    let state = lab
        .dir
        .join("generated/terraform.tfstate.d/ops/terraform.tfstate");
    let text = std::fs::read_to_string(&state).expect("state");
    std::fs::write(&state, &text[..text.len() / 2]).expect("cut");
    let (code, out) = lab.plinth(&["plan", "--env", "ops"]);
    assert_ne!(code, 0, "{out}");
    let guidance = if state.with_file_name("terraform.tfstate.backup").exists() {
        "terraform.tfstate.backup"
    } else {
        "first save"
    };
    assert!(
        out.contains("terraform.tfstate` is half-written") && out.contains(guidance),
        "{out}"
    );
    drop(moto);
}

#[test]
fn affected_follows_inheritance_and_service_files() {
    let Some(lab) = Lab::new("environments") else {
        return;
    };
    let base = lab.git(&["rev-parse", "HEAD"]);
    let affected = |from: &str| -> serde_json::Value {
        serde_json::from_str(&lab.plinth_ok(&[
            "affected", "--base", from, "--head", "HEAD", "--output", "json",
        ]))
        .expect("json")
    };
    // An ops-only override touches only ops.
    lab.edit(
        "clusters/eks_zero.toml",
        "instance_types = [\"t3a.large\"]",
        "instance_types = [\"t3a.medium\"]",
    );
    lab.commit("smaller ops nodes");
    let a = affected(&base);
    assert_eq!(
        a["environments"]["ops"]["eks_zero"]["node_pools"],
        serde_json::json!(["default"])
    );
    assert!(
        a["environments"]["apps"]
            .as_object()
            .expect("apps")
            .is_empty()
    );
    assert!(
        a["environments"]["apps-prod"]
            .as_object()
            .expect("prod")
            .is_empty()
    );

    // A base (apps-prod) change reaches every environment that does not override the key:
    // ops and apps override max_size, so only apps-prod... and min_size is inherited by apps.
    let before = lab.git(&["rev-parse", "HEAD"]);
    lab.edit("clusters/eks_zero.toml", "min_size = 3", "min_size = 4");
    lab.commit("raise the base minimum");
    let a = affected(&before);
    assert_eq!(
        a["environments"]["apps-prod"]["eks_zero"]["node_pools"],
        serde_json::json!(["default"])
    );
    assert_eq!(
        a["environments"]["apps"]["eks_zero"]["node_pools"],
        serde_json::json!(["default"])
    );
    assert!(
        a["environments"]["ops"]
            .as_object()
            .expect("ops")
            .is_empty(),
        "ops overrides min_size: {a}"
    );

    // A service base file touches that service everywhere.
    let before = lab.git(&["rev-parse", "HEAD"]);
    lab.edit(
        "services/ingress-nginx/controller.yaml",
        "cpu: 100m",
        "cpu: 200m",
    );
    lab.commit("more cpu for the controller");
    let a = affected(&before);
    for env in ["ops", "apps", "apps-prod"] {
        assert_eq!(
            a["environments"][env]["eks_zero"]["services"],
            serde_json::json!(["ingress-nginx"]),
            "{env}: {a}"
        );
        assert_eq!(a["environments"][env]["eks_zero"]["cluster"], false);
    }

    // Comments change nothing.
    let before = lab.git(&["rev-parse", "HEAD"]);
    lab.edit(
        "plinth.toml",
        "# Production values are the base",
        "# Production values stay the base",
    );
    lab.commit("wording");
    let a = affected(&before);
    assert!(
        a["environments"]
            .as_object()
            .expect("envs")
            .values()
            .all(|e| e.as_object().is_some_and(|o| o.is_empty())),
        "{a}"
    );
    insta::assert_snapshot!(
        lab.plinth_ok(&["affected", "--base", &base])
            .replace(&base[..12], "[BASE]")
    );

    // A platform setting reaches every cluster (the root file is read in full; only cluster
    // files are read selectively).
    let before = lab.git(&["rev-parse", "HEAD"]);
    lab.edit(
        "plinth.toml",
        "base_domain = \"infra.example.com\"",
        "base_domain = \"infra.example.net\"",
    );
    lab.commit("new domain");
    let a = affected(&before);
    for env in ["ops", "apps", "apps-prod"] {
        assert_eq!(
            a["environments"][env]["eks_zero"]["cluster"], true,
            "{env}: {a}"
        );
    }
}

#[test]
fn per_cluster_roots_run_in_parallel_through_provider_doubles() {
    let Some(lab) = Lab::from_fixture(&common::fixtures().join("platforms/doubles")) else {
        return;
    };
    lab.edit(
        "plinth.toml",
        "[platform]\n",
        "[platform]\nstate = \"cluster\"\n",
    );
    lab.plinth_ok(&["generate"]);
    lab.commit("one state per cluster");
    let out = lab.plinth_ok(&["apply", "--env", "ops", "--jobs", "2"]);
    for root in ["aks_zero", "gke_zero", "kind_zero"] {
        assert!(
            out.lines().any(|l| {
                l.trim_start()
                    .strip_prefix(root)
                    .is_some_and(|rest| rest.trim_start().starts_with("applied"))
            }),
            "{root}:\n{out}"
        );
    }
    lab.commit("terraform lock files");
    for to in ["apps", "apps-prod"] {
        let out = lab.plinth_ok(&["promote", "--to", to]);
        assert!(out.contains("promotion succeeded"), "{out}");
    }
    // Nothing left to do anywhere: platform-level and Terraform plans are empty.
    for env in ["ops", "apps", "apps-prod"] {
        let (code, out) = lab.plinth(&["plan", "--env", env]);
        assert_eq!(code, 0, "{env}:\n{out}");
    }
    // A change to one cluster's base config plans and applies only that cluster's root.
    lab.edit("clusters/kind_zero.toml", "nodes = 2", "nodes = 3");
    lab.plinth_ok(&["generate"]);
    lab.commit("one more tainted kind node");
    let (code, out) = lab.plinth(&["plan", "--env", "ops"]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("kind_zero") && !out.contains("gke_zero  ") && !out.contains("aks_zero  "),
        "only kind_zero is planned:\n{out}"
    );
}

#[test]
fn the_pg_backend_keeps_state_and_locks_in_postgresql() {
    let Some(pg) = engines::require("PostgreSQL (initdb, pg_ctl)", engines::Postgres::start())
    else {
        return;
    };
    let Some(lab) = Lab::from_fixture(&common::fixtures().join("platforms/doubles")) else {
        return;
    };
    std::fs::remove_file(lab.dir.join("clusters/gke_zero.toml")).expect("rm");
    std::fs::remove_file(lab.dir.join("clusters/aks_zero.toml")).expect("rm");
    lab.edit(
        "plinth.toml",
        "[platform]\n",
        "[platform]\nbackend = { type = \"pg\", schema_name = \"plinth\" }\n",
    );
    lab.plinth_ok(&["generate"]);
    lab.commit("state in postgres");
    let mut c = lab.cmd("plinth");
    c.args(["apply", "--env", "ops"])
        .env("PG_CONN_STR", pg.conn_str());
    let out = c.output().expect("apply");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let states = pg.query("select name from plinth.states order by name");
    assert!(
        states.contains("ops"),
        "workspace state in postgres: {states}"
    );
    assert!(
        !lab.dir.join("generated/terraform.tfstate.d").exists(),
        "no local state"
    );
}

/// Regression for reading changed files by the diff's object ids: a cluster removed (no object
/// on the new side) and added back (none on the old side), in a platform below the repository
/// root (git names its files with a prefix), and a base that is not a commit.
#[test]
fn affected_sees_removed_and_added_clusters_of_a_platform_in_a_subdirectory() {
    let env = TestEnv::new();
    env.run_ok(&["init", "repo/infra/platform", "--example", "multi-cloud"]);
    let repo = env.join("repo");
    let git = |args: &[&str]| -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .envs(IDENTITY)
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let commit = |msg: &str| {
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", msg]);
        git(&["rev-parse", "HEAD"])
    };
    git(&["init", "-q", "-b", "main"]);
    let first = commit("platform");
    let gke = repo.join("infra/platform/clusters/gke_zero.toml");
    let text = std::fs::read_to_string(&gke).expect("gke");
    std::fs::remove_file(&gke).expect("rm");
    let removed = commit("retire gke_zero");
    std::fs::write(&gke, text).expect("write");
    let added = commit("gke_zero is back");
    let affected = |base: &str, head: &str| -> serde_json::Value {
        let out = env
            .std_cmd()
            .args([
                "affected", "--base", base, "--head", head, "--output", "json",
            ])
            .arg(repo.join("infra/platform"))
            .output()
            .expect("plinth");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    };
    for (base, head) in [(&first, &removed), (&removed, &added)] {
        let a = affected(base, head);
        for env in ["ops", "apps"] {
            let clusters = a["environments"][env].as_object().expect("env");
            assert_eq!(
                clusters.keys().collect::<Vec<_>>(),
                ["gke_zero"],
                "{base}..{head} {env}: {a}"
            );
            assert_eq!(clusters["gke_zero"]["cluster"], true);
            assert!(
                !clusters["gke_zero"]["node_pools"]
                    .as_array()
                    .expect("pools")
                    .is_empty()
            );
        }
    }
    // Back where it started: nothing differs.
    assert!(
        affected(&first, &added)["environments"]
            .as_object()
            .expect("envs")
            .values()
            .all(|e| e.as_object().is_some_and(serde_json::Map::is_empty))
    );
    let out = env
        .std_cmd()
        .args(["affected", "--base", "no-such-rev", "--head", "HEAD"])
        .arg(repo.join("infra/platform"))
        .output()
        .expect("plinth");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`no-such-rev` is not a commit"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// The promotion gate (issue 16), through real terraform with the kind and kustomization
// provider doubles (fast: no cloud API double needed).

/// A kind cluster with one service whose base refers to a directory beside it (`../common`), a
/// symlinked directory inside it, and an extra-resource directory.
const GATE_CLUSTER: &str = r#"provider = "kind"

[config.apps]
node_image = "kindest/node:v1.32.2"

[node_pools.default.config.apps]
nodes = 1

[services.web]
kind = "ingress"
source = { path = "services/web" }

[services.web.config.apps]
namespace = "web"
resources = ["services/extra"]
"#;

impl Lab {
    /// A kind platform (`plinth.toml` settings after `[platform]`) with clusters `keys`, each
    /// with the `web` service, generated and committed.
    fn gate(settings: &str, keys: &[&str]) -> Option<Lab> {
        let env = TestEnv::new();
        let tf = engines::require("terraform", engines::Terraform::new(env.path()))?;
        let dir = env.join("p");
        let lab = Lab { env, tf, dir };
        let w = |rel: &str, text: &str| {
            let p = lab.dir.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        };
        w(
            "plinth.toml",
            &format!(
                "[platform]\nname = \"gate\"\nbase_domain = \"infra.example.com\"\n{settings}\n"
            ),
        );
        for k in keys {
            // Distinct names: `name_prefix` from the key.
            let cluster = GATE_CLUSTER.replace(
                "[config.apps]\n",
                &format!("[config.apps]\nname_prefix = \"{}\"\n", k.replace('_', "-")),
            );
            w(&format!("clusters/{k}.toml"), &cluster);
        }
        w(
            "services/web/kustomization.yaml",
            "resources:\n- deployment.yaml\n- ../common\n- linked\n",
        );
        w(
            "services/web/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-controller\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: c\n        image: registry.example.com/web:v1.0.0\n",
        );
        w(
            "services/common/kustomization.yaml",
            "resources:\n- cm.yaml\n",
        );
        w(
            "services/common/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: common\ndata:\n  level: info\n",
        );
        w(
            "services/shared/kustomization.yaml",
            "resources:\n- sa.yaml\n",
        );
        w(
            "services/shared/sa.yaml",
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: shared\n",
        );
        std::os::unix::fs::symlink("../shared", lab.dir.join("services/web/linked"))
            .expect("symlink");
        w(
            "services/extra/kustomization.yaml",
            "resources:\n- extra.yaml\n",
        );
        w(
            "services/extra/extra.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  mode: a\n",
        );
        w(".gitignore", common::GITIGNORE);
        lab.git(&["init", "-q", "-b", "main"]);
        lab.plinth_ok(&["generate"]);
        lab.commit("platform");
        Some(lab)
    }

    /// A record of `env` as JSON.
    fn record(&self, env: &str, seq: u32) -> serde_json::Value {
        serde_json::from_str(&self.git(&["show", &format!("plinth/{env}/{seq:06}:record.json")]))
            .expect("record")
    }
}

/// Regression for issue 16.1: with `state = "cluster"`, a commit changing only a service's
/// kustomize base ran no root and recorded `succeeded`. Roots are chosen by what the engines
/// read: the root of the cluster using the base runs; the other does not.
#[test]
fn regression_16_1_service_base_change_runs_its_root() {
    let Some(lab) = Lab::gate("state = \"cluster\"", &["kind_a", "kind_b"]) else {
        return;
    };
    // Only kind_a uses the service.
    lab.edit(
        "clusters/kind_b.toml",
        &GATE_CLUSTER[GATE_CLUSTER.find("[services.web]").expect("svc")..],
        "",
    );
    lab.plinth_ok(&["generate"]);
    lab.commit("kind_b without services");
    let out = lab.plinth_ok(&["apply", "--env", "ops"]);
    assert!(out.contains("apply succeeded"), "{out}");
    lab.commit("terraform lock files");
    let first = lab.record("ops", 2);
    assert_eq!(first["ran"], serde_json::json!(["kind_a", "kind_b"]));

    // An image tag in the base: the resolved configuration is the same.
    lab.edit("services/web/deployment.yaml", "web:v1.0.0", "web:v1.0.1");
    lab.commit("web v1.0.1");
    let (code, out) = lab.plinth(&["plan", "--env", "ops"]);
    assert!(code == 0 || code == 3, "{out}");
    assert!(
        out.contains("kind_a  runs: its content changed") && !out.contains("kind_b  runs"),
        "{out}"
    );
    let out = lab.plinth_ok(&["apply", "--env", "ops"]);
    assert!(out.contains("apply succeeded"), "{out}");
    let second = lab.record("ops", 4);
    assert_eq!(second["ran"], serde_json::json!(["kind_a"]), "{second}");
    assert_ne!(second["roots"]["kind_a"], first["roots"]["kind_a"]);
    assert_eq!(second["roots"]["kind_b"], first["roots"]["kind_b"]);
    assert_ne!(second["content_hash"], first["content_hash"]);
}

/// Regression for issue 16.2: files the engines apply but the content hash left out — an
/// extra-resource directory, a directory a base pulls from beside it, a symlinked directory
/// inside a base — were promoted as "applied successfully to ops"; a hand-written
/// `generated/zz_extra.tf` too.
#[test]
fn regression_16_2_content_the_hash_left_out_is_not_promoted() {
    let Some(lab) = Lab::gate("", &["kind_zero"]) else {
        return;
    };
    lab.plinth_ok(&["apply", "--env", "ops"]);
    lab.commit("terraform lock file");
    let validated = lab.git(&["rev-parse", "HEAD"]);
    for (file, from, to) in [
        ("services/extra/extra.yaml", "mode: a", "mode: b"),
        ("services/common/cm.yaml", "level: info", "level: debug"),
        ("services/shared/sa.yaml", "name: shared", "name: shared2"),
    ] {
        lab.edit(file, from, to);
        lab.commit(&format!("change {file}"));
        let (code, out) = lab.plinth(&["promote", "--to", "apps"]);
        assert_eq!(code, 1, "{file}: {out}");
        assert!(
            out.contains("has not been validated on `ops`"),
            "{file}: {out}"
        );
        lab.git(&["reset", "-q", "--hard", &validated]);
    }
    hand_written_terraform_is_not_promoted(&lab, &validated);
    // The validated revision itself is promoted.
    let out = lab.plinth_ok(&["promote", "--to", "apps"]);
    assert!(out.contains("promotion succeeded"), "{out}");
}

/// Issue 16.2: a hand-written `generated/zz_extra.tf`, committed after `validated` was
/// applied to ops, is refused before anything runs; the checkout goes back to `validated`.
fn hand_written_terraform_is_not_promoted(lab: &Lab, validated: &str) {
    std::fs::write(
        lab.dir.join("generated/zz_extra.tf"),
        "resource \"terraform_data\" \"x\" {}\n",
    )
    .expect("write");
    lab.commit("hand-written terraform");
    let (code, out) = lab.plinth(&["promote", "--to", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("Plinth did not generate: `zz_extra.tf`"),
        "{out}"
    );
    lab.git(&["reset", "-q", "--hard", validated]);
}

/// Regression for issue 16.4: `plinth apply --env apps` of a commit never applied to `ops`
/// succeeded with a note. External environments are reached by promotion; `--unvalidated` is
/// the recorded escape hatch.
#[test]
fn regression_16_4_apply_to_an_external_environment_goes_through_promote() {
    let Some(lab) = Lab::gate("", &["kind_zero"]) else {
        return;
    };
    let (code, out) = lab.plinth(&["apply", "--env", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("`apps` is an external environment")
            && out.contains("plinth promote --to apps")
            && out.contains("--unvalidated"),
        "{out}"
    );
    assert!(lab.git(&["tag", "-l", "plinth/*"]).is_empty());
    let out = lab.plinth_ok(&["apply", "--env", "apps", "--unvalidated"]);
    assert!(
        out.contains("UNVALIDATED") && out.contains("apply succeeded"),
        "{out}"
    );
    let rec = lab.record("apps", 2);
    assert_eq!(rec["unvalidated"], true);
    assert_eq!(rec["via"], "apply --unvalidated");
    let st = lab.status_json();
    assert_eq!(st[1]["unvalidated"], true, "{st}");
    let text = lab.plinth_ok(&["status"]);
    assert!(text.contains("UNVALIDATED"), "{text}");
}

/// Forges a record of `env` by hand, as the issue did with `git commit-tree`: `edit` changes a
/// copy of record `from`'s JSON; the record commit's parents are `parents`.
fn forge(
    lab: &Lab,
    env: &str,
    from: u32,
    seq: u32,
    parents: &[&str],
    edit: impl Fn(&mut serde_json::Value),
) {
    let mut rec = lab.record(env, from);
    rec["sequence"] = seq.into();
    edit(&mut rec);
    let dir = lab.env.join("forge");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("record.json");
    std::fs::write(&file, serde_json::to_string_pretty(&rec).expect("json")).expect("write");
    let blob = lab.git(&["hash-object", "-w", &file.display().to_string()]);
    let resolved = lab.git(&[
        "rev-parse",
        &format!("plinth/{env}/{from:06}:resolved.json"),
    ]);
    let tree = {
        use std::io::Write;
        let mut child = lab
            .cmd("git")
            .args(["mktree"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("mktree");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(
                format!("100644 blob {blob}\trecord.json\n100644 blob {resolved}\tresolved.json\n")
                    .as_bytes(),
            )
            .expect("write");
        let out = child.wait_with_output().expect("mktree");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let mut args = vec!["commit-tree", tree.as_str(), "-m", "plinth: forged"];
    for p in parents {
        args.extend(["-p", p]);
    }
    let commit = lab.git(&args);
    lab.git(&["tag", &format!("plinth/{env}/{seq:06}"), &commit]);
}

/// The content hash of the working tree's HEAD, as Plinth computes it.
fn head_content(lab: &Lab) -> String {
    let repo = plinth_core::promote::Repo::open(&lab.dir).expect("repo");
    repo.prepare_head(&lab.dir, &lab.dir.join("generated"))
        .expect("prepared")
        .content
        .hash
        .clone()
}

/// Regression for issue 16.4: a record built by hand (`git commit-tree`, `"outcome":
/// "succeeded"`) let `promote` pass and `status` show it. Records are verified: contiguous,
/// linked, naming their commit's tree and the content at that commit.
#[test]
fn regression_16_4_a_forged_record_is_refused() {
    let Some(lab) = Lab::gate("", &["kind_zero"]) else {
        return;
    };
    lab.plinth_ok(&["apply", "--env", "ops"]);
    lab.commit("terraform lock file");
    let validated_record = lab.git(&["rev-parse", "plinth/ops/000002"]);
    // A change never applied to ops, and its true content hash: a careful forger's record.
    lab.edit("services/web/deployment.yaml", "web:v1.0.0", "web:v6.6.6");
    lab.commit("unvalidated");
    let head = lab.git(&["rev-parse", "HEAD"]);
    let tree = lab.git(&["rev-parse", "HEAD^{tree}"]);
    let content = head_content(&lab);
    let claims = |r: &mut serde_json::Value| {
        r["commit"] = head.clone().into();
        r["tree"] = tree.clone().into();
        r["content_hash"] = content.clone().into();
        r["outcome"] = "succeeded".into();
    };
    // The issue's forgery: record 99.
    forge(&lab, "ops", 2, 99, &[&head], claims);
    let (code, out) = lab.plinth(&["promote", "--to", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("record 000099 cannot be trusted") && out.contains("gap"),
        "{out}"
    );
    let st = lab.status_json();
    assert!(
        st[0]["record_problem"]
            .as_str()
            .is_some_and(|p| p.contains("000099")),
        "{st}"
    );
    assert!(lab.plinth_ok(&["status"]).contains("CANNOT BE TRUSTED"));
    lab.git(&["tag", "-d", "plinth/ops/000099"]);
    // The next number, but not linked to the record before it.
    forge(&lab, "ops", 2, 3, &[&head], claims);
    let (code, out) = lab.plinth(&["promote", "--to", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not link the record before it"), "{out}");
    lab.git(&["tag", "-d", "plinth/ops/000003"]);
    // Linked, but naming a tree that is not its commit's.
    let base = lab.git(&["rev-parse", "HEAD~1"]);
    let base_tree = lab.git(&["rev-parse", "HEAD~1^{tree}"]);
    forge(&lab, "ops", 2, 3, &[&head, &validated_record], |r| {
        claims(r);
        r["previous"] = validated_record.clone().into();
        r["tree"] = base_tree.clone().into();
    });
    let (code, out) = lab.plinth(&["promote", "--to", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("with tree") && out.contains("which is not that"),
        "{out}"
    );
    lab.git(&["tag", "-d", "plinth/ops/000003"]);
    // Linked and consistent, but claiming a content its commit does not have (the validated
    // commit, said to hold the unvalidated content).
    forge(&lab, "ops", 2, 3, &[&base, &validated_record], |r| {
        claims(r);
        r["previous"] = validated_record.clone().into();
        r["commit"] = base.clone().into();
        r["tree"] = base_tree.clone().into();
    });
    let (code, out) = lab.plinth(&["promote", "--to", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("says commit {} has content", &base[..12]))
            && out.contains("but it has"),
        "{out}"
    );
}

/// With `[platform.record] signed = true`, records are signed tags (SSH signing here, as git
/// supports it) and a promotion verifies the record it relies on with `git verify-tag`: an
/// unsigned record, or one signed by a key that is not allowed, is refused.
#[test]
fn regression_16_4_signed_records_are_required_and_verified() {
    let Some(keygen) = engines::require("ssh-keygen", engines::which("ssh-keygen")) else {
        return;
    };
    let Some(lab) = Lab::gate("record = { signed = true }", &["kind_zero"]) else {
        return;
    };
    let key = lab.env.join("signing-key");
    let made = Command::new(keygen)
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "lab", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen");
    assert!(made.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).expect("pub");
    let allowed = lab.env.join("allowed_signers");
    std::fs::write(&allowed, format!("lab@example.com {public}")).expect("allowed");
    for (k, v) in [
        ("gpg.format", "ssh".to_string()),
        ("user.signingkey", key.display().to_string()),
        ("gpg.ssh.allowedSignersFile", allowed.display().to_string()),
        ("user.email", "lab@example.com".into()),
        ("user.name", "Lab".into()),
    ] {
        lab.git(&["config", k, &v]);
    }
    lab.plinth_ok(&["apply", "--env", "ops"]);
    lab.commit("terraform lock file");
    lab.git(&["verify-tag", "plinth/ops/000002"]);
    // A forged (unsigned) record of a change never applied: refused although consistent.
    lab.edit("services/web/deployment.yaml", "web:v1.0.0", "web:v6.6.6");
    lab.commit("unvalidated");
    let head = lab.git(&["rev-parse", "HEAD"]);
    let prev = lab.git(&["rev-parse", "plinth/ops/000002^{commit}"]);
    let content = head_content(&lab);
    let tree = lab.git(&["rev-parse", "HEAD^{tree}"]);
    forge(&lab, "ops", 2, 3, &[&head, &prev], |r| {
        r["commit"] = head.clone().into();
        r["tree"] = tree.clone().into();
        r["content_hash"] = content.clone().into();
        r["previous"] = prev.clone().into();
    });
    let (code, out) = lab.plinth(&["promote", "--to", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("not a signed tag") || out.contains("is not signed"),
        "{out}"
    );
    lab.git(&["tag", "-d", "plinth/ops/000003"]);
    lab.git(&["reset", "-q", "--hard", "HEAD~1"]);
    // A signer nobody allowed: refused by `git verify-tag`.
    std::fs::write(&allowed, "").expect("no signers");
    let (code, out) = lab.plinth(&["promote", "--to", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not verify"), "{out}");
    std::fs::write(&allowed, format!("lab@example.com {public}")).expect("allowed");
    let out = lab.plinth_ok(&["promote", "--to", "apps"]);
    assert!(out.contains("promotion succeeded"), "{out}");
    lab.git(&["verify-tag", "plinth/apps/000002"]);
}

/// Processes working in `dir` (their current directory is inside it): Terraform and its
/// providers run in the root they plan.
fn processes_in(dir: &Path) -> Vec<u32> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    std::fs::read_dir("/proc")
        .expect("proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(&dir))
        })
        .collect()
}

/// Waits until an engine works in the output (and the attempt is recorded).
fn wait_for_engine(lab: &Lab, child: &mut std::process::Child) {
    let started = std::time::Instant::now();
    loop {
        if !processes_in(&lab.dir.join("generated")).is_empty()
            && !lab.git(&["tag", "-l", "plinth/ops/*"]).is_empty()
        {
            return;
        }
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the apply ended before an engine ran"
        );
        assert!(started.elapsed().as_secs() < 120, "no engine started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Waits until the environment's lock names the engine's process group (what `unlock` stops).
fn wait_for_locked_engine(lab: &Lab, child: &mut std::process::Child) {
    let lock = lab.dir.join(".git/plinth/locks/ops.lock");
    let started = std::time::Instant::now();
    loop {
        let named = std::fs::read_to_string(&lock)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|h| h["engines"].as_array().is_some_and(|g| !g.is_empty()));
        if named {
            return;
        }
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the apply ended before its lock named an engine"
        );
        assert!(
            started.elapsed().as_secs() < 120,
            "the lock never named the engine"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Waits (a little) for processes to be gone from `dir`; returns those left.
fn left_in(dir: &Path) -> Vec<u32> {
    for _ in 0..50 {
        if processes_in(dir).is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    processes_in(dir)
}

/// Regression for issue 16.10: SIGINT to `plinth apply` left the record `started`, the lock
/// held and an orphaned provider process. The signal is forwarded to Terraform's process
/// group, Terraform is waited for, the run is recorded as interrupted and the lock released.
#[test]
fn regression_16_10_sigint_stops_terraform_records_interrupted_and_releases_the_lock() {
    let Some(lab) = Lab::gate("", &["kind_zero"]) else {
        return;
    };
    let mut child = lab.apply_in_own_group();
    wait_for_engine(&lab, &mut child);
    let sent = Command::new("kill")
        .args(["-s", "INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = child.wait().expect("wait");
    assert_eq!(
        status.code(),
        Some(130),
        "exit code of an interrupted apply"
    );
    // Terraform and its providers were waited for: nothing is left working in the output.
    assert_eq!(processes_in(&lab.dir.join("generated")), Vec::<u32>::new());
    let st = lab.status_json();
    assert_eq!(st[0]["latest"]["outcome"], "interrupted", "{st}");
    assert!(st[0]["lock"].is_null(), "the lock was released: {st}");
    assert_eq!(st[0]["interrupted"], true);
    // Terraform released its state lock: the next apply runs.
    lab.commit("terraform lock file");
    let out = lab.plinth_ok(&["apply", "--env", "ops"]);
    assert!(out.contains("apply succeeded"), "{out}");
}

/// Regression for issue 16.10: after SIGKILL, Terraform (and its providers) kept running with
/// nothing to stop them. The lock names the engine's process group; `plinth unlock` stops it.
#[test]
fn regression_16_10_unlock_stops_the_engine_a_killed_plinth_left() {
    let Some(lab) = Lab::gate("", &["kind_zero"]) else {
        return;
    };
    // A Terraform that hangs in `init` (as a stuck provider download would).
    let real = engines::terraform().expect("terraform");
    let wrapper = lab.env.join("bin/terraform");
    std::fs::create_dir_all(wrapper.parent().expect("dir")).expect("mkdir");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nif [ \"$1\" = init ]; then sleep 600; fi\nexec {} \"$@\"\n",
            real.display()
        ),
    )
    .expect("wrapper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut child = {
        use std::os::unix::process::CommandExt;
        lab.cmd("plinth")
            .args(["apply", "--env", "ops"])
            .env("PLINTH_TERRAFORM", &wrapper)
            .process_group(0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn")
    };
    wait_for_engine(&lab, &mut child);
    wait_for_locked_engine(&lab, &mut child);
    // SIGKILL to Plinth alone: its engine keeps running.
    child.kill().expect("kill");
    let _ = child.wait();
    let generated = lab.dir.join("generated");
    assert!(
        !processes_in(&generated).is_empty(),
        "the engine should outlive SIGKILL"
    );
    let text = lab.plinth_ok(&["status"]);
    assert!(
        text.contains("engine `terraform` runs as process group"),
        "{text}"
    );
    let out = lab.plinth_ok(&["unlock", "--env", "ops"]);
    assert!(
        out.contains("stopped `terraform`") && out.contains("broke the lock"),
        "{out}"
    );
    assert_eq!(
        left_in(&generated),
        Vec::<u32>::new(),
        "unlock left the engine running"
    );
    assert!(lab.status_json()[0]["lock"].is_null());
}

/// A fake kubectl for the verification checks: `kustomize` runs the real one; `get nodes`
/// prints `nodes.json`; `rollout status` exits with the number in `rollout`; every call is
/// logged.
fn fake_kubectl(lab: &Lab) -> Option<PathBuf> {
    let real = engines::require("kubectl (kustomize)", engines::kubectl())?;
    let dir = lab.env.join("fake");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let script = dir.join("kubectl");
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
echo "$@" >> {dir}/calls
if [ "$1" = kustomize ]; then exec {real} "$@"; fi
case "$*" in
  *"get nodes"*) cat {dir}/nodes.json ;;
  *"rollout status"*) exit $(cat {dir}/rollout) ;;
  *) exit 1 ;;
esac
"#,
            dir = dir.display(),
            real = real.display()
        ),
    )
    .expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    Some(script)
}

fn nodes(lab: &Lab, ready: bool) {
    let status = if ready { "True" } else { "False" };
    std::fs::write(
        lab.env.join("fake/nodes.json"),
        format!(
            r#"{{"items": [{{"metadata": {{"name": "kind-zero-ops-control-plane", "labels": {{}}}}, "status": {{"conditions": [{{"type": "Ready", "status": "{status}"}}]}}}}]}}"#
        ),
    )
    .expect("nodes");
}

/// "Validated" means verified: with `[promotion]` checks and a soak time, a promotion waits
/// until the previous environment's record is verified and has run long enough, and says which
/// check failed or how long is left; `status` shows both.
#[test]
fn promotion_waits_for_verification_and_soak() {
    let Some(lab) = Lab::gate(
        "\n[promotion]\nsoak = \"2h\"\n\n[[promotion.verify]]\ncheck = \"nodes-ready\"\ntimeout = \"2s\"\n\n[[promotion.verify]]\ncheck = \"workloads-available\"\ntimeout = \"30s\"\n\n[[promotion.verify]]\nname = \"smoke\"\ncommand = [\"scripts/smoke.sh\", \"--quick\"]\ntimeout = \"30s\"\nenvironments = [\"ops\"]\n",
        &["kind_zero"],
    ) else {
        return;
    };
    let Some(kubectl) = fake_kubectl(&lab) else {
        return;
    };
    std::fs::write(lab.env.join("fake/rollout"), "0").expect("rollout");
    let seen = lab.env.join("fake/smoke.env");
    std::fs::create_dir_all(lab.dir.join("scripts")).expect("mkdir");
    std::fs::write(
        lab.dir.join("scripts/smoke.sh"),
        format!(
            "#!/bin/sh\necho \"$PLINTH_ENVIRONMENT $1\" > {seen}\ncat \"$PLINTH_KUBECONFIG_DIR/kind_zero.yaml\" >> {seen}\necho smoke ok\n",
            seen = seen.display()
        ),
    )
    .expect("smoke");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        lab.dir.join("scripts/smoke.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    lab.commit("smoke test");
    let at = |t: &str, args: &[&str]| -> (i32, String) {
        let out = lab
            .cmd("plinth")
            .env("PLINTH_KUBECTL", &kubectl)
            .env("PLINTH_VERIFY_POLL", "1")
            .env("PLINTH_NOW", t)
            .args(args)
            .output()
            .expect("plinth");
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    // Nodes not Ready: the apply succeeds, its verification fails and says why.
    nodes(&lab, false);
    let (code, out) = at("2030-01-01T00:00:00Z", &["apply", "--env", "ops"]);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("apply succeeded")
            && out.contains("verification failed")
            && out.contains("node `kind-zero-ops-control-plane` is not Ready"),
        "{out}"
    );
    lab.commit("terraform lock file");
    let (code, out) = at("2030-01-01T03:00:00Z", &["promote", "--to", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("its verification on `ops` failed") && out.contains("`nodes-ready`"),
        "{out}"
    );
    // Healthy now: verified again, but not soaked yet at 00:30.
    nodes(&lab, true);
    let (code, out) = at("2030-01-01T00:20:00Z", &["verify", "--env", "ops"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("verified"), "{out}");
    let smoke = std::fs::read_to_string(&seen).expect("smoke ran");
    assert!(smoke.starts_with("ops --quick\n"), "{smoke}");
    let calls = std::fs::read_to_string(lab.env.join("fake/calls")).expect("calls");
    assert!(
        calls.contains("get nodes")
            && calls.contains("rollout status deployment/web-controller -n web"),
        "{calls}"
    );
    let (code, out) = at("2030-01-01T00:30:00Z", &["promote", "--to", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("has run on `ops` for 30m") && out.contains("1h30m left"),
        "{out}"
    );
    let (_, text) = at("2030-01-01T00:30:00Z", &["status"]);
    assert!(
        text.contains("checks    verified at 2030-01-01T00:20:00Z")
            && text.contains("ran 30m of 2h: 1h30m left"),
        "{text}"
    );
    // Soaked: promoted, and the promotion is verified on apps in turn (the smoke test is for
    // ops only).
    let (code, out) = at("2030-01-01T02:01:00Z", &["promote", "--to", "apps"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("promotion succeeded") && out.contains("verified"),
        "{out}"
    );
    let st: serde_json::Value =
        serde_json::from_str(&at("2030-01-01T02:02:00Z", &["status", "--output", "json"]).1)
            .expect("json");
    assert_eq!(st[1]["verification"]["state"], "verified", "{st}");
}

/// Issue 18: Kubestack's `loc` is a local development environment outside the promotion chain:
/// applied directly without any record gating it, never promoted to, never a predecessor.
#[test]
fn a_local_environment_is_applied_directly_and_never_in_the_promotion_chain() {
    let Some(lab) = Lab::from_fixture(&common::fixtures().join("platforms/doubles")) else {
        return;
    };
    lab.edit(
        "plinth.toml",
        "[platform]\n",
        "[environments.loc]\ndescription = \"a developer's own\"\nlocal = true\n\n[platform]\n",
    );
    lab.edit(
        "clusters/kind_zero.toml",
        "[node_pools.default",
        "[config.loc]\nnode_image = \"kindest/node:v1.33.1\"\n\n[node_pools.default",
    );
    // A resource group Plinth creates belongs to one environment: loc gets its own.
    lab.edit(
        "clusters/aks_entra.toml",
        "[config.ops]\n",
        "[config.loc]\nresource_group = \"entra-loc-northeurope\"\n\n[config.ops]\n",
    );
    lab.plinth_ok(&["generate"]);
    lab.commit("a local environment");
    let list = lab.plinth_ok(&["list"]);
    assert!(
        list.contains("ops (internal) → apps → apps-prod (base)")
            && list.contains("local environments loc"),
        "{list}"
    );
    // Nothing was applied anywhere: `loc` still applies, no record gates it.
    let out = lab.plinth_ok(&["apply", "--env", "loc"]);
    assert!(out.contains("outside the promotion chain"), "{out}");
    assert!(out.contains("apply succeeded"), "{out}");
    lab.commit("terraform lock files");
    let (code, out) = lab.plinth(&["promote", "--to", "loc"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("`loc` is a local environment, outside the promotion chain"),
        "{out}"
    );
    // `apps` follows `ops`, whatever `loc` ran.
    let (code, out) = lab.plinth(&["promote", "--to", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("nothing was applied to `ops` yet"), "{out}");
    let show = lab.plinth_ok(&["show", "--env", "loc"]);
    assert!(
        show.contains("(local, outside the promotion chain)") && show.contains("v1.33.1"),
        "{show}"
    );
    let status = lab.plinth_ok(&["status", "--output", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&status).expect("json");
    assert!(
        doc.to_string().contains("\"loc\""),
        "status lists loc: {status}"
    );
}

/// The roots `ci matrix` lists for `args`.
fn matrix_roots(lab: &Lab, args: &[&str]) -> Vec<String> {
    let mut all = vec!["ci", "matrix"];
    all.extend_from_slice(args);
    all.extend(["--output", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&lab.plinth_ok(&all)).expect("json");
    doc.as_array()
        .expect("entries")
        .iter()
        .map(|e| e["root"].as_str().expect("root").to_string())
        .collect()
}

/// Issue 19: the pipeline `plinth ci` writes fans an apply out over the runners, one root per
/// job (`apply --root R --receipt F`), and its last job records the environment once from the
/// receipts (`plinth record`): succeeded only when every root the revision runs succeeded; a
/// receipt of another commit is refused; a promotion fans out the same way.
#[test]
fn a_fanned_out_apply_is_recorded_once_from_its_receipts() {
    let Some(lab) = Lab::gate("state = \"cluster\"", &["kind_a", "kind_b"]) else {
        return;
    };
    // Terraform's own plan, for a reviewer who wants every resource (issue 19).
    let (code, out) = lab.plinth(&[
        "plan",
        "--env",
        "ops",
        "--root",
        "kind_a",
        "--show-terraform",
    ]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("terraform plan of `kind_a`") && out.contains("will be created"),
        "{out}"
    );
    // Not on a terminal: a line per step while Terraform runs.
    assert!(out.contains("kind_a: terraform plan"), "{out}");
    lab.plinth_ok(&["apply", "--env", "ops"]);
    lab.commit("terraform lock files");
    lab.edit("services/web/deployment.yaml", "web:v1.0.0", "web:v1.0.1");
    lab.commit("web v1.0.1");
    assert_eq!(
        matrix_roots(&lab, &["--env", "ops"]),
        ["kind_a", "kind_b"],
        "both clusters use the base"
    );
    // One review job plans one root; an unknown root is refused with the closest name.
    let (code, out) = lab.plinth(&["plan", "--env", "ops", "--root", "kind_b"]);
    assert!(code == 0 || code == 3, "{out}");
    assert!(out.contains("kind_b") && !out.contains("kind_a "), "{out}");
    let (code, out) = lab.plinth(&["plan", "--env", "ops", "--root", "kind_c"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("`kind_c` is not a Terraform root"), "{out}");

    let receipts = lab.env.join("receipts");
    let receipt = |root: &str| receipts.join(format!("{root}.json")).display().to_string();
    let out = lab.plinth_ok(&[
        "apply",
        "--env",
        "ops",
        "--root",
        "kind_a",
        "--receipt",
        &receipt("kind_a"),
    ]);
    assert!(out.contains("root applied"), "{out}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(receipt("kind_a")).expect("receipt"))
            .expect("json");
    assert_eq!(r["outcome"], "succeeded");
    assert_eq!(r["commit"], lab.git(&["rev-parse", "HEAD"]));
    // A job per root wrote no record: only the record job does.
    assert_eq!(lab.git(&["tag", "-l", "plinth/ops/*"]).lines().count(), 2);

    // kind_b's job did not run: the environment is recorded as failed, and says why.
    let (code, out) = lab.plinth(&[
        "record",
        "--env",
        "ops",
        "--receipts",
        &receipts.display().to_string(),
    ]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("kind_b: no receipt"), "{out}");
    assert_eq!(lab.record("ops", 3)["outcome"], "failed");
    let (code, out) = lab.plinth(&["promote", "--to", "apps", "--check"]);
    assert_eq!(code, 1, "{out}");

    // A receipt of another commit is refused, and nothing is recorded.
    let forged = lab.env.join("forged");
    std::fs::create_dir_all(&forged).expect("mkdir");
    let mut fake = r.clone();
    fake["commit"] = lab.git(&["rev-parse", "HEAD~1"]).into();
    std::fs::write(forged.join("kind_a.json"), fake.to_string()).expect("write");
    let (code, out) = lab.plinth(&[
        "record",
        "--env",
        "ops",
        "--receipts",
        &forged.display().to_string(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("nothing was recorded"), "{out}");
    assert_eq!(lab.git(&["tag", "-l", "plinth/ops/*"]).lines().count(), 3);

    // Both jobs done: one record of success naming both roots; the gate opens.
    lab.plinth_ok(&[
        "apply",
        "--env",
        "ops",
        "--root",
        "kind_b",
        "--receipt",
        &receipt("kind_b"),
    ]);
    let out = lab.plinth_ok(&[
        "record",
        "--env",
        "ops",
        "--receipts",
        &receipts.display().to_string(),
    ]);
    assert!(out.contains("apply succeeded"), "{out}");
    let rec = lab.record("ops", 4);
    assert_eq!(rec["outcome"], "succeeded");
    assert_eq!(rec["ran"], serde_json::json!(["kind_a", "kind_b"]));
    let out = lab.plinth_ok(&["promote", "--to", "apps", "--check"]);
    assert!(out.contains("may be promoted to `apps`"), "{out}");
    // An unchanged root has nothing to apply now.
    let (code, out) = lab.plinth(&[
        "apply",
        "--env",
        "ops",
        "--root",
        "kind_a",
        "--receipt",
        &receipt("again"),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("has nothing to apply"), "{out}");

    // The promotion fans out the same way, and its record names the record it relied on.
    let promoted = lab.env.join("promoted");
    let p = |root: &str| promoted.join(format!("{root}.json")).display().to_string();
    for root in matrix_roots(&lab, &["--env", "apps", "--promote"]) {
        lab.plinth_ok(&[
            "promote",
            "--to",
            "apps",
            "--root",
            &root,
            "--receipt",
            &p(&root),
        ]);
    }
    let (code, out) = lab.plinth(&[
        "record",
        "--env",
        "apps",
        "--receipts",
        &promoted.display().to_string(),
    ]);
    assert_eq!(code, 1, "receipts of a promotion need --promote: {out}");
    let out = lab.plinth_ok(&[
        "record",
        "--env",
        "apps",
        "--promote",
        "--receipts",
        &promoted.display().to_string(),
    ]);
    assert!(out.contains("promote from ops succeeded"), "{out}");
    let st = lab.status_json();
    assert_eq!(st[1]["latest"]["outcome"], "succeeded", "{st}");
    assert_eq!(lab.record("apps", 1)["validated_by"], "plinth/ops/000004");
}

/// Issue 19: `plinth destroy` decommissions an environment under the same lock and record as an
/// apply; the environment is named twice; a promotion from a destroyed environment is refused
/// and the next apply runs every root.
#[test]
fn destroy_is_confirmed_by_name_recorded_and_closes_the_gate() {
    let Some(lab) = Lab::gate("state = \"cluster\"", &["kind_a", "kind_b"]) else {
        return;
    };
    lab.plinth_ok(&["apply", "--env", "ops"]);
    lab.commit("terraform lock files");
    let (code, out) = lab.plinth(&["destroy", "--env", "ops"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("--confirm ops"), "{out}");
    let (code, out) = lab.plinth(&["destroy", "--env", "apps", "--confirm", "ops"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("`apps` is an external environment"), "{out}");
    assert_eq!(lab.git(&["tag", "-l", "plinth/ops/*"]).lines().count(), 2);

    let out = lab.plinth_ok(&["destroy", "--env", "ops", "--confirm", "ops"]);
    assert!(out.contains("destroy succeeded"), "{out}");
    let rec = lab.record("ops", 4);
    assert_eq!(rec["outcome"], "destroyed", "{rec}");
    assert_eq!(rec["ran"], serde_json::json!(["kind_a", "kind_b"]));
    let (code, out) = lab.plinth(&["promote", "--to", "apps"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("`ops` was destroyed"), "{out}");
    let (code, out) = lab.plinth(&["plan", "--env", "ops"]);
    assert!(code == 0 || code == 3, "{out}");
    assert!(
        out.contains("runs: the environment was destroyed since the last success"),
        "{out}"
    );
}
