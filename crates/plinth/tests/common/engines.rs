//! Real engines for tests: terraform with a private CLI config (no network), the real aws
//! provider from the machine's filesystem mirror, and a `moto` server on loopback.
//!
//! Where an engine is missing, tests say so on stderr (past the harness's capture) and skip — unless
//! `PLINTH_REQUIRE_ENGINES=1` (set by CI), where a missing engine fails the test.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Returns `None` (after a message the user sees, see [`tf_double::skip`]) when `what` is
/// missing and engines are optional.
#[track_caller]
pub fn require<T>(what: &str, found: Option<T>) -> Option<T> {
    if found.is_none() {
        let at = std::panic::Location::caller();
        let test = std::thread::current()
            .name()
            .map_or_else(|| at.to_string(), String::from);
        tf_double::skip(&test, &format!("{what} is not available on this machine"));
    }
    found
}

pub fn terraform() -> Option<PathBuf> {
    which("terraform")
}

pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// The real kubectl, found as Plinth finds it: `PLINTH_KUBECTL`, the Google Cloud SDK's
/// versioned `kubectl.1.N` beside `gcloud` (its `kubectl` is a dispatcher), else `PATH`.
pub fn kubectl() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PLINTH_KUBECTL") {
        return Some(PathBuf::from(p));
    }
    let sdk = which("gcloud")
        .and_then(|g| std::fs::canonicalize(g).ok())
        .and_then(|g| g.parent().map(Path::to_path_buf));
    let mut versioned: Vec<(u32, PathBuf)> = sdk
        .and_then(|d| std::fs::read_dir(d).ok())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let minor = e
                .file_name()
                .to_string_lossy()
                .strip_prefix("kubectl.1.")?
                .parse::<u32>()
                .ok()?;
            Some((minor, e.path()))
        })
        .collect();
    versioned.sort();
    versioned.pop().map(|(_, p)| p).or_else(|| which("kubectl"))
}

/// The machine image's mirror holding the real `hashicorp/aws` provider.
pub fn aws_mirror() -> Option<PathBuf> {
    [
        "/opt/tf-plugins",
        "/usr/local/share/tf-plugins",
        "/usr/share/tf-plugins",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.join("registry.terraform.io/hashicorp/aws").is_dir())
}

/// The repository's vendored provider schemas (`provider-schemas/README.md` says where each
/// came from).
pub fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../provider-schemas")
}

/// The provider schemas Plinth is checked against: the real dumps, plus the transcribed
/// `kbst/kustomization` schema.
pub fn schema_files() -> Vec<PathBuf> {
    ["aws", "google", "azurerm", "kind", "kustomization"]
        .iter()
        .map(|p| schemas_dir().join(format!("{p}.json")))
        .collect()
}

/// The version of the kustomization provider double (inside Plinth's constraint `~> 0.9.0`).
pub const KUSTOMIZATION: tf_double::ProviderAddr<'static> = tf_double::ProviderAddr {
    namespace: "kbst",
    name: "kustomization",
    version: "0.9.7",
};

/// Terraform with a private mirror (no network): the real aws provider where the machine has
/// it, and provider doubles serving the real schemas for the others.
pub struct Terraform {
    pub mirror: tf_double::Mirror,
}

impl Terraform {
    /// Real aws (required) plus doubles for kustomization, google, azurerm and kind.
    pub fn new(scratch: &Path) -> Option<Terraform> {
        terraform()?;
        aws_mirror()?;
        // One directory with every schema the double may serve.
        let schemas = scratch.join("schemas");
        std::fs::create_dir_all(&schemas).expect("mkdir schemas");
        for f in schema_files() {
            std::fs::copy(&f, schemas.join(f.file_name().expect("name"))).expect("copy schema");
        }
        let mirror = tf_double::Mirror::builder()
            .schemas_dir(&schemas)
            .real_aws()
            .doubles(&[
                KUSTOMIZATION,
                tf_double::GOOGLE,
                tf_double::AZURERM,
                tf_double::KIND,
            ])
            .create(&scratch.join("mirror"))
            .expect("terraform mirror");
        Some(Terraform { mirror })
    }

    pub fn cmd(&self, dir: &Path) -> Command {
        let mut c = self.mirror.terraform(dir);
        c.stdin(Stdio::null());
        c
    }

    /// Runs terraform; panics with its output when it fails. Returns stdout.
    pub fn run(&self, dir: &Path, args: &[&str]) -> String {
        let out = self
            .cmd(dir)
            .args(args)
            .arg("-no-color")
            .output()
            .expect("run terraform");
        assert!(
            out.status.success(),
            "terraform {args:?} failed in {}:\n{}\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs terraform and returns its exit code and combined output.
    pub fn try_run(&self, dir: &Path, args: &[&str]) -> (i32, String) {
        let out = self
            .cmd(dir)
            .args(args)
            .arg("-no-color")
            .output()
            .expect("run terraform");
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }
}

/// `terraform fmt -` of `text`.
pub fn fmt(tf: &Path, text: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(tf)
        .args(["fmt", "-"])
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn terraform fmt");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("fmt");
    assert!(out.status.success(), "terraform fmt rejected the text");
    String::from_utf8(out.stdout).expect("utf8")
}

/// A moto server on a free loopback port, stopped on drop.
pub struct Moto {
    child: Child,
    log: PathBuf,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Option<Moto> {
        let bin = std::env::var_os("PLINTH_MOTO_SERVER")
            .map(PathBuf::from)
            .or_else(|| which("moto_server"))?;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let log_path = std::env::temp_dir().join(format!("plinth-moto-{port}.log"));
        let log = std::fs::File::create(&log_path).ok()?;
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // AWS-managed policies (AmazonEKSClusterPolicy, ...) exist only when loaded.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdout(Stdio::null())
            // A file, not a pipe: moto logs every request, and a full pipe would stall it.
            .stderr(log.try_clone().ok()?)
            .spawn()
            .ok()?;
        let mut moto = Moto {
            child,
            log: log_path.clone(),
            port,
        };
        // A fresh venv imports (and byte-compiles) moto on the first start, and the machine
        // may be busy with other test binaries: wait for the port as long as the server lives.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
        while std::time::Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(moto);
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                let err = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("moto_server exited ({status}) before listening on {port}:\n{err}");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("moto_server did not listen on port {port} within 180 s");
    }

    /// A `*_override.tf` pointing every aliased aws provider at moto (test-only: generated
    /// code never carries endpoints).
    pub fn override_for(&self, aliases: &[&str]) -> String {
        let url = format!("http://127.0.0.1:{}", self.port);
        aliases
            .iter()
            .map(|a| {
                format!(
                    "provider \"aws\" {{\n  alias                       = \"{a}\"\n  access_key                  = \"test\"\n  secret_key                  = \"test\"\n  skip_credentials_validation = true\n  skip_requesting_account_id  = true\n  skip_metadata_api_check     = true\n  endpoints {{\n    ec2     = \"{url}\"\n    eks     = \"{url}\"\n    iam     = \"{url}\"\n    route53 = \"{url}\"\n    sts     = \"{url}\"\n  }}\n}}\n"
                )
            })
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A PostgreSQL server on loopback for the `pg` backend, stopped on drop. `initdb` refuses to
/// run as root, so it runs as the `postgres` user there.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
}

impl Postgres {
    pub fn start() -> Option<Postgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("initdb").is_file())?;
        let dir = std::env::temp_dir().join(format!(
            "plinth-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).ok()?;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
            l.local_addr().ok()?.port()
        };
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        let as_pg = |args: Vec<String>| -> bool {
            let mut c = if root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).args(&args);
                c
            } else {
                let mut c = Command::new(&args[0]);
                c.args(&args[1..]);
                c
            };
            c.stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if root {
            let _ = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status();
        }
        let data = dir.join("data");
        let sock = dir.clone();
        if !as_pg(vec![
            bin.join("initdb").display().to_string(),
            "-D".into(),
            data.display().to_string(),
            "-A".into(),
            "trust".into(),
            "-U".into(),
            "postgres".into(),
        ]) {
            return None;
        }
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off",
            sock.display()
        );
        if !as_pg(vec![
            bin.join("pg_ctl").display().to_string(),
            "-D".into(),
            data.display().to_string(),
            "-o".into(),
            opts,
            "-w".into(),
            "start".into(),
        ]) {
            return None;
        }
        let pg = Postgres { dir, bin, port };
        pg.query("create database plinth");
        Some(pg)
    }

    pub fn conn_str(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/plinth?sslmode=disable",
            self.port
        )
    }

    /// Runs SQL with psql against the `plinth` database (or `postgres` to create it).
    pub fn query(&self, sql: &str) -> String {
        let db = if sql.starts_with("create database") {
            "postgres"
        } else {
            "plinth"
        };
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-tA",
                "-c",
                sql,
            ])
            .output()
            .expect("psql");
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D"])
            .arg(&data)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
