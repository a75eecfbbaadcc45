//! Output: data on stdout, everything else (status, warnings, errors) on stderr; colours only
//! on a terminal; diagnostics rendered by miette with file, line, column and the text underlined.

use crate::cli::{ColorChoice, GlobalArgs};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use plinth_core::diagnostic::{Diagnostic, Severity};
use plinth_core::source::{FileId, SourceMap};
use std::fmt;
use std::io::{IsTerminal, Write};

pub struct Ui {
    pub color: bool,
    pub quiet: bool,
    pub verbose: u8,
    width: usize,
}

impl Ui {
    pub fn new(g: &GlobalArgs) -> Ui {
        let tty = std::io::stderr().is_terminal();
        let color = match g.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        };
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100);
        Ui {
            color,
            quiet: g.quiet,
            verbose: g.verbose,
            width,
        }
    }

    /// Data for scripts and readers, on stdout. A closed pipe ends the program quietly.
    pub fn data(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        exit_on_broken_pipe(out.write_all(text.as_bytes()).and_then(|()| out.flush()));
    }

    /// One JSON document on stdout, written as it is serialized (no copy of it in memory).
    pub fn json<T: serde::Serialize + ?Sized>(&self, value: &T) {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        exit_on_broken_pipe(
            serde_json::to_writer_pretty(&mut out, value)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
                .and_then(|()| out.flush()),
        );
    }

    /// Progress and results for people, on stderr; silent with `--quiet`.
    pub fn status(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    pub fn debug(&self, text: &str) {
        if self.verbose > 0 {
            eprintln!("{}", self.dim(text));
        }
    }

    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }

    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }

    pub fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }

    pub fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }

    pub fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }

    pub fn cyan(&self, s: &str) -> String {
        self.paint("36", s)
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    /// Renders diagnostics to stderr (warnings are skipped with `--quiet`).
    pub fn diagnostics<'a>(
        &self,
        sources: &SourceMap,
        diags: impl IntoIterator<Item = &'a Diagnostic>,
    ) {
        let theme = if self.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(self.width)
            .with_links(false);
        let mut out = String::new();
        for d in diags {
            if self.quiet && d.severity == Severity::Warning {
                continue;
            }
            let rendered = Rendered::new(sources, d);
            let _ = handler.render_report(&mut out, &rendered);
        }
        eprint!("{out}");
    }

    /// One warning without a file position (skipped with `--quiet`), with an optional hint.
    pub fn warn(&self, message: &str, hint: Option<&str>) {
        let d = Diagnostic::warning("warning", message).maybe_hint(hint.map(String::from));
        self.diagnostics(&SourceMap::default(), [&d]);
    }

    /// One error without a file position, miette-styled, with an optional hint.
    pub fn error(&self, message: &str, hint: Option<&str>) {
        let d = Diagnostic::error("error", message).maybe_hint(hint.map(String::from));
        self.diagnostics(&SourceMap::default(), [&d]);
    }
}

/// A plinth diagnostic as miette wants it: labels in the primary file inline, labels in other
/// files as related reports with their own source.
#[derive(Debug)]
struct Rendered {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Rendered>,
}

impl Rendered {
    fn new(sources: &SourceMap, d: &Diagnostic) -> Rendered {
        let severity = match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        };
        let mut files: Vec<FileId> = Vec::new();
        for l in &d.labels {
            if !files.contains(&l.file) {
                files.push(l.file);
            }
        }
        let labels_in = |f: FileId| -> Vec<LabeledSpan> {
            d.labels
                .iter()
                .filter(|l| l.file == f)
                .map(|l| {
                    let len = (l.span.end.saturating_sub(l.span.start)) as usize;
                    LabeledSpan::new(
                        Some(l.text.clone()).filter(|t| !t.is_empty()),
                        l.span.start as usize,
                        len,
                    )
                })
                .collect()
        };
        let source_of = |f: FileId| {
            sources
                .get(f)
                .map(|s| NamedSource::new(s.name.clone(), s.text.clone()))
        };
        let mut message = d.message.clone();
        if d.labels.is_empty()
            && let Some(p) = &d.path
        {
            message = format!("{message}\n  at {p}");
        }
        let related = files
            .iter()
            .skip(1)
            .map(|f| Rendered {
                message: "related".into(),
                code: String::new(),
                severity: miette::Severity::Advice,
                help: None,
                source: source_of(*f),
                labels: labels_in(*f),
                related: Vec::new(),
            })
            .collect();
        Rendered {
            message,
            code: d.code.to_string(),
            severity,
            help: d.hint.clone(),
            source: files.first().and_then(|f| source_of(*f)),
            labels: files.first().map(|f| labels_in(*f)).unwrap_or_default(),
            related,
        }
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty() && self.code != "error")
            .then(|| Box::new(format!("plinth::{}", self.code)) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

/// A reader that stopped reading (`plinth show | head`) is not an error: exit quietly.
fn exit_on_broken_pipe(written: std::io::Result<()>) {
    if let Err(e) = written
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}
