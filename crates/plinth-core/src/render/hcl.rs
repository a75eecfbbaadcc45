//! A small HCL writer whose output is byte-identical to `terraform fmt`.
//!
//! `terraform fmt` (hclwrite) aligns the `=` of consecutive lines that each hold a whole
//! assignment; a line that opens a multi-line value (`x = {`) or any line without `=` ends the
//! run. Nested bodies indent by two spaces. The writer builds a tree and renders it with exactly
//! those rules, so generated files need no formatter at generation time; tests compare the
//! output with `terraform fmt -`.
//!
//! Every string is escaped for HCL, including template sequences (`${` and `%{`), so values from
//! a definition can never inject expressions.

use crate::value::{Kind, Value};
use std::fmt::Write;

/// An HCL expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A reference or function call, written as is (only from Plinth's own code, never user data).
    Raw(String),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    List(Vec<Expr>),
    /// Keys in order; written multi-line, one item per line.
    Object(Vec<(String, Expr)>),
    /// A function call or type constructor, e.g. `object({...})` or `optional(string)`.
    Call(String, Vec<Expr>),
}

impl Expr {
    pub fn raw(s: impl Into<String>) -> Expr {
        Expr::Raw(s.into())
    }

    pub fn str(s: impl Into<String>) -> Expr {
        Expr::Str(s.into())
    }

    /// A configuration value as an HCL literal.
    pub fn value(v: &Value) -> Expr {
        match &v.kind {
            Kind::String(s) => Expr::Str(s.to_string()),
            Kind::Integer(i) => Expr::Int(*i),
            Kind::Float(f) => Expr::Float(*f),
            Kind::Boolean(b) => Expr::Bool(*b),
            Kind::Array(a) => Expr::List(a.iter().map(Expr::value).collect()),
            Kind::Table(t) => Expr::Object(
                t.iter()
                    .map(|(k, v)| (k.to_string(), Expr::value(v)))
                    .collect(),
            ),
        }
    }

    /// A table as an HCL object, without cloning it into a value first.
    pub fn table(t: &crate::value::Table) -> Expr {
        Expr::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), Expr::value(v)))
                .collect(),
        )
    }

    /// Single-line: scalars, references and lists of short scalars.
    fn inline(&self) -> Option<String> {
        let mut s = String::new();
        match self {
            Expr::Raw(r) => s.push_str(r),
            Expr::Str(v) => write_string(&mut s, v),
            Expr::Int(i) => {
                let _ = write!(s, "{i}");
            }
            Expr::Float(f) => {
                let _ = if f.fract() == 0.0 && f.abs() < 1e15 {
                    write!(s, "{}", *f as i64)
                } else {
                    write!(s, "{f}")
                };
            }
            Expr::Bool(b) => {
                let _ = write!(s, "{b}");
            }
            Expr::Null => s.push_str("null"),
            Expr::List(items) => {
                let parts: Option<Vec<String>> = items
                    .iter()
                    .map(|i| {
                        if matches!(i, Expr::List(_) | Expr::Object(_)) {
                            None
                        } else {
                            i.inline()
                        }
                    })
                    .collect();
                let parts = parts?;
                let line = format!("[{}]", parts.join(", "));
                if line.len() > 80 {
                    return None;
                }
                s.push_str(&line);
            }
            Expr::Object(items) if items.is_empty() => s.push_str("{}"),
            Expr::Object(_) => return None,
            Expr::Call(name, args) => {
                let parts: Option<Vec<String>> = args.iter().map(Expr::inline).collect();
                s.push_str(&format!("{name}({})", parts?.join(", ")));
            }
        }
        Some(s)
    }
}

/// A body item: an attribute, a nested block, a blank line or a comment line.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Attr(String, Expr),
    Block(Block),
    Blank,
    Comment(String),
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Body {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub kind: String,
    pub labels: Vec<String>,
    pub body: Body,
}

impl Block {
    pub fn new(kind: &str, labels: &[&str]) -> Block {
        Block {
            kind: kind.into(),
            labels: labels.iter().map(|l| (*l).to_string()).collect(),
            body: Body::default(),
        }
    }

    pub fn attr(mut self, k: &str, v: Expr) -> Block {
        self.body.attr(k, v);
        self
    }

    pub fn block(mut self, b: Block) -> Block {
        self.body.block(b);
        self
    }

    pub fn blank(mut self) -> Block {
        self.body.blank();
        self
    }

    pub fn block_comment(mut self, c: &str) -> Block {
        self.body.comment(c);
        self
    }
}

impl Body {
    pub fn attr(&mut self, k: &str, v: Expr) -> &mut Body {
        self.items.push(Item::Attr(k.into(), v));
        self
    }

    pub fn block(&mut self, b: Block) -> &mut Body {
        self.items.push(Item::Block(b));
        self
    }

    pub fn blank(&mut self) -> &mut Body {
        self.items.push(Item::Blank);
        self
    }

    pub fn comment(&mut self, c: &str) -> &mut Body {
        for line in c.lines() {
            self.items.push(Item::Comment(line.to_string()));
        }
        self
    }

    /// Renders a file: the body at the top level, ending with one newline.
    pub fn render(&self) -> String {
        let mut out = Lines::default();
        render_body(&self.items, 0, &mut out);
        let mut s = out.finish();
        while s.ends_with("\n\n") {
            s.pop();
        }
        if !s.ends_with('\n') {
            s.push('\n');
        }
        s
    }
}

/// Output lines; a line with `Some(lead_width)` is a whole assignment that may align.
#[derive(Default)]
struct Lines {
    lines: Vec<(String, Option<(String, String)>)>,
}

impl Lines {
    fn plain(&mut self, s: String) {
        self.lines.push((s, None));
    }

    fn assign(&mut self, lead: String, rest: String) {
        self.lines.push((String::new(), Some((lead, rest))));
    }

    /// Aligns `=` across each run of consecutive assignment lines, as hclwrite does.
    fn finish(self) -> String {
        let mut out = String::new();
        let n = self.lines.len();
        let mut i = 0;
        while i < n {
            if self.lines[i].1.is_none() {
                out.push_str(&self.lines[i].0);
                out.push('\n');
                i += 1;
                continue;
            }
            let start = i;
            while i < n && self.lines[i].1.is_some() {
                i += 1;
            }
            let width = self.lines[start..i]
                .iter()
                .filter_map(|(_, a)| a.as_ref().map(|(lead, _)| lead.chars().count()))
                .max()
                .unwrap_or(0);
            for (_, a) in &self.lines[start..i] {
                if let Some((lead, rest)) = a {
                    let pad = width - lead.chars().count();
                    let _ = writeln!(out, "{lead}{} = {rest}", " ".repeat(pad));
                }
            }
        }
        out
    }
}

fn render_body(items: &[Item], depth: usize, out: &mut Lines) {
    let ind = "  ".repeat(depth);
    for item in items {
        match item {
            Item::Blank => out.plain(String::new()),
            Item::Comment(c) => out.plain(if c.is_empty() {
                format!("{ind}#")
            } else {
                format!("{ind}# {c}")
            }),
            Item::Attr(k, v) => render_assign(&format!("{ind}{k}"), v, depth, out),
            Item::Block(b) => {
                let mut head = format!("{ind}{}", b.kind);
                for l in &b.labels {
                    head.push(' ');
                    write_string(&mut head, l);
                }
                if b.body.items.is_empty() {
                    out.plain(format!("{head} {{}}"));
                } else {
                    out.plain(format!("{head} {{"));
                    render_body(&b.body.items, depth + 1, out);
                    out.plain(format!("{ind}}}"));
                }
            }
        }
    }
}

/// `lead = value`, where a multi-line value opens its bracket on the lead's line.
fn render_assign(lead: &str, v: &Expr, depth: usize, out: &mut Lines) {
    if let Some(s) = v.inline() {
        out.assign(lead.to_string(), s);
        return;
    }
    let ind = "  ".repeat(depth);
    match v {
        Expr::Object(items) => {
            out.plain(format!("{lead} = {{"));
            render_object_items(items, depth + 1, out);
            out.plain(format!("{ind}}}"));
        }
        Expr::List(items) => {
            out.plain(format!("{lead} = ["));
            render_list_items(items, depth + 1, out);
            out.plain(format!("{ind}]"));
        }
        // Calls wrapping a multi-line value open the whole chain on one line, as hclwrite
        // indents one level per line however many brackets it opens: `optional(list(object({`.
        Expr::Call(..) => {
            let mut open = String::new();
            let mut close = String::new();
            let mut cur = v;
            while let Expr::Call(name, args) = cur {
                let Some((last, before)) = args.split_last() else {
                    break;
                };
                let head: Option<Vec<String>> = before.iter().map(Expr::inline).collect();
                let Some(mut head) = head else { break };
                head.push(String::new());
                open.push_str(&format!("{name}({}", head.join(", ")));
                close.insert(0, ')');
                cur = last;
            }
            match cur {
                Expr::Object(items) => {
                    out.plain(format!("{lead} = {open}{{"));
                    render_object_items(items, depth + 1, out);
                    out.plain(format!("{ind}}}{close}"));
                }
                Expr::List(items) => {
                    out.plain(format!("{lead} = {open}["));
                    render_list_items(items, depth + 1, out);
                    out.plain(format!("{ind}]{close}"));
                }
                _ => out.assign(lead.to_string(), String::new()),
            }
        }
        _ => out.assign(lead.to_string(), String::new()),
    }
}

fn render_object_items(items: &[(String, Expr)], depth: usize, out: &mut Lines) {
    let ind = "  ".repeat(depth);
    for (k, v) in items {
        let mut key = String::new();
        write_key(&mut key, k);
        render_assign(&format!("{ind}{key}"), v, depth, out);
    }
}

fn render_list_items(items: &[Expr], depth: usize, out: &mut Lines) {
    let ind = "  ".repeat(depth);
    for v in items {
        match v.inline() {
            Some(s) => out.plain(format!("{ind}{s},")),
            None => match v {
                Expr::Object(obj) => {
                    out.plain(format!("{ind}{{"));
                    render_object_items(obj, depth + 1, out);
                    out.plain(format!("{ind}}},"));
                }
                Expr::List(inner) => {
                    out.plain(format!("{ind}["));
                    render_list_items(inner, depth + 1, out);
                    out.plain(format!("{ind}],"));
                }
                _ => {}
            },
        }
    }
}

/// An object key: bare when it is an identifier, quoted otherwise.
pub fn write_key(out: &mut String, k: &str) {
    let ident = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !matches!(k, "null" | "true" | "false" | "for" | "in" | "if");
    if ident {
        out.push_str(k);
    } else {
        write_string(out, k);
    }
}

/// An HCL quoted string: escapes quotes, backslashes, control characters and the template
/// introducers `${` and `%{`, so the text is always a literal.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A quoted HCL string.
pub fn quote(s: &str) -> String {
    let mut out = String::new();
    write_string(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_runs_of_single_line_assignments() {
        let mut b = Body::default();
        b.block(
            Block::new("resource", &["aws_vpc", "this"])
                .attr("cidr_block", Expr::str("10.0.0.0/16"))
                .attr("enable_dns_support", Expr::Bool(true))
                .attr(
                    "tags",
                    Expr::Object(vec![
                        ("Name".into(), Expr::str("x")),
                        ("kubernetes.io/cluster/x".into(), Expr::str("shared")),
                    ]),
                )
                .attr("a", Expr::Int(1)),
        );
        let expected = r#"resource "aws_vpc" "this" {
  cidr_block         = "10.0.0.0/16"
  enable_dns_support = true
  tags = {
    Name                      = "x"
    "kubernetes.io/cluster/x" = "shared"
  }
  a = 1
}
"#;
        assert_eq!(b.render(), expected);
    }

    #[test]
    fn strings_cannot_inject_templates() {
        assert_eq!(
            quote("${file(\"/etc/passwd\")}"),
            r#""$${file(\"/etc/passwd\")}""#
        );
        assert_eq!(quote("%{ if x }"), r#""%%{ if x }""#);
        assert_eq!(quote("a\nb\u{1}"), r#""a\nb\u0001""#);
        assert_eq!(quote("cost $5"), r#""cost $5""#);
    }
}
