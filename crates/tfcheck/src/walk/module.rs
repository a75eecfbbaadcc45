//! Reading a module directory: its parsed `.tf` files, `required_providers` and variables.

use crate::problem::Error;
use crate::schema;
use hcl::edit::expr::{Expression, ObjectKey};
use hcl::edit::structure::Body;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// One module directory, parsed.
pub(super) struct Module {
    /// The directory as reached from the root.
    pub(super) dir: PathBuf,
    pub(super) files: Vec<SourceFile>,
    /// `required_providers`: local name to provider address.
    providers: BTreeMap<String, String>,
    /// Declared input variables, and whether each must be passed (has no `default`).
    pub(super) variables: BTreeMap<String, bool>,
}

/// One parsed `.tf` file.
pub(super) struct SourceFile {
    pub(super) path: PathBuf,
    pub(super) lines: LineIndex,
    pub(super) body: Body,
}

impl Module {
    /// Parses every `*.tf` file directly in `dir`, in file name order.
    pub(super) fn parse(dir: &Path) -> Result<Module, Error> {
        let io_error = |source| Error::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io_error)? {
            let path = entry.map_err(io_error)?.path();
            if path.extension().is_some_and(|ext| ext == "tf") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let body = hcl::edit::parser::parse_body(&text).map_err(|error| Error::Parse {
                path: path.clone(),
                line: error.location().line(),
                column: error.location().column(),
                message: error.message().to_owned(),
            })?;
            files.push(SourceFile {
                path,
                lines: LineIndex::new(text),
                body,
            });
        }
        Ok(Module {
            dir: dir.to_path_buf(),
            providers: required_providers(&files),
            variables: variables(&files),
            files,
        })
    }

    /// The provider address for a local name, via this module's `required_providers`.
    pub(super) fn provider_address(&self, local_name: &str) -> String {
        self.providers
            .get(local_name)
            .cloned()
            .unwrap_or_else(|| schema::default_provider_address(local_name))
    }
}

/// `required_providers` of all `terraform` blocks: local name to provider address.
fn required_providers(files: &[SourceFile]) -> BTreeMap<String, String> {
    let mut providers = BTreeMap::new();
    let terraform_blocks = files
        .iter()
        .flat_map(|file| file.body.get_blocks("terraform"));
    for required in terraform_blocks.flat_map(|block| block.body.get_blocks("required_providers")) {
        for attribute in required.body.attributes() {
            let local_name = attribute.key.value().as_str();
            let address = match object_string(&attribute.value, "source") {
                Some(source) => schema::provider_address(&source),
                None => schema::default_provider_address(local_name),
            };
            providers.insert(local_name.to_owned(), address);
        }
    }
    providers
}

/// Declared variables, and whether each is required (has no `default`).
fn variables(files: &[SourceFile]) -> BTreeMap<String, bool> {
    files
        .iter()
        .flat_map(|file| file.body.get_blocks("variable"))
        .filter_map(|block| {
            let name = block.labels.first()?.as_str().to_owned();
            Some((name, !block.body.has_attribute("default")))
        })
        .collect()
}

/// The literal string value of `key` in an object expression.
fn object_string(expr: &Expression, key: &str) -> Option<String> {
    let Expression::Object(object) = expr else {
        return None;
    };
    object.iter().find_map(|(object_key, value)| {
        let matches = match object_key {
            ObjectKey::Ident(ident) => ident.value().as_str() == key,
            ObjectKey::Expression(Expression::String(text)) => text.value() == key,
            ObjectKey::Expression(_) => false,
        };
        match value.expr() {
            Expression::String(text) if matches => Some(text.value().clone()),
            _ => None,
        }
    })
}

/// Removes `.` and resolves `..` without touching the file system.
pub(super) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Byte offsets to 1-based line and column.
pub(super) struct LineIndex {
    text: String,
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: String) -> LineIndex {
        let newlines = text.match_indices('\n').map(|(index, _)| index + 1);
        let starts = std::iter::once(0).chain(newlines).collect();
        LineIndex { text, starts }
    }

    /// The 1-based line and column (counted in characters) of a byte offset.
    pub(super) fn locate(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|start| *start <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |prefix| prefix.chars().count());
        (line, column + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_lines_and_characters() {
        let index = LineIndex::new("a = 1\n  bé = \"x\"\n".to_owned());
        assert_eq!(index.locate(0), (1, 1));
        assert_eq!(index.locate(6), (2, 1));
        assert_eq!(index.locate(8), (2, 3));
        // After the two-byte "é", the column counts characters.
        assert_eq!(index.locate(12), (2, 6));
    }

    #[test]
    fn normalize_resolves_dots() {
        assert_eq!(
            normalize(Path::new("root/./modules/../modules/eks/./cluster")),
            PathBuf::from("root/modules/eks/cluster")
        );
        assert_eq!(normalize(Path::new("../x/./y")), PathBuf::from("../x/y"));
    }

    #[test]
    fn reads_required_providers_and_variables() {
        let body = hcl::edit::parser::parse_body(
            r#"
terraform {
  required_providers {
    kind   = { source = "tehcyx/kind" }
    google = "~> 6.0"
  }
}
variable "name" {}
variable "image" {
  default = null
}
"#,
        )
        .expect("valid HCL");
        let files = [SourceFile {
            path: PathBuf::from("main.tf"),
            lines: LineIndex::new(String::new()),
            body,
        }];
        assert_eq!(
            required_providers(&files),
            BTreeMap::from([
                (
                    "google".to_owned(),
                    "registry.terraform.io/hashicorp/google".to_owned()
                ),
                (
                    "kind".to_owned(),
                    "registry.terraform.io/tehcyx/kind".to_owned()
                ),
            ])
        );
        assert_eq!(
            variables(&files),
            BTreeMap::from([("image".to_owned(), false), ("name".to_owned(), true)])
        );
    }
}
