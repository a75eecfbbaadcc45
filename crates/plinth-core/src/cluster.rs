//! Clusters: one per `[clusters.<key>]`, on one provider, with node pools and services.

use crate::component::{Configs, Header};
use crate::naming::Metadata;
use crate::node_pool::{NodePoolDef, ResolvedPool};
use crate::provider::Provider;
use crate::service::{ResolvedService, ServiceDef};
use crate::source::FileId;
use crate::value::{Origin, Table};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct ClusterDef {
    pub key: String,
    pub provider: &'static Provider,
    pub header: Arc<Header>,
    pub configs: Configs,
    pub node_pools: BTreeMap<String, NodePoolDef>,
    pub services: BTreeMap<String, ServiceDef>,
    /// The cluster's key (or its file's start when defined in `clusters/<key>.toml`).
    pub origin: Origin,
    pub file: FileId,
    /// The Kubestack module an import made it from (`[kubestack]`), for the state migration.
    pub kubestack: Option<crate::import::migrate::KubestackOrigin>,
}

/// A cluster resolved for one environment.
#[derive(Clone, Debug)]
pub struct ResolvedCluster {
    pub key: String,
    pub provider: &'static Provider,
    pub region: String,
    pub meta: Metadata,
    pub config: Table,
    pub node_pools: BTreeMap<String, ResolvedPool>,
    pub services: BTreeMap<String, ResolvedService>,
    pub header: Arc<Header>,
}
