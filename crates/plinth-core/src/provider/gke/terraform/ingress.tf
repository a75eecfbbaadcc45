locals {
  ingress = !var.config.disable_default_ingress
}

# Kubestack's default ingress: a reserved regional IP for the ingress controller's load
# balancer (Service `loadBalancerIP`), and a Cloud DNS zone for the cluster's fqdn, signed with
# DNSSEC, with the host and a `*` record. Delegate the zone from its parent with the
# `default_ingress.name_servers` output (and publish its DS record there for DNSSEC).
resource "google_compute_address" "ingress" {
  count = local.ingress ? 1 : 0

  name   = var.metadata.name
  region = var.metadata.region
  labels = local.labels
}

resource "google_dns_managed_zone" "current" {
  count = local.ingress ? 1 : 0

  # Zone names are at most 63 lowercase letters, digits and `-`.
  name     = substr(replace(var.metadata.name, "_", "-"), 0, 63)
  dns_name = "${var.metadata.fqdn}."
  labels   = local.labels

  dnssec_config {
    state = "on"
  }
}

resource "google_dns_record_set" "host" {
  count = local.ingress ? 1 : 0

  managed_zone = google_dns_managed_zone.current[0].name
  name         = google_dns_managed_zone.current[0].dns_name
  type         = "A"
  ttl          = 300
  rrdatas      = [google_compute_address.ingress[0].address]
}

resource "google_dns_record_set" "wildcard" {
  count = local.ingress ? 1 : 0

  managed_zone = google_dns_managed_zone.current[0].name
  name         = "*.${google_dns_managed_zone.current[0].dns_name}"
  type         = "A"
  ttl          = 300
  rrdatas      = [google_compute_address.ingress[0].address]
}
