//! Environments: the ordered promotion chain every change goes through, and local ones beside it.
//!
//! The first environment of the chain is internal (every change is validated there first); the
//! rest are external, in promotion order. One of them is the base that all others inherit from.
//!
//! A *local* environment (`[environments.<name>] local = true`, not listed in `[platform]
//! environments`) is a development environment outside the chain, as Kubestack's `loc` was:
//! it inherits from the base like any environment and is resolved, generated and applied, but
//! it is never promoted to, never gates a promotion and never counts as the chain's.

use crate::value::Origin;

/// What a component or environment separates, declared beside its configuration, so the advisor
/// reasons over declarations rather than guesses from names.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Intent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
}

impl Intent {
    pub fn is_empty(&self) -> bool {
        self.tenant.is_none() && self.stage.is_none() && self.workload.is_none()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Prod,
    NonProd,
}

impl Stage {
    pub const NAMES: &'static [&'static str] = &["prod", "non-prod"];

    pub fn parse(s: &str) -> Option<Stage> {
        match s {
            "prod" => Some(Stage::Prod),
            "non-prod" => Some(Stage::NonProd),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Prod => "prod",
            Stage::NonProd => "non-prod",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Environment {
    pub name: String,
    pub intent: Intent,
    /// Where the name appears in `[platform] environments` (a local environment: its
    /// `[environments.<name>]` table).
    pub origin: Origin,
    /// Outside the promotion chain (see the module documentation).
    pub local: bool,
}

/// The promotion chain and its base, and the local environments beside the chain.
#[derive(Clone, Debug, PartialEq)]
pub struct Environments {
    pub chain: Vec<Environment>,
    /// Index of the base environment in `chain`.
    pub base: usize,
    /// Development environments outside the chain, in the order declared.
    pub local: Vec<Environment>,
}

impl Environments {
    /// Every environment: the chain in promotion order, then the local ones. Everything that
    /// is resolved, generated or applied per environment uses these.
    pub fn names(&self) -> impl Iterator<Item = &str> + Clone {
        self.all().map(|e| e.name.as_str())
    }

    /// The promotion chain only.
    pub fn chain_names(&self) -> impl Iterator<Item = &str> + Clone {
        self.chain.iter().map(|e| e.name.as_str())
    }

    /// Every environment, as [`Environments::names`] orders them.
    pub fn all(&self) -> impl Iterator<Item = &Environment> + Clone {
        self.chain.iter().chain(&self.local)
    }

    /// The position of `name` among every environment ([`Environments::names`]'s order): the
    /// chain's positions first, so a chain environment's index is its place in the chain.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names().position(|e| e == name)
    }

    /// The environment at [`Environments::index`] `i`.
    pub fn get(&self, i: usize) -> Option<&Environment> {
        self.all().nth(i)
    }

    /// Whether `name` is a local environment (outside the chain).
    pub fn is_local(&self, name: &str) -> bool {
        self.local.iter().any(|e| e.name == name)
    }

    pub fn base_name(&self) -> &str {
        &self.chain[self.base].name
    }

    /// The internal environment: the first of the chain.
    pub fn internal(&self) -> &str {
        &self.chain[0].name
    }

    /// The environment a revision must have been applied to before `name`, if any: never for
    /// the internal environment, nor for a local one (outside the chain).
    pub fn previous(&self, name: &str) -> Option<&str> {
        let i = self.chain.iter().position(|e| e.name == name)?;
        i.checked_sub(1).map(|p| self.chain[p].name.as_str())
    }

    /// The length of the promotion chain (local environments are not part of it).
    pub fn len(&self) -> usize {
        self.chain.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chain.is_empty()
    }
}

/// Environment names become Terraform workspaces and parts of DNS names: lowercase letters,
/// digits and `-`, starting with a letter, at most 30 characters.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an environment name cannot be empty".into());
    }
    if name.len() > 30 {
        return Err(format!(
            "environment names have at most 30 characters; `{name}` has {}",
            name.len()
        ));
    }
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "environment `{name}` must be lowercase letters, digits and `-`, start with a letter and not end with `-` (it becomes part of DNS names)"
        ))
    }
}

/// Component keys (clusters, node pools, services) name files, directories and Terraform
/// modules: lowercase letters, digits, `_` and `-`, starting with a letter.
pub fn check_component_key(key: &str) -> Result<(), String> {
    let ok = !key.is_empty()
        && key.len() <= 63
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{key}` is not a valid key: use 1 to 63 lowercase letters, digits, `_` and `-`, starting with a letter"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("ops").is_ok());
        assert!(check_name("apps-prod").is_ok());
        assert!(check_name("Apps").is_err());
        assert!(check_name("apps_prod").is_err());
        assert!(check_name("-x").is_err());
        assert!(check_name("").is_err());
        assert!(check_component_key("eks_zero").is_ok());
        assert!(check_component_key("ingress-nginx").is_ok());
        assert!(check_component_key("../x").is_err());
        assert!(check_component_key("a/b").is_err());
        assert!(check_component_key("0abc").is_err());
    }
}
