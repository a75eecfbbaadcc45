//! The files a platform definition was read from, and positions inside them.
//!
//! Every value Plinth reads remembers the file and byte range it came from, so a diagnostic or
//! `show --explain` can point at the exact text, long after parsing.

use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

impl FileId {
    /// Marks values that come from Plinth itself (documented defaults), not from a file.
    pub const BUILTIN: FileId = FileId(u32::MAX);
}

/// A byte range in a file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub const EMPTY: Span = Span { start: 0, end: 0 };

    pub fn new(range: std::ops::Range<usize>) -> Span {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span {
            start: clamp(range.start),
            end: clamp(range.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One file of the definition: where it lives and what it says.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path as shown to the user: relative to the platform directory where possible.
    pub name: String,
    /// Absolute or caller-given path on disk.
    pub path: PathBuf,
    /// Text of the file (lossily decoded if it was not UTF-8, so positions can still be shown).
    pub text: String,
    /// Byte offset of each line's start, built on first use: a position is then found in
    /// logarithmic time, so thousands of diagnostics in one file cost linear time, not
    /// quadratic.
    lines: std::sync::OnceLock<Vec<usize>>,
    /// Spans never shown in a snippet: the values of `{ sensitive = true, value = ... }`, and
    /// credentials the lint found.
    redacted: Vec<Span>,
    /// The text with those spans masked, built on first use.
    shown: std::sync::OnceLock<String>,
}

impl SourceFile {
    /// The text as diagnostics may show it: redacted spans replaced by `*`, byte for byte, so
    /// every position stays where it was.
    pub fn shown(&self) -> &str {
        if self.redacted.is_empty() {
            return &self.text;
        }
        self.shown.get_or_init(|| {
            let mut bytes = self.text.clone().into_bytes();
            for span in &self.redacted {
                let end = (span.end as usize).min(bytes.len());
                for b in bytes.get_mut(span.start as usize..end).unwrap_or_default() {
                    *b = b'*';
                }
            }
            // A span cut inside a multi-byte character (never by the loader) still yields text.
            String::from_utf8_lossy(&bytes).into_owned()
        })
    }

    /// Byte offsets where lines start (the first is 0).
    pub fn line_starts(&self) -> &[usize] {
        self.lines.get_or_init(|| {
            std::iter::once(0)
                .chain(memchr_lines(self.text.as_bytes()))
                .collect()
        })
    }

    /// 0-based index of the line holding byte `offset`.
    pub fn line_index(&self, offset: usize) -> usize {
        self.line_starts()
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// 1-based line and column (in characters) of byte `offset`.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let text = &self.text;
        let mut cut = offset.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let line = self.line_index(cut);
        let start = self.line_starts()[line];
        LineCol {
            line: line + 1,
            column: text[start..cut].chars().count() + 1,
        }
    }
}

/// Offsets just after each `\n`.
fn memchr_lines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
}

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// All files read for one platform. Cloning shares the files' text (a definition may be tens
/// of megabytes, and the platform, the checks and the CLI each keep the map).
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<std::sync::Arc<SourceFile>>,
}

impl SourceMap {
    pub fn add(&mut self, name: String, path: PathBuf, text: String) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX - 1));
        self.files.push(std::sync::Arc::new(SourceFile {
            name,
            path,
            text,
            lines: std::sync::OnceLock::new(),
            redacted: Vec::new(),
            shown: std::sync::OnceLock::new(),
        }));
        id
    }

    /// The id of a file already read from `path`, if any.
    pub fn find_path(&self, path: &Path) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.path == path)
            .map(|i| FileId(i as u32))
    }

    /// The id of the file at `path` (absolute), reading it (as definition files are read) the
    /// first time; named relative to the platform `root`. `None` when it cannot be read.
    pub fn find_or_read(&mut self, root: &Path, path: &Path) -> Option<FileId> {
        if let Some(id) = self.find_path(path) {
            return Some(id);
        }
        let text = crate::fsutil::read_text(path).ok()?;
        let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let name = if path.starts_with(&real_root) {
            display_path(path, &real_root)
        } else {
            display_path(path, root)
        };
        Some(self.add(name, path.to_path_buf(), text))
    }

    /// Marks `span` of `file` as never to be shown (a sensitive value written in the file).
    pub fn redact(&mut self, file: FileId, span: Span) {
        if let Some(f) = self.files.get_mut(file.0 as usize) {
            // Shared with clones of the map: the copy that redacts is this map's own.
            let f = std::sync::Arc::make_mut(f);
            f.redacted.push(span);
            f.shown = std::sync::OnceLock::new();
        }
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize).map(|f| &**f)
    }

    pub fn name(&self, id: FileId) -> &str {
        match self.get(id) {
            Some(f) => &f.name,
            None => "<built-in default>",
        }
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), &**f))
    }

    /// Line and column of a byte offset, for messages and JSON diagnostics.
    pub fn line_col(&self, id: FileId, offset: u32) -> Option<LineCol> {
        Some(self.get(id)?.line_col(offset as usize))
    }

    /// The text a span covers, for messages.
    pub fn snippet(&self, id: FileId, span: Span) -> Option<&str> {
        self.get(id)?.text.get(span.range())
    }
}

/// 1-based line and column of `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> LineCol {
    let offset = offset.min(text.len());
    let mut cut = offset;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let before = &text[..cut];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    LineCol { line, column }
}

/// Shows `path` relative to `base` when it lies inside it.
pub fn display_path(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let text = "ab\ncé=1\n";
        assert_eq!(line_col(text, 0), LineCol { line: 1, column: 1 });
        assert_eq!(line_col(text, 3), LineCol { line: 2, column: 1 });
        // 'é' is two bytes; the '=' after it is the third character.
        assert_eq!(line_col(text, 6), LineCol { line: 2, column: 3 });
        // An offset inside a multi-byte character snaps back to its start.
        assert_eq!(line_col(text, 5), LineCol { line: 2, column: 2 });
        assert_eq!(line_col(text, 999), LineCol { line: 3, column: 1 });
    }

    proptest::proptest! {
        /// The indexed lookup agrees with the scan everywhere, for any text.
        #[test]
        fn indexed_line_col_matches_the_scan(text in "[a-cé\n\r]{0,40}", offset in 0usize..60) {
            let mut map = SourceMap::default();
            let id = map.add("f".into(), "f".into(), text.clone());
            proptest::prop_assert_eq!(map.line_col(id, offset as u32), Some(line_col(&text, offset)));
        }
    }
}
