locals {
  # Kubestack's aws-auth mappings (`cluster_aws_auth_map_roles` and `_users`) as EKS access
  # entries, which need no Kubernetes provider. Groups map as follows (Plinth's validation
  # refuses any other `system:` group, which access entries cannot hold):
  # - `system:masters`: the AmazonEKSClusterAdminPolicy access policy, cluster-wide;
  # - `system:bootstrappers` or `system:nodes` (a node role's mapping): an EC2_LINUX entry, which
  #   takes neither a user name nor groups;
  # - any other group: a Kubernetes group of the entry, bound by the cluster's own RBAC.
  map_roles  = var.config.cluster_aws_auth_map_roles == null ? [] : var.config.cluster_aws_auth_map_roles
  map_users  = var.config.cluster_aws_auth_map_users == null ? [] : var.config.cluster_aws_auth_map_users
  node_group = ["system:bootstrappers", "system:nodes"]

  access = merge(
    { for m in local.map_roles : m.rolearn => { username = m.username, groups = m.groups == null ? [] : m.groups } },
    { for m in local.map_users : m.userarn => { username = m.username, groups = m.groups == null ? [] : m.groups } },
  )
  access_entries = {
    for arn, m in local.access : arn => {
      node     = length(setintersection(m.groups, local.node_group)) > 0
      username = m.username
      groups   = [for g in m.groups : g if !startswith(g, "system:")]
      admin    = contains(m.groups, "system:masters")
    }
  }
}

resource "aws_eks_access_entry" "current" {
  for_each = local.access_entries

  cluster_name      = aws_eks_cluster.current.name
  principal_arn     = each.key
  type              = each.value.node ? "EC2_LINUX" : "STANDARD"
  user_name         = each.value.node ? null : each.value.username
  kubernetes_groups = each.value.node || length(each.value.groups) == 0 ? null : each.value.groups

  tags = local.tags
}

resource "aws_eks_access_policy_association" "admin" {
  for_each = { for arn, entry in local.access_entries : arn => entry if entry.admin && !entry.node }

  cluster_name  = aws_eks_cluster.current.name
  principal_arn = aws_eks_access_entry.current[each.key].principal_arn
  policy_arn    = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

  access_scope {
    type = "cluster"
  }
}
