locals {
  # Service account ids have 6 to 30 characters `[a-z][a-z0-9-]*[a-z0-9]`. Kubestack takes the
  # first 30 characters of the cluster name; a `-` that cut leaves at the end is dropped, and a
  # name too short is padded.
  account_id = replace(substr(var.metadata.name, 0, 30), "/-+$/", "")
}

# The nodes' service account, for pools without a `service_account_email` of their own: only
# the roles nodes need to write logs and metrics (not the broad Compute Engine default account).
resource "google_service_account" "nodes" {
  account_id   = length(local.account_id) < 6 ? "${local.account_id}-nodes" : local.account_id
  display_name = "GKE nodes of ${var.metadata.name}"
}

resource "google_project_iam_member" "nodes" {
  for_each = toset([
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
  ])

  project = var.config.project_id
  role    = each.value
  member  = google_service_account.nodes.member
}
