//! Node pools: groups of identical nodes in a cluster, with their own per-environment config.

use crate::component::{Configs, Header};
use crate::provider::{PoolShape, Provider};
use crate::value::{Origin, Table};
use std::sync::{Arc, OnceLock};

/// The pool created with the cluster (Kubestack's `default_node_pool`).
pub const DEFAULT_POOL: &str = "default";

#[derive(Clone, Debug)]
pub struct NodePoolDef {
    pub key: String,
    pub header: Arc<Header>,
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
    pub header: Arc<Header>,
    /// What the pool is made of, worked out when first asked: `show`, `validate` and
    /// `generate` never ask, and a platform has tens of thousands of resolved pools.
    shape: OnceLock<Box<PoolShape>>,
    provider: &'static Provider,
    /// The cluster's resolved configuration (shared, not copied), which some shapes read.
    cluster_config: Table,
}

impl ResolvedPool {
    pub fn new(
        key: String,
        name: String,
        config: Table,
        header: Arc<Header>,
        provider: &'static Provider,
        cluster_config: Table,
    ) -> ResolvedPool {
        ResolvedPool {
            key,
            name,
            config,
            header,
            shape: OnceLock::new(),
            provider,
            cluster_config,
        }
    }

    /// Sizes, architecture, taints and zones, from the resolved configuration.
    pub fn shape(&self) -> &PoolShape {
        self.shape.get_or_init(|| {
            Box::new((self.provider.pool_shape)(
                &self.key,
                &self.config,
                &self.cluster_config,
            ))
        })
    }
}
