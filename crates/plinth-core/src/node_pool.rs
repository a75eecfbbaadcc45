//! Node pools: groups of identical nodes in a cluster, with their own per-environment config.

use crate::component::{Configs, Header};
use crate::provider::PoolShape;
use crate::value::{Origin, Table};

/// The pool created with the cluster (Kubestack's `default_node_pool`).
pub const DEFAULT_POOL: &str = "default";

#[derive(Clone, Debug)]
pub struct NodePoolDef {
    pub key: String,
    pub header: Header,
    pub configs: Configs,
    pub origin: Origin,
}

/// A node pool resolved for one environment.
#[derive(Clone, Debug)]
pub struct ResolvedPool {
    pub key: String,
    /// The provider-side name (the pool's name key, or its key).
    pub name: String,
    pub config: Table,
    pub shape: PoolShape,
    pub header: Header,
}
