//! Walks a module's `.tf` files (and the local modules it calls) and checks every resource,
//! data, provider and module block.

mod literal;
mod module;

use crate::problem::{Error, Problem, Severity};
use crate::schema::{Attribute as AttributeSchema, Block as BlockSchema, BlockType};
use crate::schema::{NestingMode, Schemas, Type};
use hcl::edit::Span;
use hcl::edit::expr::Expression;
use hcl::edit::structure::{Attribute, Block, Body, Structure};
use module::{Module, SourceFile, normalize};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::LazyLock;

/// Top-level blocks that carry no provider schema and are accepted as written.
const IGNORED_BLOCKS: &[&str] = &[
    "terraform",
    "locals",
    "output",
    "variable",
    "check",
    "import",
    "moved",
    "removed",
    "ephemeral",
];

/// Arguments of a `module` block that are not input variables.
const MODULE_META_ARGUMENTS: &[&str] = &[
    "source",
    "version",
    "providers",
    "count",
    "for_each",
    "depends_on",
];

/// Arguments of a `dynamic` block besides its `content` block.
const DYNAMIC_ARGUMENTS: &[&str] = &["for_each", "iterator", "labels"];

/// Minimum `strsim::jaro_winkler` similarity for a did-you-mean suggestion.
const SUGGESTION_THRESHOLD: f64 = 0.8;

/// Meta-arguments of `resource` blocks, as a schema.
static RESOURCE_META: LazyLock<BlockSchema> = LazyLock::new(|| meta_arguments(true));
/// Meta-arguments of `data` blocks, as a schema.
static DATA_META: LazyLock<BlockSchema> = LazyLock::new(|| meta_arguments(false));
/// Meta-arguments of `provider` blocks, as a schema.
static PROVIDER_META: LazyLock<BlockSchema> = LazyLock::new(|| BlockSchema {
    attributes: BTreeMap::from([
        (
            "alias".to_owned(),
            AttributeSchema::new_optional(Type::String),
        ),
        (
            "version".to_owned(),
            AttributeSchema {
                deprecated: true,
                ..AttributeSchema::new_optional(Type::String)
            },
        ),
    ]),
    ..BlockSchema::default()
});

/// Checks the module in `root` and every local module it calls; see [`crate::check_dir`].
pub(crate) fn check_dir(root: &Path, schemas: &Schemas) -> Result<Vec<Problem>, Error> {
    let mut walker = Walker {
        schemas,
        modules: HashMap::new(),
        problems: Vec::new(),
    };
    let mut queue = vec![normalize(root)];
    let mut checked = BTreeSet::new();
    while let Some(dir) = queue.pop() {
        let module = walker.load(&dir)?;
        // `Rc` identity: a module reached twice is the same parsed module.
        if checked.insert(Rc::as_ptr(&module)) {
            walker.check_module(&module, &mut queue)?;
        }
    }
    let mut problems = walker.problems;
    problems.sort_by(|a, b| {
        (&a.file, a.line, a.column, &a.message).cmp(&(&b.file, b.line, b.column, &b.message))
    });
    Ok(problems)
}

/// Where problems found in one top-level block go.
struct Ctx<'a> {
    file: &'a SourceFile,
    address: String,
    /// The top-level block, for problems without a more precise place.
    span: Option<Range<usize>>,
}

/// What a body may contain: the schema's attributes and blocks, plus meta-arguments.
struct Scope<'s> {
    schema: &'s BlockSchema,
    meta: Option<&'s BlockSchema>,
    /// `provisioner` and `connection` blocks are allowed (managed resources only).
    provisioners: bool,
}

struct Walker<'s> {
    schemas: &'s Schemas,
    /// Parsed modules by canonical directory: each is parsed and checked once.
    modules: HashMap<PathBuf, Rc<Module>>,
    problems: Vec<Problem>,
}

impl Walker<'_> {
    /// Parses the module in `dir`, or returns it if it was parsed before.
    fn load(&mut self, dir: &Path) -> Result<Rc<Module>, Error> {
        let key = dir.canonicalize().map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        if let Some(module) = self.modules.get(&key) {
            return Ok(Rc::clone(module));
        }
        let module = Rc::new(Module::parse(dir)?);
        self.modules.insert(key, Rc::clone(&module));
        Ok(module)
    }

    fn check_module(&mut self, module: &Module, queue: &mut Vec<PathBuf>) -> Result<(), Error> {
        for file in &module.files {
            for structure in file.body.iter() {
                match structure {
                    Structure::Attribute(attribute) => {
                        let ctx = Ctx {
                            file,
                            address: "(top level)".to_owned(),
                            span: attribute.span(),
                        };
                        let name = attribute.key.value();
                        let message = format!("unsupported argument \"{name}\" at the top level");
                        self.error(&ctx, attribute.span(), message);
                    }
                    Structure::Block(block) => match block.ident.value().as_str() {
                        "resource" => self.check_resource(module, file, block, true),
                        "data" => self.check_resource(module, file, block, false),
                        "provider" => self.check_provider(module, file, block),
                        "module" => self.check_module_call(module, file, block, queue)?,
                        name if IGNORED_BLOCKS.contains(&name) => {}
                        name => {
                            let ctx = Ctx {
                                file,
                                address: name.to_owned(),
                                span: block.ident.span(),
                            };
                            let message =
                                format!("unsupported block type \"{name}\" at the top level");
                            self.error(&ctx, block.ident.span(), message);
                        }
                    },
                }
            }
        }
        Ok(())
    }

    /// A `resource` (`managed`) or `data` block.
    fn check_resource(&mut self, module: &Module, file: &SourceFile, block: &Block, managed: bool) {
        let kind = if managed { "resource" } else { "data" };
        let labels: Vec<&str> = block.labels.iter().map(|label| label.as_str()).collect();
        let mut ctx = Ctx {
            file,
            address: format!("{kind}.{}", labels.join(".")),
            span: block.ident.span(),
        };
        let [type_name, name] = labels.as_slice() else {
            let message = format!("a {kind} block needs two labels, found {}", labels.len());
            self.error(&ctx, block.ident.span(), message);
            return;
        };
        ctx.address = format!("{kind}.{type_name}.{name}");
        let type_span = block.labels.first().and_then(Span::span);
        let local_name = block
            .body
            .get_attribute("provider")
            .and_then(|provider| root_name(&provider.value))
            .unwrap_or_else(|| type_name.split('_').next().unwrap_or(type_name));
        let address = module.provider_address(local_name);
        let Some(provider) = self.schemas.provider(&address) else {
            let message = format!(
                "no schema loaded for provider {address}, needed by {kind} type \"{type_name}\""
            );
            self.error(&ctx, type_span, message);
            return;
        };
        let (types, what) = if managed {
            (&provider.resources, "resource type")
        } else {
            (&provider.data_sources, "data source")
        };
        let Some(schema) = types.get(*type_name) else {
            let hint = did_you_mean(type_name, types.keys().map(String::as_str));
            let message = format!("unknown {what} \"{type_name}\" in provider {address}{hint}");
            self.error(&ctx, type_span, message);
            return;
        };
        if schema.deprecated {
            let message = format!("{what} \"{type_name}\" is deprecated");
            self.report(&ctx, type_span, Severity::Warning, message);
        }
        self.check_repetition(&ctx, &block.body);
        let meta: &BlockSchema = if managed { &RESOURCE_META } else { &DATA_META };
        let scope = Scope {
            schema,
            meta: Some(meta),
            provisioners: managed,
        };
        self.check_body(&ctx, &block.body, &scope, "", block.ident.span());
    }

    fn check_provider(&mut self, module: &Module, file: &SourceFile, block: &Block) {
        let labels: Vec<&str> = block.labels.iter().map(|label| label.as_str()).collect();
        let ctx = Ctx {
            file,
            address: format!("provider.{}", labels.join(".")),
            span: block.ident.span(),
        };
        let [local_name] = labels.as_slice() else {
            let message = format!("a provider block needs one label, found {}", labels.len());
            self.error(&ctx, block.ident.span(), message);
            return;
        };
        let address = module.provider_address(local_name);
        let Some(provider) = self.schemas.provider(&address) else {
            let message = format!("no schema loaded for provider {address}");
            self.error(&ctx, block.labels.first().and_then(Span::span), message);
            return;
        };
        let scope = Scope {
            schema: &provider.provider,
            meta: Some(&PROVIDER_META),
            provisioners: false,
        };
        self.check_body(&ctx, &block.body, &scope, "", block.ident.span());
    }

    /// A `module` block: local modules get their arguments checked against their variables,
    /// and are queued to be checked themselves.
    fn check_module_call(
        &mut self,
        module: &Module,
        file: &SourceFile,
        block: &Block,
        queue: &mut Vec<PathBuf>,
    ) -> Result<(), Error> {
        let labels: Vec<&str> = block.labels.iter().map(|label| label.as_str()).collect();
        let ctx = Ctx {
            file,
            address: format!("module.{}", labels.join(".")),
            span: block.ident.span(),
        };
        if labels.len() != 1 {
            let message = format!("a module block needs one label, found {}", labels.len());
            self.error(&ctx, block.ident.span(), message);
            return Ok(());
        }
        self.check_repetition(&ctx, &block.body);
        let Some(source) = block.body.get_attribute("source") else {
            self.error(
                &ctx,
                block.ident.span(),
                "missing required argument \"source\"".to_owned(),
            );
            return Ok(());
        };
        let Expression::String(source_path) = &source.value else {
            let message = "argument \"source\" must be a literal string".to_owned();
            self.error(&ctx, source.value.span(), message);
            return Ok(());
        };
        let source_path = source_path.value().as_str();
        if !(source_path.starts_with("./") || source_path.starts_with("../")) {
            return Ok(()); // A registry or remote module: its variables are not known here.
        }
        let dir = normalize(&module.dir.join(source_path));
        if !dir.is_dir() {
            let message = format!("module source \"{source_path}\" is not a directory");
            self.error(&ctx, source.value.span(), message);
            return Ok(());
        }
        let called = self.load(&dir)?;
        queue.push(dir);
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    let name = attribute.key.value().as_str();
                    if MODULE_META_ARGUMENTS.contains(&name) || called.variables.contains_key(name)
                    {
                        continue;
                    }
                    let hint = did_you_mean(name, called.variables.keys().map(String::as_str));
                    let message = format!(
                        "unsupported argument \"{name}\": module \"{source_path}\" declares no \
                         variable \"{name}\"{hint}"
                    );
                    self.error(&ctx, attribute.span(), message);
                }
                Structure::Block(inner) => {
                    let message = format!(
                        "unsupported block type \"{}\": a module call takes only arguments",
                        inner.ident.value()
                    );
                    self.error(&ctx, inner.ident.span(), message);
                }
            }
        }
        for (name, required) in &called.variables {
            if *required && !block.body.has_attribute(name) {
                let message = format!(
                    "missing required argument \"{name}\": variable \"{name}\" of module \
                     \"{source_path}\" has no default"
                );
                self.error(&ctx, block.ident.span(), message);
            }
        }
        Ok(())
    }

    /// `count` and `for_each` exclude each other.
    fn check_repetition(&mut self, ctx: &Ctx<'_>, body: &Body) {
        if let (Some(_), Some(for_each)) =
            (body.get_attribute("count"), body.get_attribute("for_each"))
        {
            let message = "\"count\" and \"for_each\" cannot both be set".to_owned();
            self.error(ctx, for_each.span(), message);
        }
    }

    /// Checks a block body against `scope`; `path` names the nested blocks leading here
    /// (empty at the top), `owner` is where the body's block starts.
    fn check_body(
        &mut self,
        ctx: &Ctx<'_>,
        body: &Body,
        scope: &Scope<'_>,
        path: &str,
        owner: Option<Range<usize>>,
    ) {
        let mut assigned = BTreeSet::new();
        let mut written: BTreeMap<&str, Vec<Option<Range<usize>>>> = BTreeMap::new();
        let mut dynamic = BTreeSet::new();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    assigned.insert(attribute.key.value().as_str());
                    self.check_attribute(ctx, attribute, scope, path);
                }
                Structure::Block(block) => {
                    let name = block.ident.value().as_str();
                    if name == "dynamic" && scope.block_type(name).is_none() {
                        if let Some(generated) = self.check_dynamic(ctx, block, scope, path) {
                            dynamic.insert(generated);
                        }
                    } else if self.check_nested_block(ctx, block, scope, path) {
                        written.entry(name).or_default().push(block.ident.span());
                    }
                }
            }
        }
        let within = within(path);
        for (name, block_type) in scope.block_types() {
            let spans = written
                .get(name.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            let count = spans.len() as u64;
            if let Some(max) = block_type.max().filter(|max| count > *max) {
                let span = spans.get(max as usize).cloned().flatten();
                let message = match block_type.nesting {
                    NestingMode::Single | NestingMode::Group => {
                        format!("duplicate \"{name}\" block{within}: it may appear only once")
                    }
                    _ => format!(
                        "too many \"{name}\" blocks{within}: at most {max} allowed, found {count}"
                    ),
                };
                self.error(ctx, span, message);
            }
            if count < block_type.min_items && !dynamic.contains(name.as_str()) {
                let message = if count == 0 {
                    format!("missing required block \"{name}\"{within}")
                } else {
                    format!(
                        "too few \"{name}\" blocks{within}: at least {} required, found {count}",
                        block_type.min_items
                    )
                };
                self.error(ctx, owner.clone(), message);
            }
        }
        for (name, attribute) in scope.attributes() {
            let name = name.as_str();
            let present =
                assigned.contains(name) || written.contains_key(name) || dynamic.contains(name);
            if attribute.required && !present {
                let message = format!("missing required argument \"{name}\"{within}");
                self.error(ctx, owner.clone(), message);
            }
        }
    }

    fn check_attribute(
        &mut self,
        ctx: &Ctx<'_>,
        attribute: &Attribute,
        scope: &Scope<'_>,
        path: &str,
    ) {
        let name = attribute.key.value().as_str();
        let within = within(path);
        let Some(schema) = scope.attribute(name) else {
            let message = if scope.block_type(name).is_some() {
                format!(
                    "\"{name}\"{within} is a block, not an argument; write it as {name} {{ ... }}"
                )
            } else {
                let hint = did_you_mean(name, scope.names());
                format!("unsupported argument \"{name}\"{within}{hint}")
            };
            self.error(ctx, attribute.span(), message);
            return;
        };
        if schema.is_computed_only() {
            let message = format!(
                "argument \"{name}\"{within} is computed by the provider and cannot be set"
            );
            self.error(ctx, attribute.span(), message);
            return;
        }
        if schema.deprecated {
            let message = format!("argument \"{name}\"{within} is deprecated");
            self.report(ctx, attribute.span(), Severity::Warning, message);
        }
        for mismatch in literal::check(&attribute.value, &schema.ty) {
            let at = if mismatch.path.is_empty() {
                String::new()
            } else {
                format!(" at {}", mismatch.path)
            };
            let lead = match mismatch.severity {
                Severity::Error => "inappropriate value for",
                Severity::Warning => "value of",
            };
            let message = format!(
                "{lead} argument \"{name}\"{within}{at}: {}",
                mismatch.detail
            );
            self.report(ctx, mismatch.span, mismatch.severity, message);
        }
    }

    /// Checks a nested (non-`dynamic`) block; returns whether it counts as a written block of
    /// its type (or block-syntax attribute).
    fn check_nested_block(
        &mut self,
        ctx: &Ctx<'_>,
        block: &Block,
        scope: &Scope<'_>,
        path: &str,
    ) -> bool {
        let name = block.ident.value().as_str();
        let within = within(path);
        let inner_path = join(path, name);
        if let Some(block_type) = scope.block_type(name) {
            let labels = if block_type.nesting == NestingMode::Map {
                1
            } else {
                0
            };
            self.check_labels(ctx, block, labels, &within);
            if block_type.block.deprecated {
                let message = format!("block \"{name}\"{within} is deprecated");
                self.report(ctx, block.ident.span(), Severity::Warning, message);
            }
            self.check_body(
                ctx,
                &block.body,
                &Scope::plain(&block_type.block),
                &inner_path,
                block.ident.span(),
            );
            return true;
        }
        if let Some(attribute) = scope.attribute(name) {
            match attribute.block_syntax_object() {
                Some(object) if !attribute.is_computed_only() => {
                    self.check_labels(ctx, block, 0, &within);
                    let schema = BlockSchema::from_object(object);
                    self.check_body(
                        ctx,
                        &block.body,
                        &Scope::plain(&schema),
                        &inner_path,
                        block.ident.span(),
                    );
                    return true;
                }
                _ if attribute.is_computed_only() => {
                    let message = format!(
                        "argument \"{name}\"{within} is computed by the provider and cannot be set"
                    );
                    self.error(ctx, block.ident.span(), message);
                }
                _ => {
                    let message = format!(
                        "\"{name}\"{within} is an argument, not a block; write it as {name} = ..."
                    );
                    self.error(ctx, block.ident.span(), message);
                }
            }
            return false;
        }
        if scope.provisioners && (name == "provisioner" || name == "connection") {
            // Provisioner and connection settings have no provider schema.
            let labels = if name == "provisioner" { 1 } else { 0 };
            self.check_labels(ctx, block, labels, &within);
            return false;
        }
        let hint = did_you_mean(name, scope.names());
        let message = format!("unsupported block type \"{name}\"{within}{hint}");
        self.error(ctx, block.ident.span(), message);
        false
    }

    /// A `dynamic "name" { for_each = ... content { ... } }` block; returns the generated block
    /// type's name when it is one.
    fn check_dynamic(
        &mut self,
        ctx: &Ctx<'_>,
        block: &Block,
        scope: &Scope<'_>,
        path: &str,
    ) -> Option<String> {
        let within = within(path);
        let [label] = block.labels.as_slice() else {
            let message = format!(
                "a dynamic block{within} needs one label (the block type to generate), found {}",
                block.labels.len()
            );
            self.error(ctx, block.ident.span(), message);
            return None;
        };
        let name = label.as_str();
        let label_span = label.span();
        // Meta-argument blocks (lifecycle, provisioner) cannot be generated: only the schema's.
        let target: Cow<'_, BlockSchema> = if let Some(block_type) =
            scope.schema.block_types.get(name)
        {
            Cow::Borrowed(&block_type.block)
        } else if let Some(attribute) = scope.schema.attributes.get(name) {
            match attribute.block_syntax_object() {
                Some(object) if !attribute.is_computed_only() => {
                    Cow::Owned(BlockSchema::from_object(object))
                }
                _ => {
                    let message = format!(
                        "\"{name}\"{within} is an argument, not a block; a dynamic block cannot \
                         generate it"
                    );
                    self.error(ctx, label_span, message);
                    return None;
                }
            }
        } else {
            let hint = did_you_mean(name, scope.schema.names());
            let message =
                format!("unsupported block type \"{name}\"{within} in dynamic block{hint}");
            self.error(ctx, label_span, message);
            return None;
        };
        let mut for_each = false;
        let mut contents = Vec::new();
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    let argument = attribute.key.value().as_str();
                    for_each |= argument == "for_each";
                    if !DYNAMIC_ARGUMENTS.contains(&argument) {
                        let hint = did_you_mean(argument, DYNAMIC_ARGUMENTS.iter().copied());
                        let message = format!(
                            "unsupported argument \"{argument}\" in dynamic \"{name}\"{within}{hint}"
                        );
                        self.error(ctx, attribute.span(), message);
                    }
                }
                Structure::Block(inner) if inner.ident.value().as_str() == "content" => {
                    contents.push(inner);
                }
                Structure::Block(inner) => {
                    let message = format!(
                        "unsupported block type \"{}\" in dynamic \"{name}\"{within}; only \
                         \"content\" is allowed",
                        inner.ident.value()
                    );
                    self.error(ctx, inner.ident.span(), message);
                }
            }
        }
        if !for_each {
            let message =
                format!("missing required argument \"for_each\" in dynamic \"{name}\"{within}");
            self.error(ctx, block.ident.span(), message);
        }
        match contents.as_slice() {
            [] => {
                let message =
                    format!("missing required block \"content\" in dynamic \"{name}\"{within}");
                self.error(ctx, block.ident.span(), message);
            }
            [_] => {}
            [_, extra, ..] => {
                let message = format!("duplicate \"content\" block in dynamic \"{name}\"{within}");
                self.error(ctx, extra.ident.span(), message);
            }
        }
        let inner_path = join(path, name);
        for content in contents {
            self.check_labels(ctx, content, 0, &within);
            self.check_body(
                ctx,
                &content.body,
                &Scope::plain(&target),
                &inner_path,
                content.ident.span(),
            );
        }
        Some(name.to_owned())
    }

    fn check_labels(&mut self, ctx: &Ctx<'_>, block: &Block, expected: usize, within: &str) {
        let found = block.labels.len();
        if found != expected {
            let message = format!(
                "block \"{}\"{within} takes {expected} label(s), found {found}",
                block.ident.value()
            );
            self.error(ctx, block.ident.span(), message);
        }
    }

    fn error(&mut self, ctx: &Ctx<'_>, span: Option<Range<usize>>, message: String) {
        self.report(ctx, span, Severity::Error, message);
    }

    fn report(
        &mut self,
        ctx: &Ctx<'_>,
        span: Option<Range<usize>>,
        severity: Severity,
        message: String,
    ) {
        let offset = span
            .or_else(|| ctx.span.clone())
            .map_or(0, |span| span.start);
        let (line, column) = ctx.file.lines.locate(offset);
        self.problems.push(Problem {
            file: ctx.file.path.clone(),
            line,
            column,
            severity,
            address: ctx.address.clone(),
            message,
        });
    }
}

impl<'s> Scope<'s> {
    /// A nested block's scope: no meta-arguments.
    fn plain(schema: &'s BlockSchema) -> Scope<'s> {
        Scope {
            schema,
            meta: None,
            provisioners: false,
        }
    }

    fn layers(&self) -> impl Iterator<Item = &'s BlockSchema> {
        std::iter::once(self.schema).chain(self.meta)
    }

    fn attribute(&self, name: &str) -> Option<&'s AttributeSchema> {
        self.layers().find_map(|layer| layer.attributes.get(name))
    }

    fn block_type(&self, name: &str) -> Option<&'s BlockType> {
        self.layers().find_map(|layer| layer.block_types.get(name))
    }

    fn attributes(&self) -> impl Iterator<Item = (&'s String, &'s AttributeSchema)> {
        self.layers().flat_map(|layer| &layer.attributes)
    }

    fn block_types(&self) -> impl Iterator<Item = (&'s String, &'s BlockType)> {
        self.layers().flat_map(|layer| &layer.block_types)
    }

    fn names(&self) -> impl Iterator<Item = &'s str> {
        self.layers().flat_map(BlockSchema::names)
    }
}

/// Meta-arguments of `resource` (`managed`) or `data` blocks, as a schema.
fn meta_arguments(managed: bool) -> BlockSchema {
    let condition = BlockSchema {
        attributes: BTreeMap::from([
            (
                "condition".to_owned(),
                AttributeSchema::new_required(Type::Dynamic),
            ),
            (
                "error_message".to_owned(),
                AttributeSchema::new_required(Type::String),
            ),
        ]),
        ..BlockSchema::default()
    };
    let mut lifecycle = BlockSchema {
        block_types: BTreeMap::from([
            (
                "precondition".to_owned(),
                BlockType::new(NestingMode::List, condition.clone()),
            ),
            (
                "postcondition".to_owned(),
                BlockType::new(NestingMode::List, condition),
            ),
        ]),
        ..BlockSchema::default()
    };
    if managed {
        lifecycle.attributes = BTreeMap::from([
            (
                "create_before_destroy".to_owned(),
                AttributeSchema::new_optional(Type::Bool),
            ),
            (
                "prevent_destroy".to_owned(),
                AttributeSchema::new_optional(Type::Bool),
            ),
            (
                "ignore_changes".to_owned(),
                AttributeSchema::new_optional(Type::Dynamic),
            ),
            (
                "replace_triggered_by".to_owned(),
                AttributeSchema::new_optional(Type::List(Box::new(Type::Dynamic))),
            ),
        ]);
    }
    BlockSchema {
        attributes: BTreeMap::from([
            (
                "count".to_owned(),
                AttributeSchema::new_optional(Type::Number),
            ),
            (
                "for_each".to_owned(),
                AttributeSchema::new_optional(Type::Dynamic),
            ),
            (
                "depends_on".to_owned(),
                AttributeSchema::new_optional(Type::List(Box::new(Type::Dynamic))),
            ),
            (
                "provider".to_owned(),
                AttributeSchema::new_optional(Type::Dynamic),
            ),
        ]),
        block_types: BTreeMap::from([(
            "lifecycle".to_owned(),
            BlockType::new(NestingMode::Single, lifecycle),
        )]),
        deprecated: false,
    }
}

fn root_name(expr: &Expression) -> Option<&str> {
    match expr {
        Expression::Variable(name) => Some(name.value().as_str()),
        Expression::Traversal(traversal) => root_name(&traversal.expr),
        _ => None,
    }
}

/// ` in node_config` for nested blocks, nothing at the top.
fn within(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" in {path}")
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// `; did you mean "x"?` for the most similar candidate, if any is similar enough.
fn did_you_mean<'n>(name: &str, candidates: impl Iterator<Item = &'n str>) -> String {
    candidates
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(score, _)| *score >= SUGGESTION_THRESHOLD)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, best)| format!("; did you mean \"{best}\"?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_need_similar_names() {
        let names = ["name", "location", "node_config"];
        assert_eq!(
            did_you_mean("nmae", names.into_iter()),
            "; did you mean \"name\"?"
        );
        assert_eq!(did_you_mean("zzz", names.into_iter()), "");
    }
}
