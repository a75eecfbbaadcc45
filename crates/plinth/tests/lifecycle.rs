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
    // `terraform init` wrote the dependency lock file: apply wants it committed, and says so.
    let (code, out) = lab.plinth(&["apply", "--env", "ops"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(".terraform.lock.hcl") && out.contains("wrote a dependency lock file"),
        "{out}"
    );
    lab.commit("terraform lock file");

    let out = lab.plinth_ok(&["apply", "--env", "ops"]);
    assert!(
        out.contains("apply succeeded") && out.contains("plinth/ops/000002"),
        "{out}"
    );
    lab.commit("terraform lock file");
    // The platform-level plan is empty now; only moto's drift may show at the engine level.
    let (code, out) = lab.plinth(&["plan", "--env", "ops", "--no-engine"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no changes"), "{out}");

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
    let (prev, rec) =
        plinth_core::promote::check_promotion(&repo, &prepared.platform, "apps", &prepared)
            .expect("allowed");
    assert_eq!(prev, "ops");
    assert_ne!(rec.commit, prepared.commit);
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
