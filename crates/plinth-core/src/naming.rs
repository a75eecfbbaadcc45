//! Cluster names, domains, labels and tags, by Kubestack's metadata rules, and the providers'
//! real limits that Kubestack does not check.

use std::collections::BTreeMap;

/// The inputs of a cluster's metadata.
#[derive(Clone, Debug)]
pub struct NameParts<'a> {
    pub name_prefix: &'a str,
    pub environment: &'a str,
    pub region: &'a str,
    pub delimiter: &'a str,
    pub base_domain: &'a str,
    /// `aws`, `azure`, `gcp` or `kind`.
    pub provider_name: &'a str,
    pub label_namespace: &'a str,
}

/// A cluster's derived identity in one environment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Metadata {
    pub name: String,
    pub domain: String,
    pub fqdn: String,
    pub labels: BTreeMap<String, String>,
    pub tags: Vec<String>,
}

/// `name` = the non-empty parts of [name_prefix, environment, region] joined by the delimiter.
pub fn name(p: &NameParts<'_>) -> String {
    [p.name_prefix, p.environment, p.region]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(p.delimiter)
}

/// `domain` = provider name, then the non-empty dot-separated parts of the base domain.
pub fn domain(provider_name: &str, base_domain: &str) -> String {
    std::iter::once(provider_name)
        .chain(base_domain.split('.').filter(|s| !s.is_empty()))
        .collect::<Vec<_>>()
        .join(".")
}

pub fn metadata(p: &NameParts<'_>) -> Metadata {
    let name = name(p);
    let domain = domain(p.provider_name, p.base_domain);
    let fqdn = format!("{name}.{domain}");
    let ns = p.label_namespace;
    let labels = [
        ("cluster_name", name.as_str()),
        ("cluster_domain", domain.as_str()),
        ("cluster_fqdn", fqdn.as_str()),
        ("cluster_workspace", p.environment),
        ("cluster_provider_name", p.provider_name),
        ("cluster_provider_region", p.region),
    ]
    .into_iter()
    .map(|(k, v)| (format!("{ns}{k}"), v.to_string()))
    .collect();
    let tags = vec![
        name.clone(),
        p.environment.to_string(),
        p.provider_name.to_string(),
        p.region.to_string(),
    ];
    Metadata {
        name,
        domain,
        fqdn,
        labels,
        tags,
    }
}

/// Azure tag keys cannot hold `/`: AKS uses the label namespace with a trailing `/` as `-`.
pub fn azure_label_namespace(ns: &str) -> String {
    match ns.strip_suffix('/') {
        Some(stem) => format!("{stem}-"),
        None => ns.to_string(),
    }
}

/// A problem with a derived name, and which input to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameProblem {
    pub message: String,
    pub hint: String,
}

/// Limits every cluster shares: DNS labels and the fqdn.
pub fn check_dns(meta: &Metadata, p: &NameParts<'_>) -> Vec<NameProblem> {
    let mut out = Vec::new();
    if !is_hostname_label(&meta.name) {
        out.push(NameProblem {
            message: format!(
                "cluster name `{}` is not a valid DNS label (lowercase letters, digits and `-`, at most 63 characters)",
                meta.name
            ),
            hint: shorten_hint(p, 63, &meta.name),
        });
    }
    for label in meta.domain.split('.') {
        if label.len() > 63 {
            out.push(NameProblem {
                message: format!("domain label `{label}` is longer than 63 characters"),
                hint: "shorten `base_domain`".into(),
            });
        }
    }
    if meta.fqdn.len() > 253 {
        out.push(NameProblem {
            message: format!(
                "fqdn `{}` is {} characters; DNS allows 253",
                meta.fqdn,
                meta.fqdn.len()
            ),
            hint: format!(
                "shorten `base_domain` ({} characters) or the name",
                p.base_domain.len()
            ),
        });
    }
    out
}

/// Kubernetes label values: at most 63 characters, empty or alphanumeric at both ends with
/// `-`, `_` and `.` between (the API server refuses anything else).
pub fn check_label_value(v: &str) -> Result<(), String> {
    if v.len() > 63 {
        return Err(format!(
            "{} characters long (Kubernetes allows 63)",
            v.len()
        ));
    }
    if v.is_empty() || is_label_name(v) {
        Ok(())
    } else {
        Err("not a Kubernetes label value (letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit)".into())
    }
}

/// Kubernetes label keys: an optional DNS subdomain prefix (at most 253 characters) and `/`,
/// then a name of at most 63 characters like a label value, not empty.
pub fn check_label_key(k: &str) -> Result<(), String> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix
        && (p.is_empty() || p.len() > 253 || !p.split('.').all(crate::keys::is_dns_label))
    {
        return Err(format!(
            "the prefix `{p}` is not a lowercase DNS subdomain of at most 253 characters"
        ));
    }
    if name.is_empty() || name.len() > 63 || !is_label_name(name) {
        return Err(format!(
            "the name `{name}` must have 1 to 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

fn is_label_name(s: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    alnum(s.chars().next())
        && alnum(s.chars().last())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Every metadata label must be a valid Kubernetes label (they label every service resource):
/// each problem names the label and which input to shorten or change.
pub fn check_labels(meta: &Metadata, p: &NameParts<'_>) -> Vec<NameProblem> {
    let mut out = Vec::new();
    for (key, value) in &meta.labels {
        if let Err(e) = check_label_key(key) {
            out.push(NameProblem {
                message: format!("metadata label key `{key}` is not a Kubernetes label key: {e}"),
                hint: format!(
                    "change `[platform] label_namespace` (`{}`)",
                    p.label_namespace
                ),
            });
        }
        let Err(e) = check_label_value(value) else {
            continue;
        };
        let part = key.strip_prefix(p.label_namespace).unwrap_or(key);
        let hint = match part {
            "cluster_name" => shorten_hint(p, 63, value),
            "cluster_domain" => format!(
                "the domain is the provider name `{}` and `base_domain` `{}` ({} characters): shorten `base_domain`",
                p.provider_name,
                p.base_domain,
                p.base_domain.len()
            ),
            "cluster_fqdn" => format!(
                "the value is the fqdn `{value}`: the name `{}` ({} characters) and the domain `{}` ({} characters); shorten `base_domain`, or the name's {}",
                meta.name,
                meta.name.len(),
                meta.domain,
                meta.domain.len(),
                longest_part(p)
            ),
            "cluster_workspace" => "shorten the environment's name".to_string(),
            "cluster_provider_region" => "the region is used as it is: check `region`".to_string(),
            _ => format!("change the value of `additional_metadata_labels.{key}`"),
        };
        out.push(NameProblem {
            message: format!("the value of metadata label `{key}` is {e}"),
            hint,
        });
    }
    out
}

/// The longest part of a name one may shorten, e.g. "`name_prefix` (12)".
fn longest_part(p: &NameParts<'_>) -> String {
    [("name_prefix", p.name_prefix), ("region", p.region)]
        .into_iter()
        .max_by_key(|(_, v)| v.len())
        .map(|(k, v)| format!("`{k}` ({} characters)", v.len()))
        .unwrap_or_default()
}

fn is_hostname_label(s: &str) -> bool {
    crate::keys::is_dns_label(s)
}

/// Tells which part of a too-long or invalid name to shorten, with each part's length.
pub fn shorten_hint(p: &NameParts<'_>, limit: usize, name: &str) -> String {
    let parts = [
        ("name_prefix", p.name_prefix),
        ("environment", p.environment),
        ("region", p.region),
    ];
    let detail = parts
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k} `{v}` ({})", v.len()))
        .collect::<Vec<_>>()
        .join(" + ");
    let invalid: Vec<_> = parts
        .iter()
        .filter(|(_, v)| {
            v.chars()
                .any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        })
        .map(|(k, _)| format!("`{k}`"))
        .collect();
    if name.len() > limit {
        let over = name.len() - limit;
        let longest = parts
            .iter()
            .filter(|(k, _)| *k != "environment")
            .max_by_key(|(_, v)| v.len());
        let what = longest.map_or("name_prefix".to_string(), |(k, _)| (*k).to_string());
        format!(
            "the name is {} characters, {over} over the limit of {limit}: {detail}; shorten `{what}`",
            name.len()
        )
    } else if !invalid.is_empty() {
        format!(
            "use only lowercase letters, digits and `-` in {}",
            invalid.join(" and ")
        )
    } else {
        format!("the name is built from {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(
        prefix: &'a str,
        env: &'a str,
        region: &'a str,
        provider: &'a str,
        base: &'a str,
    ) -> NameParts<'a> {
        NameParts {
            name_prefix: prefix,
            environment: env,
            region,
            delimiter: "-",
            base_domain: base,
            provider_name: provider,
            label_namespace: "kubestack.com/",
        }
    }

    #[test]
    fn kubestack_worked_check() {
        let m = metadata(&parts(
            "testn",
            "test_defaults",
            "testr",
            "testp",
            "testd.example.com",
        ));
        assert_eq!(m.name, "testn-test_defaults-testr");
        assert_eq!(m.domain, "testp.testd.example.com");
        assert_eq!(m.fqdn, "testn-test_defaults-testr.testp.testd.example.com");
        assert_eq!(
            m.tags,
            [
                "testn-test_defaults-testr",
                "test_defaults",
                "testp",
                "testr"
            ]
        );
        assert_eq!(m.labels["kubestack.com/cluster_workspace"], "test_defaults");
        assert_eq!(m.labels.len(), 6);
    }

    #[test]
    fn empty_parts_are_skipped() {
        let p = parts("", "ops", "europe-west3", "gcp", "");
        assert_eq!(name(&p), "ops-europe-west3");
        assert_eq!(domain("gcp", ""), "gcp");
        assert_eq!(
            domain("gcp", ".infra..example.com"),
            "gcp.infra.example.com"
        );
        let mut p = parts("kbst", "ops", "europe-west3", "gcp", "");
        p.delimiter = "";
        assert_eq!(name(&p), "kbstopseurope-west3");
    }

    #[test]
    fn azure_namespace() {
        assert_eq!(azure_label_namespace("kubestack.com/"), "kubestack.com-");
        assert_eq!(azure_label_namespace("example.org-"), "example.org-");
    }

    /// Regression (issue 17): with a long base domain the fqdn label value had 67 characters,
    /// which the API server refuses, and nothing said so.
    #[test]
    fn a_metadata_label_over_63_characters_names_the_part_to_shorten() {
        let p = parts(
            "kbst",
            "apps",
            "eu-west-1",
            "aws",
            "platform.infrastructure.example.com",
        );
        let m = metadata(&p);
        assert_eq!(m.fqdn.len(), 59);
        assert!(check_labels(&m, &p).is_empty());
        let p = parts(
            "kbst",
            "apps",
            "eu-west-1",
            "aws",
            "kubernetes.platform-infrastructure.acme.com",
        );
        let m = metadata(&p);
        let problems = check_labels(&m, &p);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].message.contains("kubestack.com/cluster_fqdn"),
            "{}",
            problems[0].message
        );
        assert!(
            problems[0].message.contains("67 characters long"),
            "{}",
            problems[0].message
        );
        assert!(
            problems[0].hint.contains("shorten `base_domain`"),
            "{}",
            problems[0].hint
        );
    }

    #[test]
    fn label_syntax() {
        assert!(check_label_value("").is_ok());
        assert!(check_label_value("kbst-apps_eu.west-1").is_ok());
        assert!(check_label_value("-x").is_err());
        assert!(check_label_value("a b").is_err());
        assert!(check_label_value(&"x".repeat(64)).is_err());
        assert!(check_label_key("kubestack.com/cluster_fqdn").is_ok());
        assert!(check_label_key("kubestack.com-cluster_fqdn").is_ok());
        assert!(check_label_key("Kubestack.com/x").is_err());
        assert!(check_label_key("example.com/").is_err());
        assert!(check_label_key(&format!("example.com/{}", "x".repeat(64))).is_err());
    }

    #[test]
    fn too_long_names_say_what_to_shorten() {
        let long = "x".repeat(50);
        let p = parts(&long, "ops", "europe-west3", "gcp", "example.com");
        let m = metadata(&p);
        let problems = check_dns(&m, &p);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].hint.contains("shorten `name_prefix`"),
            "{}",
            problems[0].hint
        );
    }
}
