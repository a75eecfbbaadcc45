//! TOML text to values, one table header at a time.
//!
//! `toml`'s own document (`DeTable`) holds every token, every parser event and a B-tree node
//! per table of the whole file at once: about 45 times the text at its peak (67 MB for a
//! 1.5 MB definition). This reads the same grammar with the same lexer and parser
//! (`toml_parser`, which `toml` is built on), but hands the parser the lines of one table
//! header at a time and builds Plinth's values straight from its events, so reading costs
//! little more than the values it makes.
//!
//! Only valid files are read here. Tables follow `toml`'s rules (implicit, dotted, inline,
//! arrays of tables); on anything else — a syntax error, a key defined twice, a date — [`read`]
//! answers `None` and the caller reads the file with `toml` itself, whose messages Plinth
//! reports. A test holds the two readers to the same values and positions.

use crate::diagnostic::Diagnostics;
use crate::source::{FileId, Span};
use crate::value::{self, Kind, Origin, Str, Table, Value};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use toml_parser::decoder::ScalarKind;
use toml_parser::lexer::{Token, TokenKind};
use toml_parser::parser::{Event, EventKind, RecursionGuard, ValidateWhitespace};
use toml_parser::{ErrorSink, ParseError, Source};

/// FNV-1a: keys are short and come from the user's own files (no need for SipHash's defence
/// against crafted collisions), and hashing every key read was a tenth of reading.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FastHash = BuildHasherDefault<Fnv>;

/// `toml`'s limit on nesting (arrays and inline tables) and on the parts of a dotted key.
const DEPTH_LIMIT: u32 = 80;

/// Files smaller than this are read in one piece: finding where to split costs a pass of the
/// lexer (a tenth of reading), which only pays off when each core gets enough to read.
const SPLIT_FROM: usize = 256 * 1024;

/// Reads a valid TOML document into values with origins; `None` when `toml` must read it
/// (the file is invalid, or uses something only `toml` handles, such as dates).
///
/// A large file is read in pieces, one per core, each starting at a table header: reading
/// was a third of `plinth show` on a 1.5 MB definition, on one core (issue 20).
pub(crate) fn read(file: FileId, text: &str, diags: &mut Diagnostics) -> Option<Table> {
    let threads = rayon::current_num_threads();
    let root = if text.len() < SPLIT_FROM || threads < 2 {
        read_piece(text, 0)
    } else {
        read_pieces(text, &pieces(text, threads))
    };
    root.map(|root| root.into_table(file, diags))
}

/// Reads each piece of `text` on its own, then puts the pieces' tables together in order.
fn read_pieces(text: &str, pieces: &[std::ops::Range<usize>]) -> Option<Node> {
    use rayon::prelude::*;
    let roots: Vec<Option<Node>> = pieces
        .par_iter()
        .map(|r| read_piece(text.get(r.clone())?, r.start))
        .collect();
    let mut roots = roots.into_iter();
    let mut root = roots.next()??;
    for piece in roots {
        merge_children(&mut root, piece?).ok()?;
    }
    Some(root)
}

/// Whether `token` starts a table header: a `[` first on its line, outside any array or inline
/// table. `depth` and `line_start` carry what the tokens before it said.
fn starts_header(token: &Token, depth: &mut i64, line_start: &mut bool) -> bool {
    let kind = token.kind();
    let header = kind == TokenKind::LeftSquareBracket && *line_start && *depth == 0;
    match kind {
        TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => *depth += 1,
        TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => *depth -= 1,
        _ => {}
    }
    *line_start = match kind {
        TokenKind::Newline => true,
        TokenKind::Whitespace => *line_start,
        _ => false,
    };
    header
}

/// Splits `text` into up to `want` pieces of about equal length, each after the first starting
/// at a table header (found with the same rule the reader splits its runs by).
fn pieces(text: &str, want: usize) -> Vec<std::ops::Range<usize>> {
    let mut starts = vec![0];
    let mut depth = 0i64;
    let mut line_start = true;
    let step = text.len().div_ceil(want.max(1)).max(1);
    for token in Source::new(text).lex() {
        let at = token.span().start();
        if starts_header(&token, &mut depth, &mut line_start)
            && at >= starts.last().copied().unwrap_or(0) + step
        {
            starts.push(at);
        }
    }
    let mut ends: Vec<usize> = starts.iter().skip(1).copied().collect();
    ends.push(text.len());
    starts.into_iter().zip(ends).map(|(s, e)| s..e).collect()
}

/// Reads one piece of a document (the whole of it, or from a table header on) into its tree;
/// `offset` is where the piece starts in the file, so positions are the file's.
fn read_piece(text: &str, offset: usize) -> Option<Node> {
    let source = Source::new(text);
    let mut doc = Document::new(source, offset);
    let mut tokens: Vec<Token> = Vec::new();
    let mut events: Vec<Event> = Vec::new();
    let mut depth = 0i64;
    let mut line_start = true;
    for token in source.lex() {
        // A table header: the parser sees the lines before it as a document of their own.
        if starts_header(&token, &mut depth, &mut line_start) && !tokens.is_empty() {
            doc.parse(&tokens, &mut events).ok()?;
            tokens.clear();
        }
        tokens.push(token);
    }
    doc.parse(&tokens, &mut events).ok()?;
    doc.finish_table().ok()?;
    Some(doc.root)
}

/// Adds the tables a later piece read to the ones the pieces before it read, where reading them
/// in one go would give the same: tables created by paths (of headers, or of dotted keys on one
/// side), a table defined by a header on one side only where the other side's is a header
/// path's, and arrays of tables continued. Anything else (an inline table meeting a header, a
/// dotted key reaching into a header's table, a table defined twice) is left to `toml`, whose
/// reader is the reference: slower, never different.
fn merge_children(into: &mut Node, from: Node) -> Step {
    for entry in from.entries {
        match into.find(&entry.key.name) {
            None => {
                into.push(entry.key, entry.slot);
            }
            Some(i) => merge_entry(&mut into.entries[i], entry)?,
        }
    }
    Ok(())
}

fn merge_entry(into: &mut Entry, from: Entry) -> Step {
    match (&mut into.slot.item, from.slot.item) {
        (Item::Table(a), Item::Table(b)) => {
            if a.inline || b.inline {
                return Err(Fallback);
            }
            match (a.implicit, b.implicit) {
                // Both made by paths: a header's path goes through a table dotted keys made
                // (and dotted keys into one a header's path made), which stays dotted. Both
                // made by dotted keys would need both pieces' bodies in one table.
                (true, true) if !(a.dotted && b.dotted) => a.dotted |= b.dotted,
                // A later header's path through a table an earlier header defined.
                (false, true) if !b.dotted => {}
                // Defined by the later piece's header, filling a table only header paths made:
                // the header's key and position, as when one reading fills it.
                (true, false) if !a.dotted => {
                    a.implicit = false;
                    into.key = from.key;
                    into.slot.span = from.slot.span;
                }
                _ => return Err(Fallback),
            }
            merge_children(a, b)
        }
        (
            Item::Array {
                items,
                of_tables: true,
            },
            Item::Array {
                items: more,
                of_tables: true,
            },
        ) => {
            items.extend(more);
            Ok(())
        }
        // `[a.b]` after an earlier piece's `[[a]]`: into the array's last table, as the path
        // of a header goes.
        (
            Item::Array {
                items,
                of_tables: true,
            },
            Item::Table(b),
        ) if b.implicit && !b.dotted && !b.inline => match items.last_mut().map(|s| &mut s.item) {
            Some(Item::Table(last)) => merge_children(last, b),
            _ => Err(Fallback),
        },
        _ => Err(Fallback),
    }
}

/// Remembers that the parser or a decoder found a problem (its message is `toml`'s to give).
#[derive(Default)]
struct Failed(bool);

impl ErrorSink for Failed {
    fn report_error(&mut self, _error: ParseError) {
        self.0 = true;
    }
}

/// Not plainly valid: `toml` reads the file instead.
struct Fallback;

type Step<T = ()> = Result<T, Fallback>;

/// A key as written: its decoded text (one allocation per distinct key in the file) and where
/// it is.
struct Key {
    name: Str,
    span: Span,
}

/// A value and its text's position.
struct Slot {
    span: Span,
    item: Item,
}

enum Item {
    String(Str),
    /// `None`: does not fit in 64 bits (reported when converted, as `toml`'s reader would).
    Integer(Option<i64>),
    /// The decoded text, parsed when converted.
    Float(String),
    Boolean(bool),
    Array {
        items: Vec<Slot>,
        of_tables: bool,
    },
    Table(Node),
    /// A table taken out to be filled under its header, put back when the header ends.
    Taken,
}

struct Entry {
    key: Key,
    slot: Slot,
}

/// A table being read, with `toml`'s flags for what may still extend it.
#[derive(Default)]
struct Node {
    entries: Vec<Entry>,
    /// Key → position, once the table is large enough for a scan to cost more. Boxed: one
    /// pointer in every node, where most tables are small and never get an index.
    #[allow(clippy::box_collection)]
    index: Option<Box<HashMap<Str, usize, FastHash>>>,
    /// Created by a header's or a dotted key's path, not defined itself.
    implicit: bool,
    /// Created by a dotted key.
    dotted: bool,
    /// An inline table: closed once written.
    inline: bool,
}

const INDEX_FROM: usize = 16;

/// Tables with this many entries are converted in parallel.
const PARALLEL_FROM: usize = 64;

/// Pushes one at a time up to four: most tables and lists read hold one to three items, and
/// a vector's first room is for four (192 bytes too many for a one-key table of the parse
/// tree, which is the whole file's at once: 3 MB of the fleet's peak, issue 20).
fn push_small<T>(items: &mut Vec<T>, item: T) {
    if items.len() == items.capacity() && items.len() < 4 {
        items.reserve_exact(1);
    }
    items.push(item);
}

impl Node {
    fn implicit(dotted: bool, inline: bool) -> Node {
        Node {
            implicit: true,
            dotted,
            inline,
            ..Node::default()
        }
    }

    fn find(&self, name: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(name).copied(),
            None => self.entries.iter().position(|e| e.key.name == name),
        }
    }

    fn push(&mut self, key: Key, slot: Slot) -> usize {
        let i = self.entries.len();
        if let Some(index) = &mut self.index {
            index.insert(key.name.clone(), i);
        }
        push_small(&mut self.entries, Entry { key, slot });
        if self.index.is_none() && self.entries.len() >= INDEX_FROM {
            self.index = Some(Box::new(
                self.entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (e.key.name.clone(), i))
                    .collect(),
            ));
        }
        i
    }

    /// Into Plinth's table: keys sorted, and problems with numbers reported in that order (as
    /// reading `toml`'s document, sorted by key, reports them).
    fn into_table(self, file: FileId, diags: &mut Diagnostics) -> Table {
        let mut entries = self.entries;
        entries.sort_unstable_by(|a, b| a.key.name.cmp(&b.key.name));
        // A buffer of its own, exactly as long: collected in place of the larger entries, the
        // values kept the entries' buffer (with its growth room), as mimalloc does not move a
        // block that shrinks by less than half (issue 20).
        let mut values: Vec<(Str, Value)> = Vec::with_capacity(entries.len());
        if entries.len() >= PARALLEL_FROM {
            // A table of many tables (a fleet's clusters): converted on every core, problems
            // reported in the same order.
            use rayon::prelude::*;
            let converted: Vec<(Option<(Str, Value)>, Diagnostics)> = entries
                .into_par_iter()
                .map(|e| {
                    let mut local = Diagnostics::default();
                    let v = e.slot.into_value(file, e.key.span, &mut local);
                    (v.map(|v| (e.key.name, v)), local)
                })
                .collect();
            for (v, local) in converted {
                diags.extend(local);
                values.extend(v);
            }
        } else {
            values.extend(entries.into_iter().filter_map(|e| {
                let v = e.slot.into_value(file, e.key.span, diags)?;
                Some((e.key.name, v))
            }));
        }
        // Sorted, and the keys are unique (a repeated key is refused while reading).
        Table::from_sorted(values)
    }
}

impl Slot {
    fn into_value(self, file: FileId, key: Span, diags: &mut Diagnostics) -> Option<Value> {
        let origin = Origin {
            file,
            key,
            value: self.span,
            env: Origin::NO_ENV,
        };
        let kind = match self.item {
            Item::String(s) => Kind::String(s),
            Item::Integer(Some(i)) => Kind::Integer(i),
            Item::Integer(None) => {
                diags.push(value::integer_too_large(origin));
                return None;
            }
            Item::Float(text) => Kind::Float(value::parse_float(&text, origin, diags)?),
            Item::Boolean(b) => Kind::Boolean(b),
            Item::Array { items, .. } => {
                // As for tables: not collected in place of the larger slots (and their room).
                let mut values = Vec::with_capacity(items.len());
                values.extend(items.into_iter().filter_map(|item| {
                    let at = item.span;
                    item.into_value(file, at, diags)
                }));
                Kind::Array(values.into())
            }
            Item::Table(node) => Kind::Table(node.into_table(file, diags)),
            Item::Taken => return None,
        };
        Some(Value { kind, origin })
    }
}

/// A table header: `[a.b.c]` or `[[a.b.c]]`.
struct Header {
    path: Vec<Key>,
    key: Key,
    span: Span,
    is_array: bool,
}

/// The document being read, across the parser's runs over each header's lines.
struct Document<'i> {
    source: Source<'i>,
    /// Where the text read starts in its file.
    offset: usize,
    /// Every key read so far: `instance_types` in five thousand pools is one string.
    names: HashSet<Str, FastHash>,
    root: Node,
    current: Node,
    header: Option<Header>,
}

/// The parser's events for one run, read front to back.
struct Events<'e> {
    events: &'e [Event],
    at: usize,
}

impl Events<'_> {
    fn next(&mut self) -> Option<Event> {
        let e = self.events.get(self.at).copied();
        self.at += 1;
        e
    }

    fn peek(&self, n: usize) -> Option<EventKind> {
        self.events.get(self.at + n).map(Event::kind)
    }

    fn expect(&mut self) -> Step<Event> {
        self.next().ok_or(Fallback)
    }
}

impl<'i> Document<'i> {
    fn new(source: Source<'i>, offset: usize) -> Document<'i> {
        Document {
            source,
            offset,
            names: HashSet::default(),
            root: Node::default(),
            current: Node::default(),
            header: None,
        }
    }

    /// A position in the file.
    fn span(&self, s: toml_parser::Span) -> Span {
        Span::new(self.offset + s.start()..self.offset + s.end())
    }

    /// Parses one run of tokens and reads its events into the document.
    fn parse(&mut self, tokens: &[Token], events: &mut Vec<Event>) -> Step {
        events.clear();
        let mut failed = Failed::default();
        {
            let mut whitespace = ValidateWhitespace::new(events, self.source);
            let mut guard = RecursionGuard::new(&mut whitespace, DEPTH_LIMIT);
            toml_parser::parser::parse_document(tokens, &mut guard, &mut failed);
        }
        if failed.0 {
            return Err(Fallback);
        }
        self.document(&mut Events { events, at: 0 })
    }

    fn document(&mut self, ev: &mut Events<'_>) -> Step {
        while let Some(event) = ev.next() {
            match event.kind() {
                EventKind::StdTableOpen | EventKind::ArrayTableOpen => {
                    self.finish_table()?;
                    let header = self.table_header(event, ev)?;
                    self.start_table(header)?;
                }
                EventKind::SimpleKey => {
                    let (path, key) = self.key(event, ev)?;
                    let mut sep = ev.expect()?;
                    if sep.kind() == EventKind::Whitespace {
                        sep = ev.expect()?;
                    }
                    if sep.kind() != EventKind::KeyValSep {
                        return Err(Fallback);
                    }
                    if ev.peek(0) == Some(EventKind::Whitespace) {
                        ev.next();
                    }
                    let first = ev.expect()?;
                    let value = self.value(first, ev)?;
                    self.key_value(path, key, value)?;
                }
                EventKind::Whitespace | EventKind::Comment | EventKind::Newline => {}
                _ => return Err(Fallback),
            }
        }
        Ok(())
    }

    fn table_header(&mut self, open: Event, ev: &mut Events<'_>) -> Step<Header> {
        let is_array = open.kind() == EventKind::ArrayTableOpen;
        let mut keys = None;
        loop {
            let event = ev.expect()?;
            match event.kind() {
                EventKind::StdTableClose | EventKind::ArrayTableClose => {
                    let (path, key) = keys.ok_or(Fallback)?;
                    return Ok(Header {
                        path,
                        key,
                        span: self.span(open.span().append(event.span())),
                        is_array,
                    });
                }
                EventKind::SimpleKey => keys = Some(self.key(event, ev)?),
                EventKind::Whitespace => {}
                _ => return Err(Fallback),
            }
        }
    }

    /// A simple or dotted key: the path before its last part, and the last part.
    fn key(&mut self, first: Event, ev: &mut Events<'_>) -> Step<(Vec<Key>, Key)> {
        let more = |ev: &Events<'_>| {
            ev.peek(0) == Some(EventKind::KeySep)
                || ev.peek(0) == Some(EventKind::Whitespace)
                    && ev.peek(1) == Some(EventKind::KeySep)
        };
        let mut path = Vec::new();
        let mut last = first;
        while more(ev) {
            loop {
                let event = ev.expect()?;
                match event.kind() {
                    EventKind::Whitespace => {}
                    EventKind::KeySep => break,
                    _ => return Err(Fallback),
                }
            }
            path.push(self.decode_key(last)?);
            loop {
                let event = ev.expect()?;
                match event.kind() {
                    EventKind::Whitespace => {}
                    EventKind::SimpleKey => {
                        last = event;
                        break;
                    }
                    _ => return Err(Fallback),
                }
            }
        }
        if path.len() >= DEPTH_LIMIT as usize {
            return Err(Fallback);
        }
        Ok((path, self.decode_key(last)?))
    }

    fn decode_key(&mut self, event: Event) -> Step<Key> {
        let raw = self.source.get(event).ok_or(Fallback)?;
        let mut decoded = Cow::Borrowed("");
        let mut failed = Failed::default();
        raw.decode_key(&mut decoded, &mut failed);
        if failed.0 {
            return Err(Fallback);
        }
        let name = match self.names.get(&*decoded) {
            Some(name) => name.clone(),
            None => {
                let name = Str::from(&*decoded);
                self.names.insert(name.clone());
                name
            }
        };
        Ok(Key {
            name,
            span: self.span(event.span()),
        })
    }

    fn value(&mut self, first: Event, ev: &mut Events<'_>) -> Step<Slot> {
        match first.kind() {
            EventKind::Scalar => self.scalar(first),
            EventKind::ArrayOpen => self.array(first, ev),
            EventKind::InlineTableOpen => self.inline_table(first, ev),
            _ => Err(Fallback),
        }
    }

    fn scalar(&self, event: Event) -> Step<Slot> {
        let raw = self.source.get(event).ok_or(Fallback)?;
        let mut decoded = Cow::Borrowed("");
        let mut failed = Failed::default();
        let kind = raw.decode_scalar(&mut decoded, &mut failed);
        if failed.0 {
            return Err(Fallback);
        }
        let item = match kind {
            ScalarKind::String => Item::String(Str::from(&*decoded)),
            ScalarKind::Boolean(b) => Item::Boolean(b),
            ScalarKind::Integer(radix) => {
                Item::Integer(i64::from_str_radix(&decoded, radix.value()).ok())
            }
            ScalarKind::Float => Item::Float(decoded.into_owned()),
            // Dates are no configuration type: `toml` reads them, and the error names them.
            ScalarKind::DateTime => return Err(Fallback),
        };
        Ok(Slot {
            span: self.span(event.span()),
            item,
        })
    }

    fn array(&mut self, open: Event, ev: &mut Events<'_>) -> Step<Slot> {
        let mut items = Vec::new();
        let mut current = None;
        loop {
            let event = ev.expect()?;
            match event.kind() {
                EventKind::Scalar | EventKind::ArrayOpen | EventKind::InlineTableOpen => {
                    if current.is_some() {
                        return Err(Fallback);
                    }
                    current = Some(self.value(event, ev)?);
                }
                EventKind::ValueSep => {
                    if let Some(item) = current.take() {
                        push_small(&mut items, item);
                    }
                }
                EventKind::Whitespace | EventKind::Comment | EventKind::Newline => {}
                EventKind::ArrayClose => {
                    if let Some(item) = current.take() {
                        push_small(&mut items, item);
                    }
                    return Ok(Slot {
                        span: self.span(open.span().append(event.span())),
                        item: Item::Array {
                            items,
                            of_tables: false,
                        },
                    });
                }
                _ => return Err(Fallback),
            }
        }
    }

    fn inline_table(&mut self, open: Event, ev: &mut Events<'_>) -> Step<Slot> {
        let mut table = Node {
            inline: true,
            ..Node::default()
        };
        let mut key = None;
        let mut value = None;
        loop {
            let event = ev.expect()?;
            match event.kind() {
                EventKind::SimpleKey => {
                    if key.is_some() {
                        return Err(Fallback);
                    }
                    key = Some(self.key(event, ev)?);
                }
                EventKind::KeyValSep => {}
                EventKind::Scalar | EventKind::ArrayOpen | EventKind::InlineTableOpen => {
                    if value.is_some() {
                        return Err(Fallback);
                    }
                    value = Some(self.value(event, ev)?);
                }
                EventKind::ValueSep | EventKind::InlineTableClose => {
                    match (key.take(), value.take()) {
                        (Some((path, k)), Some(v)) => inline_key_value(&mut table, path, k, v)?,
                        (None, None) => {}
                        _ => return Err(Fallback),
                    }
                    if event.kind() == EventKind::InlineTableClose {
                        return Ok(Slot {
                            span: self.span(open.span().append(event.span())),
                            item: Item::Table(table),
                        });
                    }
                }
                EventKind::Whitespace | EventKind::Comment | EventKind::Newline => {}
                _ => return Err(Fallback),
            }
        }
    }

    /// `key = value` under the current header (or at the top).
    fn key_value(&mut self, path: Vec<Key>, key: Key, value: Slot) -> Step {
        let dotted = !path.is_empty();
        let parent = descend(&mut self.current, path, dotted)?;
        // Dotted keys may not add to a table defined by a header.
        if dotted && !parent.implicit || parent.find(&key.name).is_some() {
            return Err(Fallback);
        }
        parent.push(key, value);
        Ok(())
    }

    /// Puts the table filled under the current header in its place.
    fn finish_table(&mut self) -> Step {
        let filled = std::mem::take(&mut self.current);
        let Some(header) = self.header.take() else {
            self.root = filled;
            return Ok(());
        };
        let parent = descend(&mut self.root, header.path, false)?;
        let slot = Slot {
            span: header.span,
            item: Item::Table(filled),
        };
        match (parent.find(&header.key.name), header.is_array) {
            (None, false) => {
                parent.push(header.key, slot);
            }
            (None, true) => {
                parent.push(
                    header.key,
                    Slot {
                        span: header.span,
                        item: Item::Array {
                            items: vec![slot],
                            of_tables: true,
                        },
                    },
                );
            }
            (Some(i), false) => {
                let entry = &mut parent.entries[i];
                if !matches!(entry.slot.item, Item::Taken) {
                    return Err(Fallback);
                }
                entry.key = header.key;
                entry.slot = slot;
            }
            (Some(i), true) => match &mut parent.entries[i].slot.item {
                Item::Array {
                    items,
                    of_tables: true,
                } => items.push(slot),
                _ => return Err(Fallback),
            },
        }
        Ok(())
    }

    /// Opens a header: a table its path created implicitly is taken out to be filled on.
    fn start_table(&mut self, header: Header) -> Step {
        if !header.is_array {
            let parent = descend(&mut self.root, clone_path(&header.path), false)?;
            if let Some(i) = parent.find(&header.key.name) {
                let item = std::mem::replace(&mut parent.entries[i].slot.item, Item::Taken);
                match item {
                    Item::Table(t) if t.implicit && !t.dotted => self.current = t,
                    _ => return Err(Fallback),
                }
            }
        }
        self.current.implicit = false;
        self.current.dotted = false;
        self.header = Some(header);
        Ok(())
    }
}

fn clone_path(path: &[Key]) -> Vec<Key> {
    path.iter()
        .map(|k| Key {
            name: k.name.clone(),
            span: k.span,
        })
        .collect()
}

/// Walks (creating implicitly) the tables of a header's or a dotted key's path.
fn descend(mut table: &mut Node, path: Vec<Key>, dotted: bool) -> Step<&mut Node> {
    for key in path {
        let i = match table.find(&key.name) {
            Some(i) => i,
            None => {
                let at = key.span;
                table.push(
                    key,
                    Slot {
                        span: at,
                        item: Item::Table(Node::implicit(dotted, false)),
                    },
                )
            }
        };
        table = match &mut table.entries[i].slot.item {
            // `[[a]]` then `[a.b]`: the last table of the array.
            Item::Array {
                items,
                of_tables: true,
            } => match items.last_mut().map(|s| &mut s.item) {
                Some(Item::Table(t)) => t,
                _ => return Err(Fallback),
            },
            Item::Table(t) => {
                if t.inline || dotted && !t.implicit {
                    return Err(Fallback);
                }
                if dotted {
                    t.dotted = true;
                }
                t
            }
            _ => return Err(Fallback),
        };
    }
    Ok(table)
}

/// `key = value` inside an inline table.
fn inline_key_value(table: &mut Node, path: Vec<Key>, key: Key, value: Slot) -> Step {
    let dotted = !path.is_empty();
    let mut parent = table;
    for k in path {
        let i = match parent.find(&k.name) {
            Some(i) => i,
            None => {
                let at = k.span;
                parent.push(
                    k,
                    Slot {
                        span: at,
                        item: Item::Table(Node::implicit(true, true)),
                    },
                )
            }
        };
        parent = match &mut parent.entries[i].slot.item {
            Item::Table(t) if t.implicit => t,
            _ => return Err(Fallback),
        };
    }
    if parent.dotted != dotted || parent.find(&key.name).is_some() {
        return Err(Fallback);
    }
    parent.push(key, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What `toml`'s reader makes of `text`: values and diagnostics, or `None` when it refuses.
    fn by_toml(text: &str) -> Option<(String, String)> {
        let mut diags = Diagnostics::default();
        let t = toml::de::DeTable::parse(text).ok()?;
        let table = value::from_toml(FileId(0), t.get_ref(), &mut diags);
        Some((
            format!("{table:?}"),
            format!("{:?}", diags.iter().collect::<Vec<_>>()),
        ))
    }

    fn by_syntax(text: &str) -> Option<(String, String)> {
        let mut diags = Diagnostics::default();
        let table = read(FileId(0), text, &mut diags)?;
        Some((
            format!("{table:?}"),
            format!("{:?}", diags.iter().collect::<Vec<_>>()),
        ))
    }

    /// Read in pieces, one from each table header on, however short the file.
    fn by_syntax_in_pieces(text: &str) -> Option<(String, String)> {
        let mut diags = Diagnostics::default();
        let table = read_pieces(text, &pieces(text, text.len()))?.into_table(FileId(0), &mut diags);
        Some((
            format!("{table:?}"),
            format!("{:?}", diags.iter().collect::<Vec<_>>()),
        ))
    }

    /// Both readers agree: same values, origins and diagnostics, and this one refuses exactly
    /// what `toml` refuses (then `toml` reads the file and reports why), and dates, which it
    /// leaves to `toml` (they are an error in a definition). Read in pieces, it reads the same
    /// or leaves the file to `toml`.
    fn agree(text: &str) -> Result<(), String> {
        let (mine, theirs) = (by_syntax(text), by_toml(text));
        let split = by_syntax_in_pieces(text);
        if split.is_some() && split != mine {
            return Err(format!(
                "on:\n{text}\nin pieces: {split:?}\nin one: {mine:?}"
            ));
        }
        let dates = theirs
            .as_ref()
            .is_some_and(|(_, d)| d.contains("dates and times"));
        if mine == theirs || mine.is_none() && dates {
            Ok(())
        } else {
            Err(format!(
                "on:\n{text}\nthis reader: {mine:?}\ntoml: {theirs:?}"
            ))
        }
    }

    #[test]
    fn every_definition_in_the_repository_reads_the_same() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut stack = vec![root];
        let mut seen = 0;
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if p.is_dir() {
                    if name != "target" && !name.starts_with('.') {
                        stack.push(p);
                    }
                } else if name.ends_with(".toml") && name != "Cargo.toml" {
                    let text = std::fs::read_to_string(&p).unwrap_or_default();
                    if let Err(e) = agree(&text) {
                        panic!("{}: {e}", p.display());
                    }
                    seen += 1;
                }
            }
        }
        assert!(seen > 20, "found only {seen} definition files");
    }

    #[test]
    fn tables_keys_and_values_read_as_toml_reads_them() {
        for text in [
            "",
            "\u{feff}a = 1\n",
            "a = 1\r\nb = 'x'\r\n",
            "[a]\n[a.b]\nc = 1\n[a.d]\n",
            "[a.b]\nc = 1\n[a]\nd = 2\n",
            "[[a]]\nx = 1\n[[a]]\nx = 2\n[a.b]\ny = 3\n[[a.c]]\n",
            "a.b.c = 1\na.b.d = 2\n[x]\ny.z = { q = [1, { r = 2 }] }\n",
            "t = { a.b = 1, a.c = 2, d = [\n  1,\n  2, # note\n] }\n",
            "s = \"\"\"\nline\n[not.a.header]\n\"\"\"\n[h]\n",
            "x = [\n[1],\n[2]\n]\n[y]\n",
            "\"a.b\" = 1\n'c d' = 2\n[\"e.f\".g]\n",
            "n = [0x1F, 0o17, 0b101, 1_000, -5, +7]\nf = [1e3, -0.5, 6.02e+23, 1_0.5]\n",
            "big = 99999999999999999999\ninf = [inf, -inf, nan]\n",
            "[ a . b ]\nc=1\n[ [ d ] ]\n",
            // Dotted keys and headers reaching the same tables (read in pieces too).
            "[x.a.b]\n[x]\na.c = 1\n",
            "[x]\na.b = 1\n[x.a.c]\nd = 2\n",
            "[x.a.b]\n[x]\na.c = 1\n[x.a]\n",
            "[x]\na.b = 1\n[x.a]\n",
            "[x.a.b]\n[x]\na.b.c = 1\n",
            "[x]\na = { b = 1 }\n[x.a.c]\n",
        ] {
            agree(text).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// Issue 20: a large definition is read on every core, in pieces starting at table
    /// headers; tables that span pieces (a cluster's header in one, its pools in the next,
    /// arrays of tables continued) are put together as one reading would, not left to `toml`.
    #[test]
    fn regression_20_a_definition_read_in_pieces_reads_as_in_one() {
        let mut text = String::from("[platform]\nname = \"p\"\n");
        for c in 0..100 {
            text.push_str(&format!(
                "[clusters.c{c:03}]\nprovider = \"eks\"\n[clusters.c{c:03}.config.apps]\nregion = \"r\"\n\
                 [clusters.c{c:03}.node_pools.p.config.apps]\nmin = {c}\nbig = 99999999999999999999\n\
                 [[clusters.c{c:03}.services]]\nkind = \"k\"\n[[clusters.c{c:03}.services]]\nkind = \"j\"\n\
                 [clusters.c{c:03}.node_pools.q]\nx = {{ y = 1 }}\n\
                 [clusters.d{c:03}]\nconfig.apps.region = \"r\"\n[clusters.d{c:03}.config.ops]\nregion = \"s\"\n\
                 [[clusters.d{c:03}.services]]\nkind = \"k\"\n[clusters.d{c:03}.services.config.apps]\nx = 1\n"
            ));
        }
        text.push_str("[clusters]\n[clusters.c000.node_pools]\n");
        let split = pieces(&text, text.len());
        assert!(split.len() > 500, "{} pieces", split.len());
        assert!(read_pieces(&text, &split).is_some(), "left to toml");
        // More than `PARALLEL_FROM` clusters: converted in parallel, problems in order.
        agree(&text).unwrap_or_else(|e| panic!("{e}"));
        let mut diags = Diagnostics::default();
        read(FileId(0), &text, &mut diags).expect("reads");
        assert_eq!(diags.iter().count(), 100);
        // A byte-order mark shifts nothing: positions stay the file's.
        let marked = format!("\u{feff}{text}");
        assert!(read_pieces(&marked, &pieces(&marked, marked.len())).is_some());
        agree(&marked).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn what_toml_refuses_is_refused() {
        for text in [
            "a = 1\na = 2\n",
            "[a]\n[a]\n",
            "a.b = 1\n[a]\n",
            "[a]\nb = 1\n[a.b]\n",
            "a = { b = 1 }\n[a.c]\n",
            "a = { b = 1 }\na.c = 2\n",
            "a = [1]\n[[a]]\n",
            "[[a]]\n[a]\n",
            "[a.b]\n[a]\nb = 1\n",
            "t = { a = 1, a = 2 }\n",
            "t = { a = { b = 1 }, a.c = 2 }\n",
            "x = 1979-05-27\n",
            "[a]\nb.c = 1\n[a.b.d]\n",
            "[a]\nb = { c = 1 }\n[a.b.d]\n",
            "[a.b]\n[a]\nb.c = 1\n",
            "[a.b.c]\n[a]\nb = 1\n",
            "[[a]]\n[a.b]\n[a]\n",
            "[a]\nb = [1]\n[[a.b]]\n",
            "[a\nb = 1\n",
            "x = [1,\n[y]\n",
            "x = \"\\q\"\n",
            "]\n",
            "x = 1 2\n",
        ] {
            agree(text).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    fn line() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec!["a", "b", "c", "a.b", "b.c", "\"a\"", "a . c"]);
        let value = prop::sample::select(vec![
            "1",
            "\"s\"",
            "'l'",
            "true",
            "1.5",
            "[1, 2]",
            "[]",
            "{}",
            "{ a = 1 }",
            "{ a.b = 1, c = [ { d = 2 } ] }",
            "[ { a = 1 }, { a = 2 } ]",
            "\"\"\"\nx\n[a]\n\"\"\"",
            "[\n1,\n[a],\n]",
            "0xFF",
            "9999999999999999999999",
            "nan",
            "",
            "[1,",
        ]);
        prop_oneof![
            (key.clone(), value).prop_map(|(k, v)| format!("{k} = {v}")),
            key.clone().prop_map(|k| format!("[{k}]")),
            key.prop_map(|k| format!("[[{k}]]")),
            prop::sample::select(vec!["", "# c", "[a", "]", "= 1", "  ", "\t[b]"])
                .prop_map(String::from),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Random documents, valid and not: the same result as `toml` every time.
        #[test]
        fn random_documents_read_as_toml_reads_them(lines in prop::collection::vec(line(), 0..12)) {
            let text = lines.join("\n");
            prop_assert!(agree(&text).is_ok(), "{}", agree(&text).unwrap_err());
        }
    }
}
