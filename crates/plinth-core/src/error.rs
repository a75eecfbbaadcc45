//! Operational errors (file system, bad requests). Problems *in* a definition are
//! [`Diagnostic`](crate::Diagnostic)s instead, so they can be collected and shown together.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file system operation failed.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A target directory that must be new already has content.
    #[error("`{}` already exists and is not empty", .0.display())]
    NotEmpty(PathBuf),
    /// A request that cannot be carried out as asked (unknown cluster, last environment, ...).
    #[error("{message}")]
    Refused {
        message: String,
        hint: Option<String>,
    },
    /// The definition has errors; the diagnostics say which.
    #[error("the platform definition has errors")]
    Invalid(Box<crate::Checked>),
}

impl Error {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn refused(message: impl Into<String>, hint: impl Into<Option<String>>) -> Error {
        Error::Refused {
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
                Some("check the file's permissions".into())
            }
            Error::Io { .. } | Error::Invalid(_) => None,
            Error::NotEmpty(_) => Some("choose a new directory, or empty this one first".into()),
            Error::Refused { hint, .. } => hint.clone(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
