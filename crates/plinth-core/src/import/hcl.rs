//! Reading a Kubestack repository's Terraform with hcl-rs (`hcl::edit`, which keeps spans).
//!
//! Values are read statically: literals, `var.*` from `*.tfvars` or variable defaults,
//! `local.*` when the local is itself static, and `path.root`/`path.module` (the root module,
//! `.`). Anything else stays an [`NodeKind::Expr`] with its text as written, so the caller can
//! keep it verbatim. Comments are found in the text between an item and its neighbours (the
//! parser knows where every item starts and ends, and only whitespace, separators and comments
//! can sit between two items).

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::source::{FileId, SourceMap, Span, line_col};
use hcl::edit::Span as _;
use hcl::edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl::edit::structure::{Block, Body, Structure};
use hcl::edit::template::{Element, Template};
use hcl::edit::visit::{Visit, visit_traversal};
use std::collections::BTreeMap;
use std::path::Path;

/// Where something was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    pub file: FileId,
    pub span: Span,
}

impl At {
    pub fn new(file: FileId, span: Option<std::ops::Range<usize>>) -> At {
        At {
            file,
            span: span.map_or(Span::EMPTY, Span::new),
        }
    }

    /// `file:line`, for the report.
    pub fn show(&self, sources: &SourceMap) -> String {
        match sources.line_col(self.file, self.span.start) {
            Some(lc) => format!("{}:{}", sources.name(self.file), lc.line),
            None => sources.name(self.file).to_string(),
        }
    }
}

/// Comments written around a value: the lines above its key, the rest of its last line, and
/// (for tables) comments inside it that precede no entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comments {
    pub leading: Vec<String>,
    pub trailing: Option<String>,
    pub inner: Vec<String>,
}

/// A value read from HCL.
#[derive(Clone, Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub at: At,
    pub comments: Comments,
    /// How a reference was resolved (`var.base_domain` from `config.auto.tfvars:1`).
    pub via: Option<String>,
}

#[derive(Clone, Debug)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Node>),
    Map(Vec<Entry>),
    /// Not a static value: the expression's text as written.
    Expr(String),
}

/// One `key = value` of an object.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: String,
    pub key_at: At,
    pub value: Node,
}

impl Node {
    pub fn new(kind: NodeKind, at: At) -> Node {
        Node {
            kind,
            at,
            comments: Comments::default(),
            via: None,
        }
    }

    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.kind {
            NodeKind::Map(e) => Some(e),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// What kind of value this is, as messages say it.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "bool",
            NodeKind::Int(_) | NodeKind::Float(_) => "number",
            NodeKind::Str(_) => "string",
            NodeKind::List(_) => "list",
            NodeKind::Map(_) => "map",
            NodeKind::Expr(_) => "expression",
        }
    }

    /// The value in HCL syntax, for messages and the report.
    pub fn show(&self) -> String {
        match &self.kind {
            NodeKind::Null => "null".into(),
            NodeKind::Bool(b) => b.to_string(),
            NodeKind::Int(i) => i.to_string(),
            NodeKind::Float(f) => f.to_string(),
            NodeKind::Str(s) => format!("{s:?}"),
            NodeKind::List(items) => format!(
                "[{}]",
                items.iter().map(Node::show).collect::<Vec<_>>().join(", ")
            ),
            NodeKind::Map(entries) => format!(
                "{{ {} }}",
                entries
                    .iter()
                    .map(|e| {
                        let bare = !e.key.is_empty()
                            && e.key
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                        if bare {
                            format!("{} = {}", e.key, e.value.show())
                        } else {
                            format!("{:?} = {}", e.key, e.value.show())
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            NodeKind::Expr(text) => text.clone(),
        }
    }

    /// True when this value or anything in it is not static.
    pub fn has_expr(&self) -> bool {
        match &self.kind {
            NodeKind::Expr(_) => true,
            NodeKind::List(items) => items.iter().any(Node::has_expr),
            NodeKind::Map(entries) => entries.iter().any(|e| e.value.has_expr()),
            _ => false,
        }
    }
}

/// One parsed `.tf` file.
pub struct TfFile {
    pub id: FileId,
    pub body: Body,
}

/// The repository as read: parsed files, and the values references resolve to.
pub struct Repo {
    pub files: Vec<TfFile>,
    /// Variable values: `*.tfvars` over `default`s.
    vars: BTreeMap<String, Node>,
    /// Locals, unevaluated (they are evaluated where used).
    locals: BTreeMap<String, (FileId, Expression)>,
}

/// Files larger than this are refused: no Terraform file of a platform is that big.
const MAX_FILE_BYTES: u64 = 16 << 20;
/// How deep `local.*` references may chain before they count as not static.
const MAX_DEPTH: usize = 16;

/// Reads every `*.tf` and `*.tfvars` file directly in `dir` (sorted by name). Unreadable and
/// unparsable files are reported; the rest are read anyway so every problem shows at once.
pub fn read(dir: &Path, sources: &mut SourceMap, diags: &mut Diagnostics) -> Repo {
    let mut tf = Vec::new();
    let mut tfvars = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                if name.ends_with(".tf") {
                    tf.push(name);
                } else if name.ends_with(".tfvars") {
                    tfvars.push(name);
                }
            }
        }
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "unreadable",
                    format!("cannot read `{}`: {e}", dir.display()),
                )
                .path(dir.display().to_string()),
            );
        }
    }
    tf.sort();
    // Terraform's precedence: other `*.tfvars` (given with -var-file) are read first here so
    // `terraform.tfvars` and then `*.auto.tfvars` (in name order) win, as in Terraform.
    tfvars.sort_by_key(|n| {
        let rank = if n.ends_with(".auto.tfvars") {
            2
        } else if n == "terraform.tfvars" {
            1
        } else {
            0
        };
        (rank, n.clone())
    });
    let mut repo = Repo {
        files: Vec::new(),
        vars: BTreeMap::new(),
        locals: BTreeMap::new(),
    };
    let mut var_files = Vec::new();
    for name in tf.iter().chain(&tfvars) {
        let Some((id, body)) = parse_file(dir, name, sources, diags) else {
            continue;
        };
        if name.ends_with(".tfvars") {
            var_files.push((id, body));
        } else {
            repo.files.push(TfFile { id, body });
        }
    }
    // Variable defaults, then the tfvars files over them.
    let mut defaults = Vec::new();
    for f in &repo.files {
        for b in f.body.get_blocks("variable") {
            let Some(name) = b.labels.first().map(|l| l.as_str().to_string()) else {
                continue;
            };
            if let Some(a) = b.body.get_attribute("default") {
                defaults.push((name, f.id, a.value.clone()));
            }
        }
        for b in f.body.get_blocks("locals") {
            for a in b.body.attributes() {
                repo.locals
                    .insert(a.key.value().to_string(), (f.id, a.value.clone()));
            }
        }
    }
    for (name, file, expr) in defaults {
        let mut n = repo.node(sources, file, &expr, 0);
        n.via = Some(format!(
            "the default of variable `{name}` ({})",
            n.at.show(sources)
        ));
        repo.vars.insert(name, n);
    }
    for (file, body) in &var_files {
        for a in body.attributes() {
            let name = a.key.value().to_string();
            let mut n = repo.node(sources, *file, &a.value, 0);
            n.via = Some(format!(
                "`{name}` in {}",
                At::new(*file, a.span()).show(sources)
            ));
            repo.vars.insert(name, n);
        }
    }
    repo
}

fn parse_file(
    dir: &Path,
    name: &str,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Option<(FileId, Body)> {
    let path = dir.join(name);
    let text = match std::fs::metadata(&path) {
        Ok(m) if m.len() > MAX_FILE_BYTES => {
            diags.push(
                Diagnostic::error(
                    "file-too-large",
                    format!(
                        "`{name}` is {} MiB; not a Terraform file to import",
                        m.len() >> 20
                    ),
                )
                .path(name),
            );
            return None;
        }
        Ok(_) => match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(_) => {
                    diags.push(
                        Diagnostic::error("not-utf8", format!("`{name}` is not valid UTF-8"))
                            .path(name),
                    );
                    return None;
                }
            },
            Err(e) => {
                diags.push(
                    Diagnostic::error("unreadable", format!("cannot read `{name}`: {e}"))
                        .path(name),
                );
                return None;
            }
        },
        Err(e) => {
            diags.push(
                Diagnostic::error("unreadable", format!("cannot read `{name}`: {e}")).path(name),
            );
            return None;
        }
    };
    let id = sources.add(name.to_string(), path, text);
    let text = sources.get(id).map(|f| f.text.as_str()).unwrap_or_default();
    match hcl::edit::parser::parse_body(text) {
        Ok(body) => Some((id, body)),
        Err(e) => {
            let loc = e.location();
            // hcl-edit's offset is a byte offset; fall back to line and column if it is off.
            let mut offset = loc.offset().min(text.len());
            if line_col(text, offset).line != loc.line() {
                offset = text
                    .split_inclusive('\n')
                    .take(loc.line().saturating_sub(1))
                    .map(str::len)
                    .sum::<usize>()
                    + loc.column().saturating_sub(1);
                offset = offset.min(text.len());
            }
            let end = (offset + 1).min(text.len());
            diags.push(
                Diagnostic::error(
                    "hcl-syntax",
                    format!("invalid HCL in `{name}`: {}", e.message()),
                )
                .label(id, Span::new(offset..end), e.message().to_string())
                .hint("fix the file so `terraform validate` accepts it, then import again"),
            );
            None
        }
    }
}

impl Repo {
    /// Every top-level block of type `kind`, with its file.
    pub fn blocks<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (FileId, &'a Block)> + 'a {
        self.files
            .iter()
            .flat_map(move |f| f.body.get_blocks(kind).map(move |b| (f.id, b)))
    }

    /// The comment lines above each top-level block (by the block's start offset).
    pub fn block_comments(&self, sources: &SourceMap, file: FileId, block: &Block) -> Vec<String> {
        let Some(f) = self.files.iter().find(|f| f.id == file) else {
            return Vec::new();
        };
        let text = text_of(sources, file);
        let Some(start) = block.span().map(|s| s.start) else {
            return Vec::new();
        };
        let mut prev_end = 0;
        for s in f.body.iter() {
            let Some(span) = s.span() else { continue };
            if span.start >= start {
                break;
            }
            prev_end = span.end;
        }
        let (trailing, leading) = split_gap(text.get(prev_end..start).unwrap_or_default());
        if prev_end == 0 {
            // Nothing before the block: the first line's comments are its own.
            return trailing.into_iter().chain(leading).collect();
        }
        leading
    }

    /// The comment lines above an attribute of a block's body.
    pub fn attribute_comments(
        &self,
        sources: &SourceMap,
        file: FileId,
        block: &Block,
        name: &str,
    ) -> Vec<String> {
        let text = text_of(sources, file);
        let Some(span) = block.span() else {
            return Vec::new();
        };
        let open = block
            .labels
            .last()
            .and_then(|l| l.span())
            .map_or(span.start, |s| s.end);
        let Some(brace) = text.get(open..span.end).and_then(|t| t.find('{')) else {
            return Vec::new();
        };
        let mut pos = open + brace + 1;
        for s in block.body.iter() {
            let Some(ss) = s.span() else { continue };
            if matches!(s, Structure::Attribute(a) if a.key.value().as_str() == name) {
                return split_gap(text.get(pos..ss.start).unwrap_or_default()).1;
            }
            pos = ss.end;
        }
        Vec::new()
    }

    /// Comment lines inside a block's body that belong to none of `skip` (attributes whose
    /// values are read with their own comments).
    pub fn body_comments(
        &self,
        sources: &SourceMap,
        file: FileId,
        block: &Block,
        skip: &[&str],
    ) -> Vec<String> {
        let text = text_of(sources, file);
        let Some(span) = block.span() else {
            return Vec::new();
        };
        let open = block
            .labels
            .last()
            .and_then(|l| l.span())
            .map_or(span.start, |s| s.end);
        let Some(brace) = text.get(open..span.end).and_then(|t| t.find('{')) else {
            return Vec::new();
        };
        let mut pos = open + brace + 1;
        let mut out = Vec::new();
        for s in block.body.iter() {
            let Some(ss) = s.span() else { continue };
            let (trailing, leading) = split_gap(text.get(pos..ss.start).unwrap_or_default());
            out.extend(trailing);
            let skipped =
                matches!(s, Structure::Attribute(a) if skip.contains(&a.key.value().as_str()));
            if !skipped {
                out.extend(leading);
            }
            pos = ss.end;
        }
        let (trailing, rest) = split_gap(
            text.get(pos..span.end.saturating_sub(1))
                .unwrap_or_default(),
        );
        out.extend(trailing);
        out.extend(rest);
        out
    }

    /// Reads an expression statically; see the module documentation.
    pub fn node(&self, sources: &SourceMap, file: FileId, e: &Expression, depth: usize) -> Node {
        let at = At::new(file, e.span());
        let expr = || NodeKind::Expr(snippet(sources, at));
        let kind = match e {
            Expression::Null(_) => NodeKind::Null,
            Expression::Bool(b) => NodeKind::Bool(*b.value()),
            Expression::Number(n) => {
                let n = n.value();
                match (n.as_i64(), n.as_f64()) {
                    (Some(i), _) => NodeKind::Int(i),
                    (None, Some(f)) => NodeKind::Float(f),
                    _ => expr(),
                }
            }
            Expression::String(s) => NodeKind::Str(s.value().to_string()),
            Expression::StringTemplate(t) => {
                return self.template(sources, file, t, at, depth);
            }
            // The parser already strips the indentation of `<<-` heredocs.
            Expression::HeredocTemplate(h) => {
                return self.template(sources, file, &h.template, at, depth);
            }
            Expression::Array(a) => NodeKind::List(
                a.iter()
                    .map(|item| self.node(sources, file, item, depth))
                    .collect(),
            ),
            Expression::Object(o) => {
                return self.object(sources, file, o, at, depth);
            }
            Expression::Parenthesis(p) => return self.node(sources, file, p.inner(), depth),
            Expression::Traversal(t) => {
                if let Some(n) = self.reference(sources, file, t, depth) {
                    return n;
                }
                expr()
            }
            _ => expr(),
        };
        Node::new(kind, at)
    }

    fn template(
        &self,
        sources: &SourceMap,
        file: FileId,
        t: &Template,
        at: At,
        depth: usize,
    ) -> Node {
        let elements: Vec<&Element> = t.iter().collect();
        // `"${x}"` is x itself, whatever its type (HCL's rule for a lone interpolation).
        if let [Element::Interpolation(i)] = elements.as_slice() {
            let mut n = self.node(sources, file, &i.expr, depth);
            n.at = at;
            return n;
        }
        let mut s = String::new();
        let mut via = Vec::new();
        for el in elements {
            match el {
                Element::Literal(l) => s.push_str(l.value()),
                Element::Interpolation(i) => {
                    let n = self.node(sources, file, &i.expr, depth);
                    match &n.kind {
                        NodeKind::Str(x) => s.push_str(x),
                        NodeKind::Int(x) => s.push_str(&x.to_string()),
                        NodeKind::Float(x) => s.push_str(&x.to_string()),
                        NodeKind::Bool(x) => s.push_str(&x.to_string()),
                        _ => return Node::new(NodeKind::Expr(snippet(sources, at)), at),
                    }
                    via.extend(n.via);
                }
                Element::Directive(_) => {
                    return Node::new(NodeKind::Expr(snippet(sources, at)), at);
                }
            }
        }
        let mut n = Node::new(NodeKind::Str(s), at);
        if !via.is_empty() {
            n.via = Some(via.join(", "));
        }
        n
    }

    fn object(
        &self,
        sources: &SourceMap,
        file: FileId,
        o: &hcl::edit::expr::Object,
        at: At,
        depth: usize,
    ) -> Node {
        let text = text_of(sources, file);
        let mut entries: Vec<Entry> = Vec::new();
        let mut pos = at.span.start as usize + 1;
        let mut inner = Vec::new();
        for (k, v) in o.iter() {
            let key_span = match k {
                ObjectKey::Ident(i) => i.span(),
                ObjectKey::Expression(e) => e.span(),
            };
            let key = match k {
                ObjectKey::Ident(i) => i.value().to_string(),
                ObjectKey::Expression(e) => match self.node(sources, file, e, depth).kind {
                    NodeKind::Str(s) => s,
                    _ => {
                        return Node::new(NodeKind::Expr(snippet(sources, at)), at);
                    }
                },
            };
            let key_at = At::new(file, key_span);
            let (trailing, leading) = split_gap(
                text.get(pos..key_at.span.start as usize)
                    .unwrap_or_default(),
            );
            attach_trailing(&mut entries, &mut inner, trailing);
            let mut value = self.node(sources, file, v.expr(), depth);
            value.comments.leading = leading;
            pos = v.expr().span().map_or(key_at.span.end as usize, |s| s.end);
            entries.push(Entry { key, key_at, value });
        }
        let end = (at.span.end as usize).saturating_sub(1).max(pos);
        let (trailing, rest) = split_gap(text.get(pos..end).unwrap_or_default());
        attach_trailing(&mut entries, &mut inner, trailing);
        inner.extend(rest);
        let mut n = Node::new(NodeKind::Map(entries), at);
        n.comments.inner = inner;
        n
    }

    /// The static value of argument `attr` of `resource "<ty>" "<label>"` (or of a `data`
    /// block), as written: Kubestack repositories pass `azurerm_resource_group.rg.name` where a
    /// literal would do.
    fn block_argument(
        &self,
        sources: &SourceMap,
        kind: &str,
        ty: &str,
        label: &str,
        attr: &str,
        depth: usize,
    ) -> Option<Node> {
        if depth >= MAX_DEPTH {
            return None;
        }
        let (file, block) = self.blocks(kind).find(|(_, b)| {
            b.labels.len() == 2 && b.labels[0].as_str() == ty && b.labels[1].as_str() == label
        })?;
        // One instance only: `count`/`for_each` make the argument a list of values.
        if block.body.get_attribute("count").is_some()
            || block.body.get_attribute("for_each").is_some()
        {
            return None;
        }
        let a = block.body.get_attribute(attr)?;
        let mut n = self.node(sources, file, &a.value, depth + 1);
        if n.has_expr() {
            return None;
        }
        let what = if kind == "data" {
            format!("data.{ty}.{label}")
        } else {
            format!("{ty}.{label}")
        };
        let mut via = format!(
            "`{attr}` of `{what}` ({})",
            At::new(file, a.span()).show(sources)
        );
        if let Some(inner) = &n.via {
            via.push_str(&format!(", {inner}"));
        }
        n.via = Some(via);
        Some(n)
    }

    /// `var.x`, `local.x`, `path.root`/`path.module`, arguments of resources and data sources
    /// (`<type>.<name>.<argument>`), and indexes into them.
    fn reference(
        &self,
        sources: &SourceMap,
        file: FileId,
        t: &hcl::edit::expr::Traversal,
        depth: usize,
    ) -> Option<Node> {
        let Expression::Variable(root) = &t.expr else {
            return None;
        };
        let mut ops = t.operators.iter().map(|o| o.value());
        let Some(TraversalOperator::GetAttr(first)) = ops.next() else {
            return None;
        };
        let at = At::new(file, t.span());
        let mut n = match (root.value().as_str(), first.value().as_str()) {
            ("var", name) => self.vars.get(name)?.clone(),
            ("local", name) if depth < MAX_DEPTH => {
                let (lf, le) = self.locals.get(name)?;
                let mut n = self.node(sources, *lf, le, depth + 1);
                if n.has_expr() {
                    return None;
                }
                n.via = Some(format!(
                    "`local.{name}` ({})",
                    At::new(*lf, le.span()).show(sources)
                ));
                n
            }
            ("path", "root" | "module" | "cwd") => {
                let mut n = Node::new(NodeKind::Str(".".into()), at);
                n.via = Some("the root module's directory".into());
                n
            }
            ("data", ty) => {
                let Some(TraversalOperator::GetAttr(label)) = ops.next() else {
                    return None;
                };
                let Some(TraversalOperator::GetAttr(attr)) = ops.next() else {
                    return None;
                };
                self.block_argument(sources, "data", ty, label.value(), attr.value(), depth)?
            }
            ("module" | "terraform" | "count" | "each" | "self" | "local" | "path", _) => {
                return None;
            }
            (ty, label) => {
                let Some(TraversalOperator::GetAttr(attr)) = ops.next() else {
                    return None;
                };
                self.block_argument(sources, "resource", ty, label, attr.value(), depth)?
            }
        };
        for op in ops {
            let next = match op {
                TraversalOperator::GetAttr(a) => n.get(a.value().as_str()).cloned(),
                TraversalOperator::Index(e) => match self.node(sources, file, e, depth).kind {
                    NodeKind::Str(k) => n.get(&k).cloned(),
                    NodeKind::Int(i) => match &n.kind {
                        NodeKind::List(items) => {
                            usize::try_from(i).ok().and_then(|i| items.get(i).cloned())
                        }
                        _ => None,
                    },
                    _ => None,
                },
                TraversalOperator::LegacyIndex(i) => match &n.kind {
                    NodeKind::List(items) => usize::try_from(*i.value())
                        .ok()
                        .and_then(|i| items.get(i).cloned()),
                    _ => None,
                },
                _ => None,
            };
            let via = n.via.clone();
            n = next?;
            n.via = via;
        }
        if n.has_expr() {
            return None;
        }
        n.at = at;
        n.comments = Comments::default();
        Some(n)
    }
}

/// The modules an expression refers to (`module.<name>...`), in order.
pub fn module_refs(e: &Expression) -> Vec<String> {
    struct Refs(Vec<String>);
    impl Visit for Refs {
        fn visit_traversal(&mut self, t: &hcl::edit::expr::Traversal) {
            if let Expression::Variable(root) = &t.expr
                && root.value().as_str() == "module"
                && let Some(TraversalOperator::GetAttr(name)) =
                    t.operators.first().map(|o| o.value())
            {
                let name = name.value().to_string();
                if !self.0.contains(&name) {
                    self.0.push(name);
                }
            }
            visit_traversal(self, t);
        }
    }
    let mut r = Refs(Vec::new());
    r.visit_expr(e);
    r.0
}

/// `module.<m>.current_config["<key>"]` (or `.current_config.<key>`): the key of the cluster
/// module's resolved configuration it reads.
pub fn current_config_key(e: &Expression) -> Option<(String, String)> {
    let Expression::Traversal(t) = e else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    if root.value().as_str() != "module" {
        return None;
    }
    let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
    let [
        TraversalOperator::GetAttr(m),
        TraversalOperator::GetAttr(c),
        last,
    ] = ops.as_slice()
    else {
        return None;
    };
    if c.value().as_str() != "current_config" {
        return None;
    }
    let key = match last {
        TraversalOperator::GetAttr(k) => k.value().to_string(),
        TraversalOperator::Index(Expression::String(s)) => s.value().to_string(),
        _ => return None,
    };
    Some((m.value().to_string(), key))
}

/// The `alias.name` a provider reference (`aws.eks_zero`) names.
pub fn provider_ref(e: &Expression) -> Option<(String, String)> {
    let Expression::Traversal(t) = e else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    match t
        .operators
        .iter()
        .map(|o| o.value())
        .collect::<Vec<_>>()
        .as_slice()
    {
        [TraversalOperator::GetAttr(alias)] => {
            Some((root.value().to_string(), alias.value().to_string()))
        }
        _ => None,
    }
}

pub fn text_of(sources: &SourceMap, file: FileId) -> &str {
    sources
        .get(file)
        .map(|f| f.text.as_str())
        .unwrap_or_default()
}

/// The text at `at`, as written.
pub fn snippet(sources: &SourceMap, at: At) -> String {
    sources
        .snippet(at.file, at.span)
        .unwrap_or_default()
        .to_string()
}

fn attach_trailing(entries: &mut [Entry], inner: &mut Vec<String>, trailing: Vec<String>) {
    if trailing.is_empty() {
        return;
    }
    match entries.last_mut() {
        Some(e) => {
            let joined = trailing.join(" ");
            e.value.comments.trailing = Some(match e.value.comments.trailing.take() {
                Some(t) => format!("{t} {joined}"),
                None => joined,
            });
        }
        None => inner.extend(trailing),
    }
}

/// Splits the text between two items into the comments ending the first item's line and the
/// comment lines above the second.
fn split_gap(gap: &str) -> (Vec<String>, Vec<String>) {
    let (first, rest) = match gap.find('\n') {
        Some(i) if !gap[..i].contains("/*") => (&gap[..i], &gap[i..]),
        _ if gap.contains('\n') => ("", gap),
        _ => (gap, ""),
    };
    (comment_lines(first), comment_lines(rest))
}

/// The comments in a stretch of text that holds only whitespace, separators and comments,
/// without their markers, one entry per line.
fn comment_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['#', '/']) {
        let tail = &rest[i..];
        if let Some(body) = tail.strip_prefix('#').or_else(|| tail.strip_prefix("//")) {
            let end = body.find('\n').unwrap_or(body.len());
            out.push(clean(&body[..end]));
            rest = &body[end..];
        } else if let Some(body) = tail.strip_prefix("/*") {
            let end = body.find("*/").unwrap_or(body.len());
            for line in body[..end].lines() {
                let line = line.trim();
                let line = line.strip_prefix('*').unwrap_or(line);
                out.push(clean(line));
            }
            rest = body.get(end + 2..).unwrap_or_default();
        } else {
            rest = &tail[1..];
        }
    }
    out
}

/// A comment's text without the one space after its marker and trailing whitespace.
fn clean(s: &str) -> String {
    let s = s.trim_end();
    s.strip_prefix(' ').unwrap_or(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> (SourceMap, Repo) {
        let mut sources = SourceMap::default();
        let id = sources.add("main.tf".into(), "main.tf".into(), text.into());
        let body = hcl::edit::parser::parse_body(text).expect("valid");
        let repo = Repo {
            files: vec![TfFile { id, body }],
            vars: BTreeMap::new(),
            locals: BTreeMap::new(),
        };
        (sources, repo)
    }

    #[test]
    fn comments_attach_to_their_entries() {
        let text = "x = {\n  # about a\n  a = \"1\" # a's own\n  // about b\n  b = 2, c = [1, \"2\"]\n  # dangling\n}\n";
        let (sources, repo) = read_text(text);
        let attr = repo.files[0].body.get_attribute("x").expect("x");
        let n = repo.node(&sources, repo.files[0].id, &attr.value, 0);
        let e = n.entries().expect("map");
        assert_eq!(e[0].value.comments.leading, ["about a"]);
        assert_eq!(e[0].value.comments.trailing.as_deref(), Some("a's own"));
        assert_eq!(e[1].value.comments.leading, ["about b"]);
        assert!(matches!(e[1].value.kind, NodeKind::Int(2)));
        assert_eq!(e[2].value.show(), "[1, \"2\"]");
        assert_eq!(n.comments.inner, ["dangling"]);
    }

    #[test]
    fn references_resolve_or_stay_verbatim() {
        let text = "locals {\n  zones = [\"a\", \"b\"]\n}\nresource \"azurerm_resource_group\" \"rg\" {\n  name = \"kbst-${local.zones[1]}\"\n  location = \"eastus2\"\n}\nx = {\n  z = local.zones\n  p = \"${path.root}/m.yaml\"\n  w = terraform.workspace\n  d = data.x.y\n  g = azurerm_resource_group.rg.name\n  i = azurerm_resource_group.rg.id\n}\n";
        let (sources, mut repo) = read_text(text);
        for b in repo.files[0].body.get_blocks("locals") {
            for a in b.body.attributes() {
                repo.locals.insert(
                    a.key.value().to_string(),
                    (repo.files[0].id, a.value.clone()),
                );
            }
        }
        let attr = repo.files[0].body.get_attribute("x").expect("x");
        let n = repo.node(&sources, repo.files[0].id, &attr.value, 0);
        assert_eq!(n.get("z").expect("z").show(), "[\"a\", \"b\"]");
        assert_eq!(n.get("p").expect("p").as_str(), Some("./m.yaml"));
        assert!(
            matches!(&n.get("w").expect("w").kind, NodeKind::Expr(t) if t == "terraform.workspace")
        );
        assert!(matches!(&n.get("d").expect("d").kind, NodeKind::Expr(t) if t == "data.x.y"));
        let g = n.get("g").expect("g");
        assert_eq!(g.as_str(), Some("kbst-b"));
        assert!(
            g.via
                .as_deref()
                .is_some_and(|v| v.starts_with("`name` of `azurerm_resource_group.rg` (main.tf:5)")),
            "{:?}",
            g.via
        );
        // A computed attribute is not an argument written in the repository.
        assert!(matches!(&n.get("i").expect("i").kind, NodeKind::Expr(_)));
    }

    #[test]
    fn module_references_are_found() {
        let e = hcl::edit::parser::parse_expr("module.eks_zero.current_metadata[\"name\"]")
            .expect("expr");
        assert_eq!(module_refs(&e), ["eks_zero"]);
        let e = hcl::edit::parser::parse_expr("module.gke_zero.current_config[\"region\"]")
            .expect("expr");
        assert_eq!(
            current_config_key(&e),
            Some(("gke_zero".into(), "region".into()))
        );
    }
}
