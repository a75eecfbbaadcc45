//! Test-side helpers: find or build the double, install it under provider addresses in a
//! filesystem mirror, and give terraform a private CLI configuration that can only use that
//! mirror (so nothing ever tries the network).

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::SCHEMAS_ENV;

/// File name cargo gives the double's binary.
pub const BINARY_NAME: &str = "terraform-provider-double";
/// Environment variable that, when set, names a prebuilt double binary to use.
pub const BINARY_ENV: &str = "PLINTH_TF_DOUBLE_BIN";
/// Environment variable that, when set, names the directory holding the real providers
/// (instead of searching for `tf-plugins`).
pub const PLUGINS_ENV: &str = "PLINTH_TF_PLUGINS";
/// The registry host every provider is mirrored under.
pub const REGISTRY_HOST: &str = "registry.terraform.io";

/// A provider source address (on [`REGISTRY_HOST`]) and the version to install.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderAddr<'a> {
    /// e.g. `hashicorp`
    pub namespace: &'a str,
    /// The provider type, e.g. `google`; also the schema file name (`google.json`).
    pub name: &'a str,
    /// e.g. `6.50.0`
    pub version: &'a str,
}

impl<'a> ProviderAddr<'a> {
    /// An address `namespace/name` at `version`.
    pub const fn new(namespace: &'a str, name: &'a str, version: &'a str) -> Self {
        ProviderAddr {
            namespace,
            name,
            version,
        }
    }

    /// The `source` string for `required_providers`, e.g. `hashicorp/google`.
    pub fn source(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    fn package_dir(&self, mirror: &Path) -> PathBuf {
        mirror
            .join(REGISTRY_HOST)
            .join(self.namespace)
            .join(self.name)
            .join(self.version)
            .join(platform())
    }

    fn executable_name(&self) -> String {
        format!("terraform-provider-{}_v{}", self.name, self.version)
    }
}

/// hashicorp/google as Plinth generates it for GKE.
pub const GOOGLE: ProviderAddr<'static> = ProviderAddr::new("hashicorp", "google", "6.50.0");
/// hashicorp/azurerm as Plinth generates it for AKS.
pub const AZURERM: ProviderAddr<'static> = ProviderAddr::new("hashicorp", "azurerm", "4.51.0");
/// tehcyx/kind as Plinth generates it for kind.
pub const KIND: ProviderAddr<'static> = ProviderAddr::new("tehcyx", "kind", "0.11.0");
/// hashicorp/aws as Plinth generates it for EKS (also available as the real provider).
pub const AWS: ProviderAddr<'static> = ProviderAddr::new("hashicorp", "aws", "5.100.0");

/// Why a mirror could not be set up, in words meant for a test failure message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn io_err(what: impl fmt::Display, e: std::io::Error) -> Error {
    Error(format!("{what}: {e}"))
}

/// Terraform's platform directory name for this machine, e.g. `linux_amd64`.
fn platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{os}_{arch}")
}

/// Returns the double's binary, in this order:
/// 1. `$PLINTH_TF_DOUBLE_BIN`, if set;
/// 2. `terraform-provider-double` in the running test's target directory (e.g.
///    `target/debug/`), if it is newer than every file in this crate's `src/`: `cargo test
///    --workspace` has built it there already;
/// 3. else builds it once per process with `cargo build --bin terraform-provider-double`
///    (it needs `protoc`) and returns cargo's path for it.
///
/// Step 2 avoids a nested `cargo build`, which resolves dependency features differently from
/// `cargo test --workspace` and would rebuild the binary back and forth on every run.
///
/// Tests of this crate use `env!("CARGO_BIN_EXE_terraform-provider-double")` instead; other
/// crates' tests call this (cargo does not build other packages' binaries for them).
pub fn double_binary() -> Result<PathBuf, Error> {
    if let Some(path) = std::env::var_os(BINARY_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error(format!(
                "{BINARY_ENV} names {}, which is not a file",
                path.display()
            )))
        };
    }
    static BUILT: OnceLock<Result<PathBuf, Error>> = OnceLock::new();
    BUILT
        .get_or_init(|| prebuilt_double().map_or_else(build_double, Ok))
        .clone()
}

/// A fresh binary beside the running executable (`target/<profile>/deps/<test>`) or one
/// level up.
fn prebuilt_double() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let newest_source = newest_mtime(Path::new(env!("CARGO_MANIFEST_DIR")))?;
    exe.ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join(BINARY_NAME))
        .find(|bin| {
            std::fs::metadata(bin)
                .and_then(|m| m.modified())
                .is_ok_and(|built| built >= newest_source)
        })
}

/// The newest modification time of the crate's `src/` files (not `Cargo.toml`: editing it
/// does not always rebuild the binary, so it would make a fresh binary look stale).
fn newest_mtime(crate_dir: &Path) -> Option<std::time::SystemTime> {
    fn walk(path: &Path, newest: &mut Option<std::time::SystemTime>) {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.is_dir() {
            for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
                walk(&entry.path(), newest);
            }
        } else if let Ok(modified) = meta.modified() {
            *newest = (*newest).max(Some(modified));
        }
    }
    let mut newest = None;
    walk(&crate_dir.join("src"), &mut newest);
    newest
}

fn build_double() -> Result<PathBuf, Error> {
    let cargo = std::env::var_os("CARGO")
        .or_else(|| option_env!("CARGO").map(OsString::from))
        .unwrap_or_else(|| OsString::from("cargo"));
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let output = Command::new(&cargo)
        .arg("build")
        .arg("--manifest-path")
        .arg(&manifest)
        .args([
            "--bin",
            BINARY_NAME,
            "--message-format=json-render-diagnostics",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| io_err(format!("cannot run {}", Path::new(&cargo).display()), e))?;
    if !output.status.success() {
        return Err(Error(format!(
            "`cargo build --bin {BINARY_NAME}` failed ({}); it needs protoc \
             (apt-get install -y protobuf-compiler libprotobuf-dev), or set {BINARY_ENV}",
            output.status
        )));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == BINARY_NAME)
        .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| Error(format!("cargo built no {BINARY_NAME} executable")))
}

/// The directory of real schema dumps: `$PLINTH_TF_DOUBLE_SCHEMAS` if set, else
/// the repository's vendored `provider-schemas/`.
pub fn default_schemas_dir() -> Result<PathBuf, Error> {
    let dir = match std::env::var_os(SCHEMAS_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../provider-schemas"),
    };
    dir.canonicalize().map_err(|e| {
        io_err(
            format!(
                "provider schemas not found at {} (set {SCHEMAS_ENV})",
                dir.display()
            ),
            e,
        )
    })
}

/// The filesystem mirror of real providers that comes with the machine image (it holds the
/// real hashicorp/aws): `$PLINTH_TF_PLUGINS` if set, else the first directory named
/// `tf-plugins` at most three levels below `/` (like `find / -maxdepth 3 -type d -name
/// tf-plugins`). `None` on machines without it, e.g. a user's.
pub fn real_plugins_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(PLUGINS_ENV) {
        let dir = PathBuf::from(dir);
        return dir.is_dir().then_some(dir);
    }
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let preferred = Path::new("/opt/tf-plugins");
            if preferred.is_dir() {
                return Some(preferred.to_path_buf());
            }
            find_dir(Path::new("/"), "tf-plugins", 3)
        })
        .clone()
}

fn find_dir(dir: &Path, name: &str, depth: usize) -> Option<PathBuf> {
    if depth == 0 {
        return None;
    }
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| !matches!(p.to_str(), Some("/proc" | "/sys" | "/dev")))
        .collect();
    subdirs.sort();
    if let Some(hit) = subdirs
        .iter()
        .find(|p| p.file_name() == Some(name.as_ref()))
    {
        return Some(hit.clone());
    }
    subdirs.iter().find_map(|p| find_dir(p, name, depth - 1))
}

/// `terraform` on `PATH`, or an error saying that these tests need it.
pub fn terraform_binary() -> Result<PathBuf, Error> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("terraform"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            Error(
                "`terraform` is not on PATH: these tests run the real terraform CLI (1.11) \
                 against the provider double; install terraform 1.5 or newer"
                    .to_owned(),
            )
        })
}

/// A `terraform { required_providers { ... } }` block pinning each provider's exact version.
pub fn required_providers(providers: &[ProviderAddr<'_>]) -> String {
    let mut out = String::from("terraform {\n  required_providers {\n");
    for p in providers {
        out.push_str(&format!(
            "    {} = {{\n      source  = \"{}\"\n      version = \"{}\"\n    }}\n",
            p.name,
            p.source(),
            p.version
        ));
    }
    out.push_str("  }\n}\n");
    out
}

/// Quotes a string for HCL.
fn hcl_string(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace("${", "$${")
        .replace("%{", "%%{");
    format!("\"{escaped}\"")
}

/// Builds a [`Mirror`]; see [`Mirror::builder`].
#[derive(Debug, Default)]
pub struct MirrorBuilder {
    binary: Option<PathBuf>,
    schemas_dir: Option<PathBuf>,
    doubles: Vec<(String, String, String)>,
    real_aws: bool,
}

impl MirrorBuilder {
    /// Uses this double binary (default: [`double_binary`]).
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// Serves schemas from this directory (default: [`default_schemas_dir`]).
    pub fn schemas_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.schemas_dir = Some(dir.into());
        self
    }

    /// Installs the double under `provider` (its schema is `<provider.name>.json`).
    pub fn double(mut self, provider: ProviderAddr<'_>) -> Self {
        self.doubles.push((
            provider.namespace.to_owned(),
            provider.name.to_owned(),
            provider.version.to_owned(),
        ));
        self
    }

    /// Installs the double under each of `providers`.
    pub fn doubles(self, providers: &[ProviderAddr<'_>]) -> Self {
        providers.iter().fold(self, |b, p| b.double(*p))
    }

    /// Also links the real hashicorp/aws provider(s) from [`real_plugins_dir`] into the
    /// mirror; [`MirrorBuilder::create`] fails when that directory does not exist, so check
    /// [`real_plugins_dir`] first and skip loudly where it is missing.
    pub fn real_aws(mut self) -> Self {
        self.real_aws = true;
        self
    }

    /// Creates the mirror and CLI configuration under `root` (created if missing; use a
    /// fresh temporary directory). Installed doubles are symlinks to the binary.
    pub fn create(self, root: &Path) -> Result<Mirror, Error> {
        std::fs::create_dir_all(root).map_err(|e| io_err(root.display(), e))?;
        let root = root.canonicalize().map_err(|e| io_err(root.display(), e))?;
        let schemas_dir = match self.schemas_dir {
            Some(dir) => dir
                .canonicalize()
                .map_err(|e| io_err(format!("schemas directory {}", dir.display()), e))?,
            None => default_schemas_dir()?,
        };
        let mirror_dir = root.join("mirror");
        std::fs::create_dir_all(&mirror_dir).map_err(|e| io_err(mirror_dir.display(), e))?;

        if !self.doubles.is_empty() {
            let binary = match self.binary {
                Some(b) => b,
                None => double_binary()?,
            };
            let binary = binary
                .canonicalize()
                .map_err(|e| io_err(format!("double binary {}", binary.display()), e))?;
            for (ns, name, version) in &self.doubles {
                let addr = ProviderAddr::new(ns, name, version);
                let dir = addr.package_dir(&mirror_dir);
                std::fs::create_dir_all(&dir).map_err(|e| io_err(dir.display(), e))?;
                let exe = dir.join(addr.executable_name());
                link(&binary, &exe)?;
            }
        }

        let mut real_aws = None;
        if self.real_aws {
            let plugins = real_plugins_dir().ok_or_else(|| {
                Error(format!(
                    "the real providers' mirror (a `tf-plugins` directory, or {PLUGINS_ENV}) \
                     is not on this machine"
                ))
            })?;
            let versions = plugins.join(REGISTRY_HOST).join("hashicorp").join("aws");
            let target = mirror_dir.join(REGISTRY_HOST).join("hashicorp").join("aws");
            link_tree(&versions, &target)?;
            real_aws = Some(versions);
        }

        let cli_config = root.join("terraform.rc");
        let text = format!(
            "# Written by tf-double: only the private mirror, never the network.\n\
             disable_checkpoint = true\n\n\
             provider_installation {{\n  filesystem_mirror {{\n    path = {}\n  }}\n}}\n",
            hcl_string(&mirror_dir.to_string_lossy())
        );
        std::fs::write(&cli_config, text).map_err(|e| io_err(cli_config.display(), e))?;

        Ok(Mirror {
            mirror_dir,
            cli_config,
            schemas_dir,
            real_aws,
        })
    }
}

/// Recreates the directories of `from` under `to` and links every file: terraform follows
/// symlinked files in a mirror, but not symlinked directories.
fn link_tree(from: &Path, to: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(to).map_err(|e| io_err(to.display(), e))?;
    let entries = std::fs::read_dir(from).map_err(|e| io_err(from.display(), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_err(from.display(), e))?;
        let (src, dest) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            link_tree(&src, &dest)?;
        } else if dest.exists() {
            return Err(Error(format!(
                "{} would be both a double and a real provider",
                dest.display()
            )));
        } else {
            link(&src, &dest)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn link(target: &Path, link: &Path) -> Result<(), Error> {
    std::os::unix::fs::symlink(target, link)
        .map_err(|e| io_err(format!("linking {}", link.display()), e))
}

#[cfg(not(unix))]
fn link(target: &Path, link: &Path) -> Result<(), Error> {
    std::fs::copy(target, link)
        .map(|_| ())
        .map_err(|e| io_err(format!("copying to {}", link.display()), e))
}

/// The Go garbage collector's target for terraform and the providers it starts: every
/// command starts the real aws provider (a 700 MB binary) up to four times, and each start
/// builds its whole schema; collecting less often cuts that CPU time by about a fifth for
/// about 180 MB more memory per provider (measured: `terraform plan` of an EKS root against
/// moto, 10.1 s → 7.8 s of CPU). It changes when memory is freed, nothing terraform or a provider does.
pub const GOGC: &str = "400";

/// A private provider mirror plus the CLI configuration and environment that make terraform
/// install providers from it only.
#[derive(Debug, Clone)]
pub struct Mirror {
    mirror_dir: PathBuf,
    cli_config: PathBuf,
    schemas_dir: PathBuf,
    real_aws: Option<PathBuf>,
}

impl Mirror {
    /// Starts describing a mirror: add providers with [`MirrorBuilder::double`], then
    /// [`MirrorBuilder::create`] it.
    pub fn builder() -> MirrorBuilder {
        MirrorBuilder::default()
    }

    /// The environment terraform needs: `TF_CLI_CONFIG_FILE`, `CHECKPOINT_DISABLE=1`,
    /// `TF_IN_AUTOMATION=1`, `TF_INPUT=0` and `PLINTH_TF_DOUBLE_SCHEMAS` (which terraform
    /// passes on to the double), and [`GOGC`] for terraform and its providers.
    pub fn env(&self) -> Vec<(&'static str, OsString)> {
        vec![
            ("GOGC", GOGC.into()),
            (
                "TF_CLI_CONFIG_FILE",
                self.cli_config.clone().into_os_string(),
            ),
            ("CHECKPOINT_DISABLE", "1".into()),
            ("TF_IN_AUTOMATION", "1".into()),
            ("TF_INPUT", "0".into()),
            (SCHEMAS_ENV, self.schemas_dir.clone().into_os_string()),
        ]
    }

    /// Sets [`Mirror::env`] on `cmd`, and removes the variables through which a user's own
    /// settings could leak in (`TF_PLUGIN_CACHE_DIR`, `TF_WORKSPACE`, `TF_CLI_ARGS*`).
    pub fn apply_env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        for (key, _) in std::env::vars_os() {
            if key.to_str().is_some_and(|k| k.starts_with("TF_CLI_ARGS")) {
                cmd.env_remove(key);
            }
        }
        cmd.env_remove("TF_PLUGIN_CACHE_DIR")
            .env_remove("TF_WORKSPACE");
        cmd.envs(self.env())
    }

    /// `terraform` (from `PATH`) to run in `dir`, with [`Mirror::apply_env`] applied.
    pub fn terraform(&self, dir: &Path) -> Command {
        let mut cmd = Command::new("terraform");
        cmd.current_dir(dir).stdin(Stdio::null());
        self.apply_env(&mut cmd);
        cmd
    }

    /// The mirror directory (`<root>/mirror`).
    pub fn mirror_dir(&self) -> &Path {
        &self.mirror_dir
    }

    /// The CLI configuration file (`<root>/terraform.rc`).
    pub fn cli_config_file(&self) -> &Path {
        &self.cli_config
    }

    /// The directory the double loads schemas from.
    pub fn schemas_dir(&self) -> &Path {
        &self.schemas_dir
    }

    /// Where the real hashicorp/aws versions were linked from, if requested.
    pub fn real_aws_dir(&self) -> Option<&Path> {
        self.real_aws.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_the_mirror_and_cli_config() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let fake_binary = tmp.path().join("bin");
        std::fs::write(&fake_binary, b"#!/bin/sh\n").expect("write binary");
        let mirror = Mirror::builder()
            .binary(&fake_binary)
            .schemas_dir(tmp.path())
            .doubles(&[GOOGLE, KIND])
            .create(&tmp.path().join("tf"))
            .expect("mirror");
        let exe = mirror
            .mirror_dir()
            .join("registry.terraform.io/tehcyx/kind/0.11.0")
            .join(platform())
            .join("terraform-provider-kind_v0.11.0");
        assert!(exe.is_file(), "{}", exe.display());
        let rc = std::fs::read_to_string(mirror.cli_config_file()).expect("cli config");
        assert!(rc.contains("disable_checkpoint = true"), "{rc}");
        assert!(rc.contains("filesystem_mirror"), "{rc}");
        assert!(!rc.contains("direct"), "{rc}");
        let env = mirror.env();
        assert!(
            env.iter()
                .any(|(k, v)| *k == "CHECKPOINT_DISABLE" && v == "1")
        );
        assert!(env.iter().any(|(k, _)| *k == SCHEMAS_ENV));
    }

    #[test]
    fn writes_required_providers() {
        let block = required_providers(&[AZURERM]);
        assert!(block.contains("azurerm = {"), "{block}");
        assert!(block.contains("source  = \"hashicorp/azurerm\""), "{block}");
        assert!(block.contains("version = \"4.51.0\""), "{block}");
    }

    #[test]
    fn quotes_hcl_strings() {
        assert_eq!(hcl_string(r#"a"b\c${x}"#), r#""a\"b\\c$${x}""#);
    }
}
