//! Checks literal values against schema types by Terraform's (cty's) conversion rules.
//!
//! Only what is written literally is judged: a reference, function call, conditional,
//! template with interpolation or `for` expression could be anything and is skipped, but the
//! literal parts around it (the tuple or object that contains it) are still checked.

use crate::problem::Severity;
use crate::schema::Type;
use hcl::edit::Span;
use hcl::edit::expr::{Array, Expression, Object, ObjectKey};
use hcl::edit::template::{Element, Template};
use std::ops::Range;

/// A value that Terraform would not convert to the attribute's type.
#[derive(Debug)]
pub(super) struct Mismatch {
    /// Where the offending (sub-)value is.
    pub(super) span: Option<Range<usize>>,
    pub(super) severity: Severity,
    /// Where inside the value, e.g. `[0].key`; empty for the value itself.
    pub(super) path: String,
    /// What is wrong, e.g. `number required, got string "three"`.
    pub(super) detail: String,
}

/// What a literal expression is, as far as type conversion is concerned.
enum Shape<'e> {
    /// Not a literal: its type is only known when Terraform evaluates it.
    Unknown,
    Null,
    Bool,
    Number,
    String(String),
    Tuple(&'e Array),
    Object(&'e Object),
}

/// Checks `expr` against `ty`, returning everything Terraform would reject or discard.
pub(super) fn check(expr: &Expression, ty: &Type) -> Vec<Mismatch> {
    let mut out = Vec::new();
    check_at(expr, ty, "", &mut out);
    out
}

fn check_at(expr: &Expression, ty: &Type, path: &str, out: &mut Vec<Mismatch>) {
    let found = shape(expr);
    let mismatch = |severity, detail| Mismatch {
        span: expr.span(),
        severity,
        path: path.to_owned(),
        detail,
    };
    match (ty, &found) {
        (Type::Dynamic, _) | (_, Shape::Unknown | Shape::Null) => {}
        (Type::String, Shape::Bool | Shape::Number | Shape::String(_)) => {}
        (Type::Number, Shape::Number) | (Type::Bool, Shape::Bool) => {}
        (Type::Number, Shape::String(text)) if is_number(text) => {}
        (Type::Bool, Shape::String(text))
            if matches!(text.as_str(), "true" | "false" | "1" | "0") => {}
        (Type::List(element) | Type::Set(element), Shape::Tuple(array)) => {
            for (index, item) in array.iter().enumerate() {
                check_at(item, element, &format!("{path}[{index}]"), out);
            }
        }
        (Type::Tuple(elements), Shape::Tuple(array)) if elements.len() == array.len() => {
            for (index, (item, element)) in array.iter().zip(elements).enumerate() {
                check_at(item, element, &format!("{path}[{index}]"), out);
            }
        }
        (Type::Map(element), Shape::Object(object)) => {
            for (key, value) in object.iter() {
                let key = key_name(key).unwrap_or_else(|| "<key>".to_owned());
                check_at(value.expr(), element, &format!("{path}[{key:?}]"), out);
            }
        }
        (
            Type::Object {
                attributes,
                optional,
            },
            Shape::Object(object),
        ) => {
            let mut all_keys_known = true;
            let mut seen = Vec::new();
            for (key, value) in object.iter() {
                let Some(name) = key_name(key) else {
                    all_keys_known = false;
                    continue;
                };
                match attributes.get(&name) {
                    Some(attribute) => {
                        check_at(value.expr(), attribute, &format!("{path}.{name}"), out)
                    }
                    None => out.push(Mismatch {
                        span: key_span(key),
                        severity: Severity::Warning,
                        path: path.to_owned(),
                        detail: format!(
                            "attribute \"{name}\" is not in the object type and will be discarded"
                        ),
                    }),
                }
                seen.push(name);
            }
            if all_keys_known {
                for name in attributes.keys() {
                    if !optional.contains(name) && !seen.contains(name) {
                        out.push(mismatch(
                            Severity::Error,
                            format!("attribute \"{name}\" is required"),
                        ));
                    }
                }
            }
        }
        (ty, found) => out.push(mismatch(
            Severity::Error,
            format!("{ty} required, got {}", describe(found)),
        )),
    }
}

fn shape(expr: &Expression) -> Shape<'_> {
    match expr {
        Expression::Null(_) => Shape::Null,
        Expression::Bool(_) => Shape::Bool,
        Expression::Number(_) => Shape::Number,
        Expression::String(text) => Shape::String(text.value().clone()),
        Expression::StringTemplate(template) => literal_template(template),
        Expression::HeredocTemplate(heredoc) => literal_template(&heredoc.template),
        Expression::Array(array) => Shape::Tuple(array),
        Expression::Object(object) => Shape::Object(object),
        Expression::Parenthesis(inner) => shape(inner.inner()),
        _ => Shape::Unknown,
    }
}

/// A template without interpolations or directives is a literal string.
fn literal_template(template: &Template) -> Shape<'_> {
    let mut text = String::new();
    for element in template.iter() {
        match element {
            Element::Literal(literal) => text.push_str(literal.value()),
            _ => return Shape::Unknown,
        }
    }
    Shape::String(text)
}

/// The key of an object literal entry, unless it is computed.
fn key_name(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Ident(ident) => Some(ident.value().to_string()),
        ObjectKey::Expression(expr) => match shape(expr) {
            Shape::String(text) => Some(text),
            _ => None,
        },
    }
}

fn key_span(key: &ObjectKey) -> Option<Range<usize>> {
    match key {
        ObjectKey::Ident(ident) => ident.span(),
        ObjectKey::Expression(expr) => expr.span(),
    }
}

/// Whether cty would parse a string as a number.
fn is_number(text: &str) -> bool {
    text.parse::<f64>().is_ok_and(|number| !number.is_nan())
}

fn describe(found: &Shape<'_>) -> String {
    match found {
        Shape::Unknown => "an unknown value".to_owned(),
        Shape::Null => "null".to_owned(),
        Shape::Bool => "bool".to_owned(),
        Shape::Number => "number".to_owned(),
        Shape::String(text) => format!("string {text:?}"),
        Shape::Tuple(array) if array.len() == 1 => "tuple with 1 element".to_owned(),
        Shape::Tuple(array) => format!("tuple with {} elements", array.len()),
        Shape::Object(_) => "object".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn details(source: &str, ty: &Type) -> Vec<String> {
        let expr: Expression = hcl::edit::parser::parse_expr(source).expect("valid expression");
        check(&expr, ty)
            .into_iter()
            .map(|m| format!("{}{}: {}", m.severity, m.path, m.detail))
            .collect()
    }

    fn list(ty: Type) -> Type {
        Type::List(Box::new(ty))
    }

    #[test]
    fn primitive_conversions_follow_cty() {
        for (source, ty) in [
            ("5", Type::String),
            ("true", Type::String),
            ("\"5\"", Type::Number),
            ("\"-1.5e3\"", Type::Number),
            ("\"true\"", Type::Bool),
            ("\"0\"", Type::Bool),
            ("null", Type::Number),
            ("var.x", Type::Number),
            ("\"${var.x}\"", Type::Number),
            ("[1, 2]", Type::Dynamic),
            ("(3)", Type::Number),
        ] {
            assert_eq!(
                details(source, &ty),
                Vec::<String>::new(),
                "{source} as {ty}"
            );
        }
        assert_eq!(
            details("\"three\"", &Type::Number),
            ["error: number required, got string \"three\""]
        );
        assert_eq!(
            details("1", &Type::Bool),
            ["error: bool required, got number"]
        );
        assert_eq!(
            details("\"True\"", &Type::Bool),
            ["error: bool required, got string \"True\""]
        );
        assert_eq!(
            details("true", &Type::Number),
            ["error: number required, got bool"]
        );
        assert_eq!(
            details("[\"a\"]", &Type::String),
            ["error: string required, got tuple with 1 element"]
        );
        assert_eq!(
            details("{}", &Type::String),
            ["error: string required, got object"]
        );
    }

    #[test]
    fn collections_are_checked_element_by_element() {
        assert_eq!(
            details("[\"a\", 1, var.x]", &list(Type::String)),
            Vec::<String>::new()
        );
        assert_eq!(
            details("[\"a\", [\"b\"], var.x]", &list(Type::String)),
            ["error[1]: string required, got tuple with 1 element"]
        );
        assert_eq!(
            details("{ a = 1 }", &list(Type::String)),
            ["error: list of string required, got object"]
        );
        assert_eq!(
            details(
                "{ a = \"x\", \"b\" = [] }",
                &Type::Map(Box::new(Type::String))
            ),
            ["error[\"b\"]: string required, got tuple with 0 elements"]
        );
        assert_eq!(
            details("[1]", &Type::Map(Box::new(Type::String))),
            ["error: map of string required, got tuple with 1 element"]
        );
    }

    #[test]
    fn objects_need_their_attributes_and_drop_extra_ones() {
        let object = Type::Object {
            attributes: BTreeMap::from([
                ("key".to_owned(), Type::String),
                ("count".to_owned(), Type::Number),
            ]),
            optional: BTreeSet::from(["count".to_owned()]),
        };
        assert_eq!(
            details("[{ key = \"a\" }]", &list(object.clone())),
            Vec::<String>::new()
        );
        assert_eq!(
            details("[{ count = \"x\", extra = 1 }]", &list(object.clone())),
            [
                "error[0].count: number required, got string \"x\"",
                "warning[0]: attribute \"extra\" is not in the object type and will be discarded",
                "error[0]: attribute \"key\" is required",
            ]
        );
        // A computed key might be the missing attribute.
        assert_eq!(
            details("{ (var.k) = \"a\" }", &object),
            Vec::<String>::new()
        );
    }
}
