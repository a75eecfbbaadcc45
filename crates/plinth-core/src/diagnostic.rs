//! Problems found in a platform definition, with where they are and how to fix them.
//!
//! The library never prints: it collects [`Diagnostic`]s so `validate` can report every problem
//! at once, and the CLI decides how to render them (graphical, plain or JSON).

use crate::source::{FileId, SourceMap, Span};
use crate::value::Origin;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A place in a file that a diagnostic points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub text: String,
}

/// One problem: a stable code, a message, the places involved (primary first) and a hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable identifier such as `unknown-key`, for scripts and documentation.
    pub code: &'static str,
    pub message: String,
    pub labels: Vec<Label>,
    /// A file the problem is about when no position inside it applies (unreadable file).
    pub path: Option<String>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            labels: Vec::new(),
            path: None,
            hint: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Points at `span` in `file`; the first label is the primary one.
    pub fn label(mut self, file: FileId, span: Span, text: impl Into<String>) -> Diagnostic {
        if file != FileId::BUILTIN {
            self.labels.push(Label {
                file,
                span,
                text: text.into(),
            });
        }
        self
    }

    /// Points at a value's text.
    pub fn at_value(self, origin: Origin, text: impl Into<String>) -> Diagnostic {
        self.label(origin.file, origin.value, text)
    }

    /// Points at the key that introduced a value.
    pub fn at_key(self, origin: Origin, text: impl Into<String>) -> Diagnostic {
        self.label(origin.file, origin.key, text)
    }

    pub fn path(mut self, path: impl Into<String>) -> Diagnostic {
        self.path = Some(path.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn maybe_hint(mut self, hint: Option<String>) -> Diagnostic {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column` of the primary label, or the bare path.
    pub fn location(&self, sources: &SourceMap) -> Option<String> {
        match self.labels.first() {
            Some(l) => {
                let lc = sources.line_col(l.file, l.span.start)?;
                Some(format!(
                    "{}:{}:{}",
                    sources.name(l.file),
                    lc.line,
                    lc.column
                ))
            }
            None => self.path.clone(),
        }
    }

    /// A JSON form for `--output json`, with positions resolved to lines and columns.
    pub fn to_json(&self, sources: &SourceMap) -> serde_json::Value {
        let labels: Vec<_> = self
            .labels
            .iter()
            .map(|l| {
                let lc = sources.line_col(l.file, l.span.start);
                serde_json::json!({
                    "file": sources.name(l.file),
                    "line": lc.map(|x| x.line),
                    "column": lc.map(|x| x.column),
                    "text": l.text,
                })
            })
            .collect();
        let primary = labels.first().cloned();
        serde_json::json!({
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": primary.as_ref().map(|p| p["file"].clone()).or(self.path.clone().map(Into::into)),
            "line": primary.as_ref().map(|p| p["line"].clone()),
            "column": primary.as_ref().map(|p| p["column"].clone()),
            "hint": self.hint,
            "labels": labels,
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The problems one operation found, in the order found.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Sorted by file and position so output is stable whatever order checks ran in.
    pub fn sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by_key(|d| {
            let (f, s) = d
                .labels
                .first()
                .map_or((FileId(0), 0), |l| (l.file, l.span.start));
            (std::cmp::Reverse(d.severity), f, s)
        });
        self.items.dedup();
        self.items
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// The closest candidate to `input`, for "did you mean" hints.
///
/// Accepts a candidate within an edit distance of a third of the input's length (at least one
/// edit, at most four), or one that only differs in case or `-`/`_`: closer guesses would be
/// noise, further ones rarely right.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    let input_n = norm(input);
    let input_len = input.chars().count();
    let limit = (input_len / 3).clamp(1, 4);
    candidates
        .into_iter()
        .filter_map(|c| {
            let d = if norm(c) == input_n {
                0
            } else if input_len.abs_diff(c.chars().count()) > limit {
                // The distance is at least the difference in length: no need to compute it
                // (which takes time in proportion to the input's length, a megabyte or more).
                limit + 1
            } else {
                strsim::osa_distance(&input_n, &norm(c))
            };
            // Prefix matches ("instance_type" for "instance_types") and whole `-`/`_`-separated
            // parts ("nginx" for "ingress-nginx") count as close.
            let part = || norm(c).split('_').any(|p| p == input_n);
            let d = if d > limit
                && input.len() > 3
                && (c.starts_with(input) || input.starts_with(c) || part())
            {
                limit
            } else {
                d
            };
            (d <= limit).then_some((d, c))
        })
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// A "did you mean" hint sentence, or a list of what is allowed when nothing is close.
pub fn suggest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<String> {
    if let Some(best) = did_you_mean(input, candidates.clone()) {
        return Some(format!("did you mean `{best}`?"));
    }
    let all: Vec<&str> = candidates.into_iter().collect();
    if all.is_empty() {
        None
    } else if all.len() <= 12 {
        Some(format!(
            "expected one of: {}",
            all.iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else {
        Some("run `plinth schema` or see the configuration reference for the accepted keys".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        let keys = ["instance_types", "min_size", "max_size", "disk_size"];
        assert_eq!(did_you_mean("instance_type", keys), Some("instance_types"));
        assert_eq!(did_you_mean("min-size", keys), Some("min_size"));
        assert_eq!(did_you_mean("MAX_SIZE", keys), Some("max_size"));
        assert_eq!(did_you_mean("zzz", keys), None);
        assert_eq!(did_you_mean("availability", keys), None);
        let catalog = ["ingress-nginx", "cert-manager", "external-dns"];
        assert_eq!(did_you_mean("nginx", catalog), Some("ingress-nginx"));
        assert_eq!(
            did_you_mean("dns", catalog),
            None,
            "too short to guess from"
        );
    }
}
