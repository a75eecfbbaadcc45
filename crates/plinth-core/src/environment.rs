//! Environments: the ordered promotion chain every change goes through.
//!
//! The first environment is internal (every change is validated there first); the rest are
//! external, in promotion order. One of them is the base that all others inherit from.

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
    /// Where the name appears in `[platform] environments`.
    pub origin: Origin,
}

/// The promotion chain and its base.
#[derive(Clone, Debug, PartialEq)]
pub struct Environments {
    pub chain: Vec<Environment>,
    /// Index of the base environment in `chain`.
    pub base: usize,
}

impl Environments {
    pub fn names(&self) -> impl Iterator<Item = &str> + Clone {
        self.chain.iter().map(|e| e.name.as_str())
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.chain.iter().position(|e| e.name == name)
    }

    pub fn base_name(&self) -> &str {
        &self.chain[self.base].name
    }

    /// The internal environment: the first of the chain.
    pub fn internal(&self) -> &str {
        &self.chain[0].name
    }

    /// The environment a revision must have been applied to before `name`, if any.
    pub fn previous(&self, name: &str) -> Option<&str> {
        let i = self.index(name)?;
        i.checked_sub(1).map(|p| self.chain[p].name.as_str())
    }

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
