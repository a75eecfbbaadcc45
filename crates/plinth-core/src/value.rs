//! Configuration values that remember where they came from.
//!
//! TOML has no null, so "null" in Kubestack's rules is simply an absent key here.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::source::{FileId, Span};
use std::fmt::{self, Write};
use std::sync::Arc;

/// Where a value was written: its file, the key that introduced it, and the value's own text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    pub file: FileId,
    pub key: Span,
    pub value: Span,
    /// Index in the promotion chain of the environment whose `config` held it, if any.
    pub env: u16,
}

impl Origin {
    /// A documented default that nobody wrote.
    pub const BUILTIN: Origin = Origin {
        file: FileId::BUILTIN,
        key: Span::EMPTY,
        value: Span::EMPTY,
        env: Origin::NO_ENV,
    };

    /// `env` of a value outside any environment's `config`.
    pub const NO_ENV: u16 = u16::MAX;

    pub fn is_builtin(&self) -> bool {
        self.file == FileId::BUILTIN
    }
}

/// A configuration value marked sensitive: written in the definition, or read at apply time
/// from a Terraform variable.
#[derive(Clone, Copy, Debug)]
pub enum Sensitive<'a> {
    Value(&'a Value),
    FromEnv(&'a str),
}

/// A string shared rather than copied: a value is copied into every environment that resolves
/// it (and a key into every table that has it), and cloning one of these costs a reference
/// count, however long the text — a 50 MB value is held once, not once per environment. One
/// pointer wide (the length lives with the text): a table entry holds one as its key and
/// another in its value, and a large platform has hundreds of thousands of entries.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Str(arcstr::ArcStr);

impl Str {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The very same string (a clone of the other), not only equal text.
    fn same(&self, other: &Str) -> bool {
        arcstr::ArcStr::ptr_eq(&self.0, &other.0)
    }

    /// A name from Plinth's own tables (a key's name, a default), made once per thread and
    /// shared after that: defaults are filled into hundreds of thousands of tables.
    pub fn from_static(s: &'static str) -> Str {
        thread_local! {
            static NAMES: std::cell::RefCell<std::collections::HashMap<(usize, usize), Str>> =
                Default::default();
        }
        NAMES.with(|names| {
            names
                .borrow_mut()
                .entry((s.as_ptr() as usize, s.len()))
                .or_insert_with(|| Str::from(s))
                .clone()
        })
    }
}

/// Orders keys as `str` does, deciding on the first byte where it differs (most keys of a
/// table do) rather than calling `memcmp`: looking keys up was a fifth of `plinth show` on a
/// fleet (issue 20).
#[inline]
pub fn cmp_key(a: &str, b: &str) -> std::cmp::Ordering {
    match a.as_bytes().first().cmp(&b.as_bytes().first()) {
        std::cmp::Ordering::Equal => a.cmp(b),
        other => other,
    }
}

impl std::ops::Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Str {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Str {
    /// As `str` displays: width, fill and alignment apply (`show` aligns keys with them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        Str(arcstr::ArcStr::from(s))
    }
}

impl From<String> for Str {
    fn from(s: String) -> Str {
        Str(arcstr::ArcStr::from(s))
    }
}

impl From<&String> for Str {
    fn from(s: &String) -> Str {
        Str(arcstr::ArcStr::from(s.as_str()))
    }
}

impl From<&Str> for Str {
    fn from(s: &Str) -> Str {
        s.clone()
    }
}

impl From<Str> for String {
    fn from(s: Str) -> String {
        s.0.to_string()
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Str {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Str> for str {
    fn eq(&self, other: &Str) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Str> for &str {
    fn eq(&self, other: &Str) -> bool {
        *self == &*other.0
    }
}

impl serde::Serialize for Str {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A table: keys in sorted order so every output is deterministic.
///
/// A sorted vector rather than a `BTreeMap`: configuration tables are small (a handful to a few
/// dozen keys) and there are hundreds of thousands of them on a large platform; a B-tree node
/// reserves room for eleven entries however few it holds. The entries are shared, copied only
/// when a table that is also held elsewhere changes: an environment that overrides nothing
/// holds its base table, not a copy of it, and one that overrides a few values holds another
/// environment's table and those values ([`Table::patched_over`]).
#[derive(Clone, Default)]
pub struct Table {
    /// `None` for an empty table (no allocation).
    entries: Option<Arc<Entries>>,
}

/// A table's entries, whole or as another table's with some values replaced.
#[derive(Clone)]
struct Entries {
    /// Sorted by key, each key once: every entry, or (with `base`) the replaced ones, their
    /// keys the very strings of `base`'s.
    own: Vec<(Str, Value)>,
    /// The table whose keys, in order, and other values these are (itself whole).
    base: Option<Arc<Entries>>,
}

impl Entries {
    fn whole(own: Vec<(Str, Value)>) -> Entries {
        Entries { own, base: None }
    }

    /// The keys, in order, and the values before any replacement.
    fn keys(&self) -> &[(Str, Value)] {
        match &self.base {
            Some(base) => &base.own,
            None => &self.own,
        }
    }

    /// The replaced values (none for a whole table).
    fn patch(&self) -> &[(Str, Value)] {
        match &self.base {
            Some(_) => &self.own,
            None => &[],
        }
    }
}

/// A table's entries in key order.
#[derive(Clone)]
pub struct Iter<'a> {
    keys: &'a [(Str, Value)],
    patch: &'a [(Str, Value)],
    range: std::ops::Range<usize>,
}

impl<'a> Iter<'a> {
    fn at(&self, i: usize) -> Option<(&'a Str, &'a Value)> {
        let (k, v) = self.keys.get(i)?;
        // A replaced value's key is the base's own string: an address comparison finds it.
        let v = self
            .patch
            .iter()
            .find(|(pk, _)| pk.same(k))
            .map_or(v, |(_, pv)| pv);
        Some((k, v))
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Str, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        let i = self.range.next()?;
        self.at(i)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.range.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let i = self.range.next_back()?;
        self.at(i)
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl PartialEq for Table {
    fn eq(&self, other: &Table) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct List<'a>(&'a Table);
        impl fmt::Debug for List<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.0.iter()).finish()
            }
        }
        f.debug_struct("Table")
            .field("entries", &List(self))
            .finish()
    }
}

impl Table {
    pub fn new() -> Table {
        Table::default()
    }

    pub fn with_capacity(n: usize) -> Table {
        Table {
            entries: (n > 0).then(|| Arc::new(Entries::whole(Vec::with_capacity(n)))),
        }
    }

    /// A table of entries already sorted by key, each key once (and the vector's spare room
    /// kept: a caller may be about to insert).
    pub(crate) fn from_sorted(entries: Vec<(Str, Value)>) -> Table {
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        Table {
            entries: (!entries.is_empty()).then(|| Arc::new(Entries::whole(entries))),
        }
    }

    /// The keys in order, with the values before any replacement.
    fn keys_slice(&self) -> &[(Str, Value)] {
        self.entries.as_deref().map_or(&[], Entries::keys)
    }

    /// The entries to change: copied first if another table shares them, and made whole if
    /// this one replaces values of another.
    fn entries_mut(&mut self) -> &mut Vec<(Str, Value)> {
        let entries = Arc::make_mut(
            self.entries
                .get_or_insert_with(|| Arc::new(Entries::whole(Vec::new()))),
        );
        if let Some(base) = entries.base.take() {
            let patch = std::mem::take(&mut entries.own);
            entries.own = Table {
                entries: Some(Arc::new(Entries {
                    own: patch,
                    base: Some(base),
                })),
            }
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        }
        &mut entries.own
    }

    /// Whether both hold the very same entries (one is a clone of the other, unchanged since).
    pub fn shares(&self, other: &Table) -> bool {
        match (&self.entries, &other.entries) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }

    /// Equal, origins included: the same values written in the same places.
    pub fn identical(&self, other: &Table) -> bool {
        let same = |(ka, a): (&Str, &Value), (kb, b): (&Str, &Value)| ka == kb && a.identical(b);
        if self.shares(other) {
            return true;
        }
        if self.len() != other.len() {
            return false;
        }
        match (self.entries.as_deref(), other.entries.as_deref()) {
            // Both whole (the usual case): slices, without looking for replaced values.
            (Some(a), Some(b)) if a.base.is_none() && b.base.is_none() => a
                .own
                .iter()
                .zip(&b.own)
                .all(|((ka, a), (kb, b))| same((ka, a), (kb, b))),
            _ => self.iter().zip(other.iter()).all(|(a, b)| same(a, b)),
        }
    }

    /// This table as `other`'s entries with a few values replaced, when it has the same keys
    /// and at most a quarter of its values differ (origins included): an environment that
    /// overrides a value or two of a component then holds those, not a copy of every entry
    /// (issue 20: half the resolved tables of a large platform). `None` otherwise.
    pub fn patched_over(&self, other: &Table) -> Option<Table> {
        let theirs = other.entries.as_ref()?;
        let base = theirs.base.clone().unwrap_or_else(|| theirs.clone());
        let keys = base.keys();
        if keys.len() != self.len() {
            return None;
        }
        let mut patch = Vec::new();
        for ((k, v), (bk, bv)) in self.iter().zip(keys) {
            if !k.same(bk) && k != bk {
                return None;
            }
            if !v.identical(bv) {
                if (patch.len() + 1) * 4 > keys.len() {
                    return None;
                }
                patch.push((bk.clone(), v.clone()));
            }
        }
        Some(Table {
            entries: Some(Arc::new(Entries {
                own: exact(patch),
                base: Some(base),
            })),
        })
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.keys_slice().binary_search_by(|(k, _)| cmp_key(k, key))
    }

    fn iter_from(&self, i: usize) -> Iter<'_> {
        let (keys, patch) = self
            .entries
            .as_deref()
            .map_or((&[][..], &[][..]), |e| (e.keys(), e.patch()));
        Iter {
            keys,
            patch,
            range: i.min(keys.len())..keys.len(),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        let entries = self.entries.as_deref()?;
        let keys = entries.keys();
        let i = keys.binary_search_by(|(k, _)| cmp_key(k, key)).ok()?;
        let (k, v) = keys.get(i)?;
        Some(
            entries
                .patch()
                .iter()
                .find(|(pk, _)| pk.same(k))
                .map_or(v, |(_, pv)| pv),
        )
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        let i = self.find(key).ok()?;
        Some(&mut self.entries_mut()[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: impl Into<Str>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries_mut()[i].1, value)),
            Err(i) => {
                self.entries_mut().insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.find(key).ok()?;
        let entries = self.entries_mut();
        let (_, v) = entries.remove(i);
        if entries.is_empty() {
            self.entries = None;
        }
        Some(v)
    }

    pub fn len(&self) -> usize {
        self.keys_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys_slice().is_empty()
    }

    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0)
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Str, &mut Value)> {
        let entries: &mut [(Str, Value)] = if self.entries.is_some() {
            self.entries_mut()
        } else {
            &mut []
        };
        entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Str> + ExactSizeIterator + Clone {
        self.keys_slice().iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Value> {
        self.iter_mut().map(|(_, v)| v)
    }

    /// Adds the entries of `extra` whose keys are absent (the first of a repeated key), in one
    /// pass: inserting dozens of defaults one by one shifted the table each time.
    pub fn fill_absent(&mut self, extra: Vec<(Str, Value)>) {
        if extra.is_empty() {
            return;
        }
        let mut entries = Vec::with_capacity(self.len() + extra.len());
        entries.extend(self.iter().map(|(k, v)| (k.clone(), v.clone())));
        entries.extend(extra);
        // A stable sort of two sorted runs is one merge; on a repeated key the earlier entry
        // (the table's own, then the first of `extra`) stays.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|later, earlier| later.0 == earlier.0);
        *self = Table::from_sorted(entries);
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&Str, &mut Value) -> bool) {
        if self.entries.is_none() {
            return;
        }
        let entries = self.entries_mut();
        entries.retain_mut(|(k, v)| keep(k, v));
        if entries.is_empty() {
            self.entries = None;
        }
    }
}

impl<K: Into<Str>> Extend<(K, Value)> for Table {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<'a> IntoIterator for &'a Table {
    type Item = (&'a Str, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Table {
    type Item = (Str, Value);
    type IntoIter = std::vec::IntoIter<(Str, Value)>;
    fn into_iter(mut self) -> Self::IntoIter {
        if self.entries.is_none() {
            return Vec::new().into_iter();
        }
        std::mem::take(self.entries_mut()).into_iter()
    }
}

impl<K: Into<Str>> FromIterator<(K, Value)> for Table {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Table {
        let mut entries: Vec<(Str, Value)> = iter.into_iter().map(|(k, v)| (k.into(), v)).collect();
        // Sorted, and for a repeated key the last value wins (as with a map).
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        if entries.windows(2).any(|w| w[0].0 == w[1].0) {
            entries.reverse();
            entries.dedup_by(|a, b| a.0 == b.0);
            entries.reverse();
        }
        // A collected vector may have kept a larger buffer (in place of what it was made from),
        // which shrinking would not give back: mimalloc leaves a block shrunk by less than half
        // where it is (issue 20). An exact copy does.
        if entries.capacity() > entries.len() {
            entries = exact(entries);
        }
        Table::from_sorted(entries)
    }
}

/// The same items in a buffer of their own, exactly as long.
fn exact<T>(items: Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len());
    out.extend(items);
    out
}

impl std::ops::Index<&str> for Table {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no key `{key}` in table"),
        }
    }
}

/// A list, shared rather than copied, and one pointer wide (a slice's `Arc` is two): with
/// strings and tables also one pointer wide, a [`Kind`] is 16 bytes and a value 40.
#[derive(Clone, Default, PartialEq)]
pub struct List(Arc<Vec<Value>>);

impl fmt::Debug for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self.0, f)
    }
}

impl List {
    /// The items to change, copied first if the list is also held elsewhere.
    pub fn make_mut(&mut self) -> &mut Vec<Value> {
        Arc::make_mut(&mut self.0)
    }
}

impl std::ops::Deref for List {
    type Target = [Value];
    fn deref(&self) -> &[Value] {
        &self.0
    }
}

impl From<Vec<Value>> for List {
    fn from(items: Vec<Value>) -> List {
        List(Arc::new(items))
    }
}

impl FromIterator<Value> for List {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> List {
        List(Arc::new(iter.into_iter().collect()))
    }
}

/// A configuration value and its origin. Equality ignores the origin.
#[derive(Clone, Debug)]
pub struct Value {
    pub kind: Kind,
    pub origin: Origin,
}

/// A value's type and content. Strings, lists and tables are shared, not copied, when a value
/// is cloned (see [`Str`], [`List`] and [`Table`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    String(Str),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Array(List),
    Table(Table),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.kind == other.kind
    }
}

impl Value {
    pub fn new(kind: Kind, origin: Origin) -> Value {
        Value { kind, origin }
    }

    pub fn builtin(kind: Kind) -> Value {
        Value {
            kind,
            origin: Origin::BUILTIN,
        }
    }

    pub fn string(s: impl Into<Str>) -> Value {
        Value::builtin(Kind::String(s.into()))
    }

    pub fn table(t: Table) -> Value {
        Value::builtin(Kind::Table(t))
    }

    /// Equal, origins included (`==` compares values only).
    pub fn identical(&self, other: &Value) -> bool {
        self.origin == other.origin
            && match (&self.kind, &other.kind) {
                (Kind::Array(a), Kind::Array(b)) => {
                    Arc::ptr_eq(&a.0, &b.0)
                        || a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.identical(y))
                }
                (Kind::Table(a), Kind::Table(b)) => a.identical(b),
                (Kind::Float(a), Kind::Float(b)) => a.to_bits() == b.to_bits(),
                (a, b) => a == b,
            }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.kind {
            Kind::Integer(i) => Some(i),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.kind {
            Kind::Integer(i) => Some(i as f64),
            Kind::Float(f) => Some(f),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            Kind::Boolean(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match &self.kind {
            Kind::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_table(&self) -> Option<&Table> {
        match &self.kind {
            Kind::Table(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_table_mut(&mut self) -> Option<&mut Table> {
        match &mut self.kind {
            Kind::Table(t) => Some(t),
            _ => None,
        }
    }

    /// A value marked `{ sensitive = true, ... }`.
    pub fn sensitive(&self) -> Option<Sensitive<'_>> {
        let t = self.as_table()?;
        if t.get("sensitive").and_then(Value::as_bool) != Some(true) {
            return None;
        }
        match (t.get("value"), t.get("from_env").and_then(Value::as_str)) {
            (Some(v), _) => Some(Sensitive::Value(v)),
            (None, Some(name)) => Some(Sensitive::FromEnv(name)),
            _ => None,
        }
    }

    /// What output may show of a sensitive value: that it is one, never the value nor a hash
    /// of it (a short hash of a weak password is a dictionary lookup away). Terraform's plan
    /// still shows which resources a changed sensitive value touches.
    fn masked_json(s: &Sensitive<'_>) -> serde_json::Value {
        match s {
            Sensitive::Value(_) => serde_json::json!({"sensitive": true}),
            Sensitive::FromEnv(name) => serde_json::json!({"sensitive": true, "from_env": name}),
        }
    }

    /// Strings of a list value, skipping anything else.
    pub fn str_list(&self) -> Vec<&str> {
        self.as_array()
            .map_or_else(Vec::new, |a| a.iter().filter_map(Value::as_str).collect())
    }

    /// The name of this value's type, as messages say it.
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }

    /// A plain JSON value, without origins. Sensitive values are masked (the one mapping is
    /// the `Serialize` impl below).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// Plain JSON, written straight to a serializer: sensitive values masked, no origins, nothing
/// built first (`show --output json` of a large platform is tens of megabytes).
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if let Some(sensitive) = self.sensitive() {
            return Value::masked_json(&sensitive).serialize(s);
        }
        match &self.kind {
            Kind::String(v) => s.serialize_str(v),
            Kind::Integer(i) => s.serialize_i64(*i),
            // Non-finite floats are refused when read; `null` should one get here.
            Kind::Float(f) => serde_json::Number::from_f64(*f).serialize(s),
            Kind::Boolean(b) => s.serialize_bool(*b),
            Kind::Array(a) => s.collect_seq(a.iter()),
            Kind::Table(t) => t.serialize(s),
        }
    }
}

/// A table as a JSON object, keys in order.
impl serde::Serialize for Table {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl Value {
    /// Builds a value from plain JSON (nulls are dropped: TOML has none).
    pub fn from_json(json: &serde_json::Value) -> Option<Value> {
        let kind = match json {
            serde_json::Value::Null => return None,
            serde_json::Value::Bool(b) => Kind::Boolean(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Kind::Integer(i),
                None => Kind::Float(n.as_f64()?),
            },
            serde_json::Value::String(s) => Kind::String(s.into()),
            serde_json::Value::Array(a) => {
                Kind::Array(a.iter().filter_map(Value::from_json).collect())
            }
            serde_json::Value::Object(o) => Kind::Table(
                o.iter()
                    .filter_map(|(k, v)| Some((k.clone(), Value::from_json(v)?)))
                    .collect(),
            ),
        };
        Some(Value::builtin(kind))
    }

    /// Marks this value and everything below it as written in environment `env`.
    pub fn tag_env(&mut self, env: u16) {
        self.origin.env = env;
        match &mut self.kind {
            Kind::Array(a) => a.make_mut().iter_mut().for_each(|v| v.tag_env(env)),
            Kind::Table(t) => t.values_mut().for_each(|v| v.tag_env(env)),
            _ => {}
        }
    }

    /// Returns the value at a dotted path below this table.
    pub fn get_path(&self, path: &[&str]) -> Option<&Value> {
        let mut cur = self;
        for p in path {
            cur = cur.as_table()?.get(p)?;
        }
        Some(cur)
    }
}

impl Kind {
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::String(_) => "string",
            Kind::Integer(_) => "integer",
            Kind::Float(_) => "float",
            Kind::Boolean(_) => "boolean",
            Kind::Array(_) => "list",
            Kind::Table(_) => "table",
        }
    }
}

impl fmt::Display for Value {
    /// TOML inline syntax, for messages and text output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_inline(&mut s, self);
        f.write_str(&s)
    }
}

fn write_inline(out: &mut String, v: &Value) {
    if let Some(s) = v.sensitive() {
        out.push_str(match s {
            Sensitive::Value(_) => "(sensitive)",
            Sensitive::FromEnv(_) => "(sensitive, from the environment)",
        });
        return;
    }
    match &v.kind {
        Kind::String(s) => write_toml_string(out, s),
        Kind::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Kind::Float(x) => {
            let _ = if x.fract() == 0.0 && x.is_finite() {
                write!(out, "{x:.1}")
            } else {
                write!(out, "{x}")
            };
        }
        Kind::Boolean(b) => {
            let _ = write!(out, "{b}");
        }
        Kind::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_inline(out, x);
            }
            out.push(']');
        }
        Kind::Table(t) => {
            if t.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{ ");
            for (i, (k, x)) in t.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_key(out, k);
                out.push_str(" = ");
                write_inline(out, x);
            }
            out.push_str(" }");
        }
    }
}

/// A TOML key, quoted only when it must be.
pub fn write_key(out: &mut String, k: &str) {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        out.push_str(k);
    } else {
        write_toml_string(out, k);
    }
}

/// A TOML basic string with every character that needs it escaped.
pub fn write_toml_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Converts a parsed TOML document into values with origins, reporting what Plinth cannot hold.
pub(crate) fn from_toml(
    file: FileId,
    table: &toml::de::DeTable<'_>,
    diags: &mut Diagnostics,
) -> Table {
    // Sorted once at the end (TOML keys are unique): inserting in file order shifted the
    // table at every key.
    table
        .iter()
        .filter_map(|(k, v)| {
            let val = convert(file, Span::new(k.span()), v, diags)?;
            Some((k.get_ref().to_string(), val))
        })
        .collect()
}

/// A TOML integer beyond `i64`.
pub(crate) fn integer_too_large(origin: Origin) -> Diagnostic {
    Diagnostic::error("invalid-value", "integer does not fit in 64 bits")
        .at_value(origin, "too large")
}

/// A TOML float's decoded text as a finite number (infinities and NaN are reported).
pub(crate) fn parse_float(text: &str, origin: Origin, diags: &mut Diagnostics) -> Option<f64> {
    match text.replace('_', "").parse::<f64>() {
        Ok(n) if n.is_finite() => Some(n),
        _ => {
            diags.push(
                Diagnostic::error("invalid-value", "infinite or NaN numbers are not supported")
                    .at_value(origin, "not a finite number"),
            );
            None
        }
    }
}

fn convert(
    file: FileId,
    key: Span,
    v: &toml::Spanned<toml::de::DeValue<'_>>,
    diags: &mut Diagnostics,
) -> Option<Value> {
    use toml::de::DeValue;
    let value_span = Span::new(v.span());
    let origin = Origin {
        file,
        key,
        value: value_span,
        env: Origin::NO_ENV,
    };
    let kind = match v.get_ref() {
        DeValue::String(s) => Kind::String(Str::from(&**s)),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Kind::Integer(n),
            Err(_) => {
                diags.push(integer_too_large(origin));
                return None;
            }
        },
        DeValue::Float(x) => Kind::Float(parse_float(x.as_str(), origin, diags)?),
        DeValue::Boolean(b) => Kind::Boolean(*b),
        DeValue::Datetime(_) => {
            diags.push(
                Diagnostic::error(
                    "invalid-value",
                    "dates and times are not a configuration type",
                )
                .at_value(origin, "a TOML datetime")
                .hint("quote it to make it a string, e.g. `\"03:00\"`"),
            );
            return None;
        }
        DeValue::Array(a) => Kind::Array(
            a.iter()
                .filter_map(|item| convert(file, Span::new(item.span()), item, diags))
                .collect(),
        ),
        DeValue::Table(t) => Kind::Table(from_toml(file, t, diags)),
    };
    Some(Value { kind, origin })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_rendering_escapes() {
        let mut t = Table::new();
        t.insert("a b", Value::string("x\"y\n"));
        t.insert("n", Value::builtin(Kind::Float(2.0)));
        assert_eq!(
            Value::table(t).to_string(),
            r#"{ "a b" = "x\"y\n", n = 2.0 }"#
        );
    }

    /// Issue 20: a large platform holds hundreds of thousands of table entries; each is a key
    /// and a value, so a pointer more in either costs megabytes (the fleet's `show` peaked at
    /// 25 MB of heap when an entry was 64 bytes).
    #[test]
    fn regression_20_table_entries_stay_48_bytes() {
        assert_eq!(std::mem::size_of::<Str>(), 8);
        assert_eq!(std::mem::size_of::<Kind>(), 16);
        assert_eq!(std::mem::size_of::<Value>(), 40);
        assert_eq!(std::mem::size_of::<(Str, Value)>(), 48);
    }
}

#[cfg(test)]
mod table_tests {
    use super::*;

    #[test]
    fn tables_keep_keys_sorted_and_unique() {
        let mut t = Table::new();
        assert!(t.insert("b", Value::string("1")).is_none());
        t.insert("a", Value::string("2"));
        assert_eq!(
            t.insert("b", Value::string("3")).map(|v| v.to_string()),
            Some("\"1\"".into())
        );
        assert_eq!(t.keys().map(Str::as_str).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(t.remove("a").map(|v| v.to_string()), Some("\"2\"".into()));
        assert!(!t.contains_key("a"));
        // From an iterator: sorted, and the last value of a repeated key wins, as with a map.
        let t: Table = [("z", "1"), ("y", "2"), ("z", "3")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::string(v)))
            .collect();
        assert_eq!(Value::table(t).to_string(), r#"{ y = "2", z = "3" }"#);
    }
}

#[cfg(test)]
mod patch_tests {
    use super::*;
    use proptest::prelude::*;

    fn int(v: i64, line: u32) -> Value {
        Value::new(
            Kind::Integer(v),
            Origin {
                value: Span::new(line as usize..line as usize + 1),
                ..Origin::BUILTIN
            },
        )
    }

    fn table(entries: &[(String, i64, u32)]) -> Table {
        entries
            .iter()
            .map(|(k, v, line)| (k.clone(), int(*v, *line)))
            .collect()
    }

    /// Everything a reader sees of a table, origins included.
    fn seen(t: &Table) -> String {
        let forward: Vec<String> = t
            .iter()
            .map(|(k, v)| format!("{k}={v}@{:?}", v.origin))
            .collect();
        let mut backward: Vec<String> = t
            .iter()
            .rev()
            .map(|(k, v)| format!("{k}={v}@{:?}", v.origin))
            .collect();
        backward.reverse();
        assert_eq!(forward, backward);
        let got: Vec<String> = t
            .keys()
            .map(|k| format!("{k}={}@{:?}", t[k], t[k].origin))
            .collect();
        assert_eq!(forward, got);
        assert_eq!(t.len(), forward.len());
        format!("{forward:?} {t:?}")
    }

    proptest! {
        /// Issue 20: a table held as another's entries with some values replaced reads, and
        /// changes, exactly as the table it stands for; and it is made only when the keys are
        /// the same and few values differ.
        #[test]
        fn regression_20_patched_tables_read_as_the_tables_they_stand_for(
            base in proptest::collection::btree_map("[a-h]{1,2}", (0..3i64, 0..3u32), 1..12),
            changes in proptest::collection::vec((0..12usize, 0..3i64, 0..3u32), 0..4),
            extra in proptest::option::of("[a-h]{1,2}"),
            edit in ("[a-h]{1,2}", 0..3i64),
        ) {
            let base: Vec<(String, i64, u32)> =
                base.into_iter().map(|(k, (v, l))| (k, v, l)).collect();
            let mut mine = base.clone();
            for (i, v, l) in &changes {
                let n = mine.len();
                let e = &mut mine[i % n];
                (e.1, e.2) = (*v, *l);
            }
            if let Some(k) = &extra {
                mine.push((k.clone(), 9, 9));
            }
            let (other, t) = (table(&base), table(&mine));
            // Over a whole table, and over one already patched (whose base it takes).
            let over_patched = table(&mine).patched_over(&other).unwrap_or_else(|| other.clone());
            for over in [&other, &over_patched] {
                match t.patched_over(over) {
                    Some(p) => {
                        prop_assert!(t.keys().eq(other.keys()));
                        let differ = t.iter().zip(other.iter()).filter(|(a, b)| !a.1.identical(b.1)).count();
                        prop_assert!(differ * 4 <= t.len());
                        prop_assert_eq!(seen(&p), seen(&t));
                        prop_assert!(p.identical(&t) && t.identical(&p) && p == t);
                        // Changing it changes a whole copy; what it patched stays as it was.
                        let (mut a, mut b) = (p.clone(), t.clone());
                        let before = seen(over);
                        a.insert(edit.0.clone(), int(edit.1, 7));
                        b.insert(edit.0.clone(), int(edit.1, 7));
                        prop_assert_eq!(seen(&a), seen(&b));
                        prop_assert_eq!(a.remove(&edit.0).is_some(), b.remove(&edit.0).is_some());
                        prop_assert_eq!(seen(&a), seen(&b));
                        prop_assert_eq!(seen(over), before);
                        let owned: Vec<(Str, Value)> = p.clone().into_iter().collect();
                        prop_assert_eq!(format!("{owned:?}"), format!("{:?}", t.clone().into_iter().collect::<Vec<_>>()));
                    }
                    None => {
                        let same_keys = t.keys().eq(other.keys());
                        let differ = t.iter().zip(other.iter()).filter(|(a, b)| !a.1.identical(b.1)).count();
                        prop_assert!(!same_keys || differ * 4 > t.len());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod fill_tests {
    use super::*;
    use proptest::prelude::*;

    fn table(keys: &[(String, i64)]) -> Table {
        let mut t = Table::new();
        for (k, v) in keys {
            t.insert(k.clone(), Value::builtin(Kind::Integer(*v)));
        }
        t
    }

    proptest! {
        /// Issue 20: keys are ordered by their first byte first, and that is `str`'s order.
        #[test]
        fn regression_20_keys_order_as_str_orders_them(a in "[a-c_\\x00é]{0,4}", b in "[a-c_\\x00é]{0,4}") {
            prop_assert_eq!(cmp_key(&a, &b), a.as_str().cmp(b.as_str()));
        }

        /// One merge gives what inserting each absent key in turn gave (first one wins).
        #[test]
        fn fill_absent_is_inserting_each_absent_key(
            have in proptest::collection::vec(("[a-h]", 0..9i64), 0..8),
            extra in proptest::collection::vec(("[a-h]", 10..19i64), 0..8),
        ) {
            let mut expected = table(&have);
            for (k, v) in &extra {
                if !expected.contains_key(k) {
                    expected.insert(k.clone(), Value::builtin(Kind::Integer(*v)));
                }
            }
            let mut filled = table(&have);
            filled.fill_absent(
                extra
                    .iter()
                    .map(|(k, v)| (Str::from(k), Value::builtin(Kind::Integer(*v))))
                    .collect(),
            );
            prop_assert_eq!(Value::table(filled).to_string(), Value::table(expected).to_string());
        }
    }
}
