//! Output: data on stdout, everything else (status, warnings, errors) on stderr; colours only
//! on a terminal; diagnostics rendered by miette with file, line, column and the text underlined.

use crate::cli::{ColorChoice, GlobalArgs};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceSpan, SpanContents,
};
use plinth_core::diagnostic::{Diagnostic, Severity};
use plinth_core::source::{FileId, SourceFile, SourceMap};
use std::collections::BTreeMap;
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

    /// A JSON document on stdout written by `write` (which streams it), then a newline.
    pub fn json_with(&self, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        exit_on_broken_pipe(
            write(&mut out)
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

    /// Renders diagnostics to stderr (warnings are skipped with `--quiet`). After
    /// [`SHOWN_PER_FILE`] of one file, the rest of that file's are counted in one line instead
    /// (`-v` shows them all; `--output json` always lists every one).
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
        let mut shown: BTreeMap<Option<FileId>, usize> = BTreeMap::new();
        let mut hidden: BTreeMap<Option<FileId>, (usize, usize)> = BTreeMap::new();
        let mut err = std::io::stderr().lock();
        for d in diags {
            if self.quiet && d.severity == Severity::Warning {
                continue;
            }
            let file = d.labels.first().map(|l| l.file);
            let n = shown.entry(file).or_default();
            if *n >= SHOWN_PER_FILE && self.verbose == 0 {
                let h = hidden.entry(file).or_default();
                match d.severity {
                    Severity::Error => h.0 += 1,
                    Severity::Warning => h.1 += 1,
                }
                continue;
            }
            *n += 1;
            let mut out = String::new();
            let _ = handler.render_report(&mut out, &Rendered::new(sources, d));
            if err.write_all(out.as_bytes()).is_err() {
                return;
            }
        }
        for (file, (errors, warnings)) in hidden {
            let what = [(errors, "error"), (warnings, "warning")]
                .iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, w)| format!("{n} more {w}{}", if *n == 1 { "" } else { "s" }))
                .collect::<Vec<_>>()
                .join(" and ");
            let place = file.map_or_else(String::new, |f| format!(" in {}", sources.name(f)));
            let _ = writeln!(
                err,
                "  … {what}{place} not shown (`-v` shows them all, `--output json` lists them)"
            );
        }
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

/// Diagnostics rendered in full per file before the rest are only counted.
pub const SHOWN_PER_FILE: usize = 50;

/// A file as miette reads it: only the lines around a span, found through the file's line
/// index. miette's own `SourceCode` for text scans from the start of the file for every
/// diagnostic, which made thousands of diagnostics in one file take quadratic time.
struct Window<'s>(&'s SourceFile);

impl fmt::Debug for Window<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.name)
    }
}

impl miette::SourceCode for Window<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let file = self.0;
        // Sensitive values and credentials are masked, byte for byte.
        let text = file.shown().as_bytes();
        if span.offset() > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let starts = file.line_starts();
        let end = (span.offset() + span.len())
            .saturating_sub(1)
            .max(span.offset());
        let first = file.line_index(span.offset()).saturating_sub(before);
        let last = file.line_index(end) + after + 1;
        let from = starts[first];
        let to = starts.get(last).copied().unwrap_or(text.len());
        let inner = <[u8] as miette::SourceCode>::read_span(
            &text[from..to],
            &SourceSpan::new((span.offset() - from).into(), span.len()),
            before,
            after,
        )?;
        Ok(Box::new(MietteSpanContents::new_named(
            file.name.clone(),
            inner.data(),
            SourceSpan::new((inner.span().offset() + from).into(), inner.span().len()),
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
        )))
    }
}

/// A plinth diagnostic as miette wants it: labels in the primary file inline, labels in other
/// files as related reports with their own source.
#[derive(Debug)]
struct Rendered<'s> {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<Window<'s>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Rendered<'s>>,
}

impl<'s> Rendered<'s> {
    fn new(sources: &'s SourceMap, d: &Diagnostic) -> Rendered<'s> {
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
        let source_of = |f: FileId| sources.get(f).map(Window);
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

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
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
