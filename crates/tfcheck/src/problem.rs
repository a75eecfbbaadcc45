//! What the checker reports: [`Problem`]s found in the HCL, and [`Error`]s that stop it.

use std::fmt;
use std::path::PathBuf;

/// How serious a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Terraform (or the provider's schema) would reject the configuration.
    Error,
    /// Accepted, but almost certainly not what was meant (deprecated arguments, object keys
    /// that Terraform silently discards).
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One finding in a `.tf` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The `.tf` file, as reached from the root directory given to [`crate::check_dir`].
    pub file: PathBuf,
    /// 1-based line of the offending attribute, block or value.
    pub line: usize,
    /// 1-based column (in characters) of the offending attribute, block or value.
    pub column: usize,
    /// Error or warning.
    pub severity: Severity,
    /// Address of the top-level block the problem is in, e.g.
    /// `resource.google_container_cluster.this`, `data.aws_iam_policy_document.assume`,
    /// `provider.azurerm` or `module.cluster`.
    pub address: String,
    /// What is wrong, e.g. `unsupported argument "nmae"; did you mean "name"?`.
    pub message: String,
}

impl Problem {
    /// Whether this problem is an [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.severity,
            self.address,
            self.message
        )
    }
}

/// Why checking could not run at all (as opposed to [`Problem`]s it found).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A schema file is not JSON.
    #[error("{} is not valid JSON: {source}", path.display())]
    Json {
        /// The schema file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// A schema file is JSON but not in `terraform providers schema -json` format.
    #[error("{}: not a provider schema dump: {message}", path.display())]
    Schema {
        /// The schema file.
        path: PathBuf,
        /// What was wrong, with the JSON location.
        message: String,
    },
    /// A `.tf` file is not valid HCL.
    #[error("{}:{line}:{column}: HCL syntax error: {message}", path.display())]
    Parse {
        /// The `.tf` file.
        path: PathBuf,
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
        /// The parser's message.
        message: String,
    },
}
